"""Legal grounds as data: the shipped seed, the forms -> grounds selector, and audited edits in the admin."""

import json
from pathlib import Path

import pytest

from vangnet.audit.models import Event
from vangnet.taxonomy.choices import SorCategory, TaxonomyEvent
from vangnet.taxonomy.models import FormOfViolence, LegalGround
from vangnet.taxonomy.selectors import legal_grounds_for_forms

pytestmark = pytest.mark.django_db

SEED = json.loads((Path(__file__).resolve().parents[1] / "seed" / "legal_grounds.json").read_text())


def test_seed_is_loaded_with_its_forms() -> None:
    assert set(LegalGround.objects.values_list("slug", flat=True)) == {row["slug"] for row in SEED}
    for row in SEED:
        ground = LegalGround.objects.get(slug=row["slug"])
        assert sorted(ground.forms.values_list("slug", flat=True)) == sorted(row["forms"])
        assert ground.sor_category in SorCategory.values
        assert ground.needs_checking  # nothing shipped counts as checked
    assert LegalGround.objects.get(slug="belaging").provision == "art. 285b Wetboek van Strafrecht"
    doxing = LegalGround.objects.get(slug="doxing")
    assert doxing.provision == "art. 285d Wetboek van Strafrecht" and str(doxing.in_force_from) == "2024-01-01"


def test_seeded_article_numbers_come_only_from_the_brief() -> None:
    """Only 285b and 285d are given in SYSTEM.md; every other ground waits for an administrator."""
    with_number = {g.slug: g.provision for g in LegalGround.objects.exclude(provision="")}
    assert with_number == {"belaging": "art. 285b Wetboek van Strafrecht",
                           "doxing": "art. 285d Wetboek van Strafrecht"}
    for ground in LegalGround.objects.filter(provision=""):
        assert "TO BE CHECKED BY AN ADMINISTRATOR" in ground.source_note
        assert ground.citation == ground.law


def test_every_seeded_form_slug_exists() -> None:
    known = set(FormOfViolence.objects.values_list("slug", flat=True))
    assert {slug for row in SEED for slug in row["forms"]} <= known


def test_legal_grounds_for_forms_accepts_instances_ids_and_slugs() -> None:
    doxing = FormOfViolence.objects.get(slug="doxing")
    threats = FormOfViolence.objects.get(slug="threats")
    assert [g.slug for g in legal_grounds_for_forms([doxing, threats.pk])] == ["doxing", "bedreiging"]
    assert [g.slug for g in legal_grounds_for_forms(["threats", "doxing", "doxing"])] == ["doxing", "bedreiging"]
    assert legal_grounds_for_forms([]) == []
    assert legal_grounds_for_forms(["other"]) == []


def test_a_ground_shared_by_forms_comes_once_and_retired_grounds_never() -> None:
    grounds = legal_grounds_for_forms(["non-consensual-intimate-images", "deepfake-nudes", "cyberstalking"])
    assert [g.slug for g in grounds] == ["belaging", "seksuele-beelden-zonder-toestemming"]
    LegalGround.objects.filter(slug="belaging").update(is_active=False)
    assert [g.slug for g in legal_grounds_for_forms(["cyberstalking", "doxing"])] == ["doxing"]


def test_a_retired_form_keeps_its_grounds() -> None:
    FormOfViolence.objects.filter(slug="doxing").update(is_active=False)
    assert [g.slug for g in legal_grounds_for_forms(["doxing"])] == ["doxing"]


@pytest.fixture
def admin_client(client, django_user_model):
    client.force_login(django_user_model.objects.create_superuser(username="root", password="pw-0123456789-abc"))
    return client


def _post_data(ground: LegalGround, **changes: object) -> dict[str, object]:
    data: dict[str, object] = {
        "name_nl": ground.name_nl, "name_en": ground.name_en, "slug": ground.slug, "is_active": "on",
        "sort_order": ground.sort_order, "provision": ground.provision, "law": ground.law,
        "in_force_from": ground.in_force_from or "", "sor_category": ground.sor_category,
        "explanation_nl": ground.explanation_nl, "explanation_en": ground.explanation_en,
        "source_url": ground.source_url, "source_note": ground.source_note, "verified_on": "",
        "forms": list(ground.forms.values_list("pk", flat=True))}
    data.update(changes)
    return data


def test_correcting_an_article_in_the_admin_is_audited(admin_client) -> None:
    ground = LegalGround.objects.get(slug="bedreiging")
    response = admin_client.post(f"/admin/taxonomy/legalground/{ground.pk}/change/", _post_data(
        ground, provision="art. 999 Testwet", source_url="https://wetten.example.org/art999",
        verified_on="2026-11-01", source_note="Checked in a test."))
    assert response.status_code == 302, response.content.decode()[:3000]
    ground.refresh_from_db()
    assert ground.provision == "art. 999 Testwet" and not ground.needs_checking and ground.citation == ground.provision
    event = Event.objects.get(event_type=TaxonomyEvent.LEGAL_GROUND_CHANGED)
    assert event.subject_type == "taxonomy.legalground"
    assert event.data == {"provision": "art. 999 Testwet", "previous_provision": "",
                          "source_url": "https://wetten.example.org/art999", "verified_on": "2026-11-01",
                          "changed": ["source_note"]}


def test_checked_needs_a_provision_and_a_source(admin_client) -> None:
    ground = LegalGround.objects.get(slug="bedreiging")
    response = admin_client.post(f"/admin/taxonomy/legalground/{ground.pk}/change/",
                                 _post_data(ground, verified_on="2026-11-01"))
    assert response.status_code == 200
    ground.refresh_from_db()
    assert ground.verified_on is None and not Event.objects.filter(event_type__startswith="legal_ground").exists()


def test_changing_the_forms_of_a_ground_is_audited(admin_client) -> None:
    ground = LegalGround.objects.get(slug="belaging")
    stalkerware = FormOfViolence.objects.get(slug="stalkerware")
    forms = [*ground.forms.values_list("pk", flat=True), stalkerware.pk]
    response = admin_client.post(f"/admin/taxonomy/legalground/{ground.pk}/change/", _post_data(ground, forms=forms))
    assert response.status_code == 302, response.content.decode()[:3000]
    assert set(ground.forms.values_list("slug", flat=True)) == {"cyberstalking", "stalkerware"}
    event = Event.objects.get(event_type=TaxonomyEvent.LEGAL_GROUND_CHANGED)
    assert event.data == {"forms": ["cyberstalking", "stalkerware"]}
    assert [g.slug for g in legal_grounds_for_forms(["stalkerware"])] == ["belaging"]


def test_adding_a_ground_in_the_admin(admin_client) -> None:
    response = admin_client.post("/admin/taxonomy/legalground/add/", {
        "name_nl": "Testgrond", "name_en": "Test ground", "slug": "test-ground", "is_active": "on",
        "sort_order": "200", "provision": "", "law": "Testwet", "in_force_from": "",
        "sor_category": SorCategory.CYBER_VIOLENCE, "explanation_nl": "Uitleg.", "explanation_en": "",
        "source_url": "", "source_note": "", "verified_on": "", "forms": []})
    assert response.status_code == 302, response.content.decode()[:3000]
    event = Event.objects.get(event_type=TaxonomyEvent.LEGAL_GROUND_CREATED)
    assert event.data["law"] == "Testwet" and event.data["sor_category"] == SorCategory.CYBER_VIOLENCE
    assert admin_client.get("/admin/taxonomy/legalground/").status_code == 200


def test_seed_reference_data_restores_grounds_and_the_coordinator() -> None:
    from vangnet.common.seed import seed_reference_data
    from vangnet.directory.models import DigitalServicesCoordinator

    LegalGround.objects.all().delete()
    DigitalServicesCoordinator.objects.all().delete()
    seed_reference_data()
    assert LegalGround.objects.count() == len(SEED)
    assert list(LegalGround.objects.get(slug="doxing").forms.values_list("slug", flat=True)) == ["doxing"]
    assert DigitalServicesCoordinator.objects.get(slug="acm").country == "NL"
