"""Every staff page and every API operation has its declaration in the shared access tests.

A new page or endpoint without one fails here, so it cannot ship without its anonymous,
no-permission and other-organisation tests (``vangnet.common.testing``).
"""

import pytest

from vangnet.accounts.tests.test_views import ACCOUNT_VIEWS
from vangnet.cases.tests.test_access import CASE_VIEWS
from vangnet.common.testing import api_operations, staff_url_names
from vangnet.evidence.tests.test_access import EVIDENCE_VIEWS
from vangnet.moderation.tests.test_access import MODERATION_VIEWS
from vangnet.notices.tests.test_access import NOTICE_VIEWS
from vangnet.notices.tests.test_performance import PERFORMANCE_VIEWS
from vangnet.intake.tests.test_api_access import API_ENDPOINTS
from vangnet.moderation.tests.test_api_access import MODERATION_API_ENDPOINTS


def test_every_staff_page_is_declared_once() -> None:
    declared = [view.url_name for view in [*CASE_VIEWS, *ACCOUNT_VIEWS, *EVIDENCE_VIEWS, *NOTICE_VIEWS,
                                           *PERFORMANCE_VIEWS, *MODERATION_VIEWS]]
    assert len(declared) == len(set(declared))
    assert set(declared) == staff_url_names()
    assert {"cases:queue", "cases:detail", "cases:merge", "accounts:login"} <= set(declared)


@pytest.mark.django_db
def test_every_api_operation_is_declared_once(client) -> None:
    declared = [str(endpoint) for endpoint in [*API_ENDPOINTS, *MODERATION_API_ENDPOINTS]]
    assert len(declared) == len(set(declared))
    assert set(declared) == api_operations(client)
    assert "POST /api/v1/reports" in declared
