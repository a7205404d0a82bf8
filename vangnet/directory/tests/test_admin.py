"""Administrators keep providers, domains, coordinators and unknown websites in the admin; every change
goes through a service and is an event."""

import pytest
from django.utils import translation

from vangnet.audit.models import Event
from vangnet.directory import services
from vangnet.directory.choices import DirectoryEvent
from vangnet.directory.models import DigitalServicesCoordinator, Provider, ProviderDomain, UnknownHost
from vangnet.directory.selectors import provider_for_url

from .factories import make_provider

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_user(django_user_model):
    return django_user_model.objects.create_superuser(username="root", password="pw-0123456789-abc")


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def _provider_post(**overrides):
    data = {"name": "Social", "slug": "social", "is_active": "on", "country": "NL", "language": "nl",
            "contact_email": "dsa@social.example.org", "webform_url": "", "api_channel": "", "api_endpoint": "",
            "upstream": "", "coordinator": "", "legal_representative": "", "notes": "",
            "domains-TOTAL_FORMS": "2", "domains-INITIAL_FORMS": "0", "domains-MIN_NUM_FORMS": "0",
            "domains-MAX_NUM_FORMS": "1000", "domains-0-domain": "Social.invalid", "domains-1-domain": ""}
    data.update(overrides)
    return data


def test_adding_a_provider_with_domains_is_audited_and_resolves_at_once(admin_client, admin_user) -> None:
    assert provider_for_url("https://social.invalid/p/1") is None
    response = admin_client.post("/admin/directory/provider/add/", _provider_post())
    assert response.status_code == 302, response.content.decode()[:3000]
    provider = Provider.objects.get(slug="social")
    assert list(provider.domains.values_list("domain", flat=True)) == ["social.invalid"]
    assert provider_for_url("https://social.invalid/p/1") == provider
    created = Event.objects.get(event_type=DirectoryEvent.PROVIDER_CREATED)
    assert created.actor_user_id == admin_user.pk and created.subject_id == str(provider.pk)
    assert created.data["contact_email"] == "dsa@social.example.org" and created.data["language"] == "nl"
    assert Event.objects.get(event_type=DirectoryEvent.PROVIDER_DOMAIN_ADDED).data == {"domain": "social.invalid"}


def test_changing_and_removing_domains_in_the_admin(admin_client) -> None:
    provider = make_provider("social", "social.invalid", "old.invalid")
    rows = {d.domain: d.pk for d in provider.domains.all()}
    data = _provider_post(**{
        "domains-TOTAL_FORMS": "2", "domains-INITIAL_FORMS": "2",
        "domains-0-id": str(rows["old.invalid"]), "domains-0-provider": str(provider.pk),
        "domains-0-domain": "old.invalid", "domains-0-DELETE": "on",
        "domains-1-id": str(rows["social.invalid"]), "domains-1-provider": str(provider.pk),
        "domains-1-domain": "social-media.invalid", "contact_email": "new@social.example.org"})
    response = admin_client.post(f"/admin/directory/provider/{provider.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert list(provider.domains.values_list("domain", flat=True)) == ["social-media.invalid"]
    removed = sorted(e.data["domain"]
                     for e in Event.objects.filter(event_type=DirectoryEvent.PROVIDER_DOMAIN_REMOVED))
    assert removed == ["old.invalid", "social.invalid"]
    changed = Event.objects.get(event_type=DirectoryEvent.PROVIDER_CHANGED)
    assert changed.data == {"contact_email": "new@social.example.org", "country": "NL", "language": "nl"}
    assert provider_for_url("https://social.invalid/") is None
    assert provider_for_url("https://social-media.invalid/") == provider


def test_the_admin_refuses_a_public_suffix_a_taken_domain_and_a_provider_without_contact(admin_client) -> None:
    make_provider("other", "taken.invalid")
    with translation.override("en"):
        for domain, message in [("co.uk", "public suffix"), ("https://x.invalid/", "domain name only"),
                                ("TAKEN.invalid", "already exists")]:
            response = admin_client.post("/admin/directory/provider/add/", _provider_post(**{
                "domains-0-domain": domain}), HTTP_ACCEPT_LANGUAGE="en")
            assert response.status_code == 200 and message in response.content.decode(), domain
        response = admin_client.post("/admin/directory/provider/add/", _provider_post(contact_email=""),
                                     HTTP_ACCEPT_LANGUAGE="en")
        assert response.status_code == 200 and "at least one way to send notices" in response.content.decode()
    assert not Provider.objects.filter(slug="social").exists()


def test_providers_cannot_be_deleted_in_the_admin(admin_client) -> None:
    provider = make_provider("social", "social.invalid")
    assert admin_client.get(f"/admin/directory/provider/{provider.pk}/delete/").status_code == 403


def test_assigning_an_unknown_website_in_the_admin(admin_client, admin_user) -> None:
    services.resolve_provider(url="https://www.mystery.invalid/x")
    provider = make_provider("host-co", "host.invalid")
    host = UnknownHost.objects.get()
    listing = admin_client.get("/admin/directory/unknownhost/?provider__isempty=1")
    assert "mystery.invalid" in listing.content.decode()
    response = admin_client.post(f"/admin/directory/unknownhost/{host.pk}/change/", {"provider": str(provider.pk)})
    assert response.status_code == 302, response.content.decode()[:3000]
    assert provider_for_url("https://mystery.invalid/y") == provider
    assert ProviderDomain.objects.get(domain="mystery.invalid").provider == provider
    event = Event.objects.get(event_type=DirectoryEvent.UNKNOWN_HOST_ASSIGNED)
    assert event.actor_user_id == admin_user.pk and event.data["provider"] == "host-co"
    assert admin_client.get("/admin/directory/unknownhost/add/").status_code == 403


def test_export_action_and_import_view(admin_client) -> None:
    provider = make_provider("social", "social.invalid", name="@SUM(1)")
    response = admin_client.post("/admin/directory/provider/", {"action": "export_csv",
                                                                "_selected_action": [str(provider.pk)]})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    body = response.content
    assert body.startswith(b"\xef\xbb\xbf") and b"'@SUM(1)" in body and b"social.invalid" in body
    assert admin_client.get("/admin/directory/provider/").content.count(b"/admin/directory/provider/import/") == 1
    assert admin_client.get("/admin/directory/provider/import/").status_code == 200
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = SimpleUploadedFile("p.csv", b"slug,name,contact_email\nx,X,nope\n", content_type="text/csv")
    response = admin_client.post("/admin/directory/provider/import/", {"file": bad}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and "Line 2, contact_email" in response.content.decode()
    assert not Provider.objects.filter(slug="x").exists()
    good = SimpleUploadedFile("p.csv", body.replace(b"'@SUM(1)", b"Social"), content_type="text/csv")
    response = admin_client.post("/admin/directory/provider/import/", {"file": good})
    assert response.status_code == 302
    assert Provider.objects.get(slug="social").name == "Social"


def test_import_view_needs_the_admin(client, django_user_model) -> None:
    staff = django_user_model.objects.create_user(username="staffer", password="pw-0123456789-abc", is_staff=True)
    client.force_login(staff)
    assert client.get("/admin/directory/provider/import/").status_code == 403
    client.logout()
    assert client.get("/admin/directory/provider/import/").status_code == 302


def test_coordinator_changes_are_audited(admin_client) -> None:
    acm = DigitalServicesCoordinator.objects.get(slug="acm")
    response = admin_client.post(f"/admin/directory/digitalservicescoordinator/{acm.pk}/change/", {
        "slug": "acm", "name_nl": acm.name_nl, "name_en": acm.name_en, "is_active": "on", "sort_order": "10",
        "country": "NL", "website": "", "complaint_url": "https://complaints.example.org/dsa",
        "complaint_email": "", "notes": acm.notes})
    assert response.status_code == 302, response.content.decode()[:3000]
    event = Event.objects.get(event_type=DirectoryEvent.COORDINATOR_SAVED)
    assert event.data == {"complaint_url": "https://complaints.example.org/dsa"}
