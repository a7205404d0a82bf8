"""The staff log-in and log-out pages, declared for the shared access tests (``vangnet.common.testing``)."""

from __future__ import annotations

from typing import Any

import pytest

from vangnet.common.testing import Scene, StaffView, StaffViewTests

ACCOUNT_VIEWS = [
    # Anyone may open the log-in page; someone signed in is sent on (to her queue).
    StaffView("accounts:login", takes_case=False, permission=None, anonymous=200, success=302),
    StaffView("accounts:logout", method="post", takes_case=False, permission=None, success=302),
]


class TestAccountPages(StaffViewTests):
    views = ACCOUNT_VIEWS

    @pytest.fixture
    def scene(self, submit: Any, helpline: Any, other_org: Any) -> Scene:
        return Scene(organisation=helpline, other_organisation=other_org, case=submit().report.case)


@pytest.mark.django_db
def test_logging_out_ends_the_session(client, handler) -> None:
    client.force_login(handler)
    response = client.post("/staff/logout/")
    assert response.status_code == 302 and response["Location"] == "/staff/login/"
    assert "_auth_user_id" not in client.session
    assert client.get("/staff/cases/").status_code == 302


@pytest.mark.django_db
def test_logging_out_takes_a_post(client, handler) -> None:
    client.force_login(handler)
    assert client.get("/staff/logout/").status_code == 405
    assert "_auth_user_id" in client.session
