"""The read-only case list in the admin follows the access rule: a superuser is no exception."""

import pytest

from vangnet.accounts.choices import Role
from vangnet.accounts.models import Membership
from vangnet.common.testing import make_user

pytestmark = pytest.mark.django_db


def test_a_superuser_without_a_membership_sees_no_case_in_the_admin(client, submit, other_org) -> None:
    mine = submit(urls="https://a.example/1").report.case
    theirs = submit(urls="https://b.example/1", organisation=other_org).report.case
    root = make_user("root", is_superuser=True, is_staff=True)
    client.force_login(root)
    page = client.get("/admin/cases/case/")
    assert page.status_code == 200
    assert mine.reference not in page.content.decode() and theirs.reference not in page.content.decode()
    assert client.get(f"/admin/cases/case/{mine.pk}/change/").status_code == 302  # "does not exist"

    Membership.objects.create(user=root, organisation=mine.organisation, role=Role.HANDLER)
    page = client.get("/admin/cases/case/").content.decode()
    assert mine.reference in page and theirs.reference not in page
    assert client.get(f"/admin/cases/case/{mine.pk}/change/").status_code == 200
    assert client.get(f"/admin/cases/case/{theirs.pk}/change/").status_code == 302


def test_an_analyst_superuser_sees_no_case_in_the_admin(client, submit, helpline) -> None:
    case = submit().report.case
    client.force_login(make_user("ana", organisation=helpline, role=Role.ANALYST, is_superuser=True, is_staff=True))
    assert case.reference not in client.get("/admin/cases/case/").content.decode()
