"""Hash banks in the admin and for staff: scoped to one's organisations and the shared banks, changed through the
services (logged), CSV in and out; another organisation's bank does not exist for her."""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib.auth.models import Permission as DjangoPermission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from vangnet.accounts.choices import Role
from vangnet.audit.models import Event
from vangnet.audit.services import Actor
from vangnet.common.testing import make_user
from vangnet.hashing import services
from vangnet.hashing.choices import BankEvent
from vangnet.hashing.models import Bank, BankEntry
from vangnet.hashing.selectors import banks_for_user, entries_for_user, may_change_bank

pytestmark = pytest.mark.django_db
SYSTEM = Actor.system("test")
SHA = "ab" * 32


@pytest.fixture
def banks(helpline, other_org) -> dict[str, Bank]:
    made = {
        "mine": services.create_bank(slug="mine", name="Mine", organisation=helpline, actor=SYSTEM),
        "theirs": services.create_bank(slug="theirs", name="Theirs", organisation=other_org, actor=SYSTEM),
        "shared": services.create_bank(slug="shared", name="Shared", actor=SYSTEM),
    }
    for bank in made.values():
        services.add_entry(bank=bank, sha256=f"{bank.pk:064x}", label=f"label of {bank.slug}", actor=SYSTEM)
    return made


@pytest.fixture
def root(helpline):  # type: ignore[no-untyped-def]
    return make_user("root", organisation=helpline, role=Role.HANDLER, is_superuser=True, is_staff=True)


def test_staff_see_their_organisations_banks_and_the_shared_ones(banks, helpline, other_org, make_staff) -> None:
    handler = make_staff("hanna", helpline, Role.HANDLER)
    analyst = make_staff("ann", helpline, Role.ANALYST)
    outsider = make_staff("olga", other_org, Role.ADMIN)
    assert set(banks_for_user(handler)) == {banks["mine"], banks["shared"]}
    assert set(banks_for_user(outsider)) == {banks["theirs"], banks["shared"]}
    assert not banks_for_user(analyst).exists() and not entries_for_user(analyst).exists()
    assert {e.bank for e in entries_for_user(handler)} == {banks["mine"], banks["shared"]}
    assert may_change_bank(handler, banks["mine"]) and not may_change_bank(handler, banks["theirs"])
    assert not may_change_bank(handler, banks["shared"]) and not may_change_bank(analyst, banks["mine"])
    helpline.is_active = False
    helpline.save(update_fields=["is_active"])
    assert not banks_for_user(handler).exists()


def test_the_admin_lists_only_banks_she_may_see_and_hides_the_others(client, banks, root) -> None:
    client.force_login(root)
    page = client.get("/admin/hashing/bank/").content.decode()
    assert "/admin/hashing/bank/%d/change/" % banks["mine"].pk in page
    assert "/admin/hashing/bank/%d/change/" % banks["shared"].pk in page
    assert "/admin/hashing/bank/%d/change/" % banks["theirs"].pk not in page
    assert client.get(f"/admin/hashing/bank/{banks['theirs'].pk}/change/").status_code == 302
    entries = client.get("/admin/hashing/bankentry/").content.decode()
    assert "label of mine" in entries and "label of shared" in entries and "label of theirs" not in entries
    only_mine = client.get(f"/admin/hashing/bankentry/?bank__id__exact={banks['mine'].pk}").content.decode()
    assert "label of mine" in only_mine and "label of shared" not in only_mine
    assert client.get(f"/admin/hashing/bank/{banks['theirs'].pk}/export/").status_code == 404
    assert client.get(f"/admin/hashing/bank/{banks['theirs'].pk}/import/").status_code == 404


def test_a_bank_saved_in_the_admin_goes_through_the_service(client, root, helpline) -> None:
    client.force_login(root)
    response = client.post("/admin/hashing/bank/add/", {
        "name": "Re-uploads", "slug": "re-uploads", "description": "", "organisation": helpline.pk, "case": "",
        "is_active": "on", "pdq_max_distance": 25, "pdq_min_quality": 60})
    assert response.status_code == 302
    bank = Bank.objects.get(slug="re-uploads")
    assert (bank.pdq_max_distance, bank.pdq_min_quality, bank.version) == (25, 60, 1)
    assert Event.objects.get(event_type=BankEvent.CREATED, subject_id=str(bank.pk)).actor_label == "root"


def test_only_a_superuser_changes_a_shared_bank(client, banks, helpline) -> None:
    staff = make_user("editor", organisation=helpline, role=Role.ADMIN, is_staff=True)
    staff.user_permissions.set(DjangoPermission.objects.filter(content_type__app_label="hashing"))
    client.force_login(staff)
    page = client.get(f"/admin/hashing/bank/{banks['shared'].pk}/change/").content.decode()
    assert "Shared" in page and 'name="name"' not in page, "read only"
    assert client.get(f"/admin/hashing/bank/{banks['shared'].pk}/import/").status_code == 403
    assert client.get(f"/admin/hashing/bank/{banks['mine'].pk}/import/").status_code == 200
    form = client.get("/admin/hashing/bank/add/").content.decode()
    assert '<label class="required" for="id_organisation">' in form, "only a superuser adds a shared bank"


def test_import_and_export_in_the_admin(client, banks, root) -> None:
    client.force_login(root)
    bank = banks["mine"]
    good = "hash_type,hash,label,quality\r\npdq,{},=HYPERLINK(\"x\"),90\r\n".format("cd" * 32).encode()
    with translation.override("en"):
        response = client.post(f"/admin/hashing/bank/{bank.pk}/import/",
                               {"file": SimpleUploadedFile("hashes.csv", good, "text/csv")}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 302 and bank.entries.count() == 2
    bad = good + b"sha256,not-hex,,\r\n"
    response = client.post(f"/admin/hashing/bank/{bank.pk}/import/",
                           {"file": SimpleUploadedFile("bad.csv", bad, "text/csv")}, HTTP_ACCEPT_LANGUAGE="en")
    assert response.status_code == 200 and b"Line 3: the hash must be 64 hexadecimal digits." in response.content
    assert bank.entries.count() == 2
    download = client.get(f"/admin/hashing/bank/{bank.pk}/export/")
    body = b"".join(download.streaming_content).decode("utf-8")
    assert download["Content-Disposition"] == 'attachment; filename="mine.csv"' and body.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(body.removeprefix("\ufeff"))))
    assert ["pdq", "cd" * 32, "'=HYPERLINK(\"x\")", "90"] in rows and len(rows) == 3
    assert Event.objects.filter(event_type=BankEvent.EXPORTED, subject_id=str(bank.pk)).count() == 1
    action = client.post("/admin/hashing/bank/", {"action": "export_csv", "_selected_action": [bank.pk]})
    assert b"".join(action.streaming_content).decode().count("\r\n") == 3


def test_removing_an_entry_or_a_bank_in_the_admin_is_logged(client, banks, root) -> None:
    client.force_login(root)
    entry = BankEntry.objects.get(bank=banks["mine"])
    response = client.post(f"/admin/hashing/bankentry/{entry.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not BankEntry.objects.filter(pk=entry.pk).exists()
    assert Event.objects.get(event_type=BankEvent.ENTRY_REMOVED).data["entry"] == entry.pk
    theirs = BankEntry.objects.get(bank=banks["theirs"])
    client.post(f"/admin/hashing/bankentry/{theirs.pk}/delete/", {"post": "yes"})
    assert BankEntry.objects.filter(pk=theirs.pk).exists()
    response = client.post(f"/admin/hashing/bank/{banks['mine'].pk}/delete/", {"post": "yes"})
    assert response.status_code == 302 and not Bank.objects.filter(slug="mine").exists()
    assert Event.objects.get(event_type=BankEvent.DELETED).data["slug"] == "mine"


def test_the_case_of_a_shared_banks_entry_shows_neither_in_the_admin_nor_in_the_export(client, banks, root, submit,
                                                                                          other_org) -> None:
    """The NCII bank keeps each entry's case for a withdrawn consent; other organisations never see it."""
    from vangnet.cases.models import Case

    theirs = submit(urls="https://x.example/1").report.case
    Case.objects.filter(pk=theirs.pk).update(organisation=other_org)
    theirs.refresh_from_db()
    entry = services.add_entry(bank=banks["shared"], sha256="ef" * 32, label="", case=theirs, actor=SYSTEM)
    assert entry is not None and entry.case == theirs
    mine = BankEntry.objects.get(bank=banks["mine"])
    mine_case = submit(urls="https://y.example/1").report.case
    BankEntry.objects.filter(pk=mine.pk).update(case=mine_case)
    client.force_login(root)
    listing = client.get("/admin/hashing/bankentry/").content.decode()
    assert "ef" * 32 in listing and theirs.reference not in listing
    assert mine_case.reference in listing, "her own organisation's bank still names the case"
    page = client.get(f"/admin/hashing/bankentry/{entry.pk}/change/").content.decode()
    assert "ef" * 32 in page and theirs.reference not in page
    body = b"".join(client.get(f"/admin/hashing/bank/{banks['shared'].pk}/export/").streaming_content).decode()
    assert "ef" * 32 in body and theirs.reference not in body and str(theirs.pk) not in body.split("\r\n", 1)[1]
