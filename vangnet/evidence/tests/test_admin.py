"""The evidence admin shows fingerprints of the cases one may view, and never a private key or a file name."""

import pytest

from vangnet.accounts.choices import Role
from vangnet.audit.services import Actor
from vangnet.common.testing import make_user
from vangnet.evidence.choices import Source
from vangnet.evidence.custody import signing_key_for
from vangnet.evidence.services import add_evidence

pytestmark = pytest.mark.django_db


def test_the_admin_lists_only_evidence_of_cases_she_may_view_without_names(client, submit, other_org) -> None:
    mine = add_evidence(case=submit(urls="https://a.example/1").report.case, data=b"mine", actor=Actor.reporter(),
                        source=Source.REPORTER, original_name="secret-name.txt")
    theirs = add_evidence(case=submit(urls="https://b.example/1", organisation=other_org).report.case, data=b"theirs",
                          actor=Actor.reporter(), source=Source.REPORTER)
    root = make_user("root", organisation=mine.case.organisation, role=Role.HANDLER, is_superuser=True, is_staff=True)
    client.force_login(root)
    page = client.get("/admin/evidence/evidenceitem/").content.decode()
    assert f"/admin/evidence/evidenceitem/{mine.pk}/change/" in page
    assert f"/admin/evidence/evidenceitem/{theirs.pk}/change/" not in page
    detail = client.get(f"/admin/evidence/evidenceitem/{mine.pk}/change/").content.decode()
    assert mine.sha256 in detail and "secret-name" not in detail and mine.storage_name not in detail
    assert client.get(f"/admin/evidence/evidenceitem/{theirs.pk}/change/").status_code == 302


def test_the_signing_key_page_shows_the_public_half_only(client, helpline) -> None:
    key = signing_key_for(helpline)
    client.force_login(make_user("root", is_superuser=True, is_staff=True))
    page = client.get(f"/admin/evidence/signingkey/{key.pk}/change/").content.decode()
    assert key.fingerprint in page and "BEGIN PUBLIC KEY" in page and "PRIVATE KEY" not in page
