"""Reports about the same new content sent at the same moment still meet in one case."""


import pytest
from django.db import connection

from conftest import report_payload
from vangnet.accounts.models import Organisation
from vangnet.audit.selectors import verify_chain
from vangnet.audit.services import chain_all_pending
from vangnet.audit.services import Actor
from vangnet.common.testing import at_the_same_moment
from vangnet.cases.models import Case
from vangnet.common.seed import seed_reference_data
from vangnet.intake.choices import Channel
from vangnet.intake.forms import ReportForm
from vangnet.intake.services import submit_report


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor == "sqlite",
                    reason="the in-memory SQLite test database refuses concurrent writers; runs on PostgreSQL in CI")
def test_simultaneous_reports_about_one_url_share_a_case() -> None:
    seed_reference_data()  # transactional tests run on a database emptied by the ones before
    organisation = Organisation.objects.get(slug="vangnet-helpline")
    form = ReportForm(data=report_payload(urls="https://race.example/post/1", share_with=""))
    assert form.is_valid(), form.errors
    at_the_same_moment(6, lambda _i: submit_report(data=form.cleaned_data, organisation=organisation,
                                                    channel=Channel.API, actor=Actor.partner("race")))
    assert Case.objects.count() == 1
    assert Case.objects.get().reports.count() == 6
    chain_all_pending()
    assert list(verify_chain()) == [], "concurrent writers keep the event log one unbroken chain"
