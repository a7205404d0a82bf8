"""The victim's consent to the NCII bank: who records and withdraws it, for which cases, its events, the case page.

What her consent lets into the bank, and what withdrawing takes out again, is tested with the
re-upload watch (``notices/tests/test_reupload.py``).
"""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import translation

from vangnet.accounts.choices import Role
from vangnet.accounts.models import Membership
from vangnet.audit.models import Event
from vangnet.audit.selectors import verify_chain
from vangnet.audit.services import Actor, chain_all_pending
from vangnet.cases import services
from vangnet.cases.choices import CaseEvent
from vangnet.cases.models import Case

pytestmark = pytest.mark.django_db
staff = Actor.staff


@pytest.fixture
def owned_case(submit, supervisor, case_owner):
    case = submit().report.case  # the default report: intimate images of an adult
    return services.assign_owner(case=case, owner=case_owner, actor=staff(supervisor))


def _consent(case: Case) -> tuple:
    case.refresh_from_db()
    return case.ncii_consent_at, case.ncii_consent_by


def test_the_case_owner_records_her_consent_and_withdraws_it_and_both_are_logged(owned_case, case_owner) -> None:
    case = services.set_ncii_consent(case=owned_case, consent=True, actor=staff(case_owner))
    at, by = _consent(case)
    assert case.has_ncii_consent and at is not None and by == "carla"
    given = Event.objects.get(event_type=CaseEvent.NCII_CONSENT_GIVEN)
    assert (given.case_id, given.actor_user, given.organisation_id) == (case.pk, case_owner, case.organisation_id)
    with translation.override("en"), pytest.raises(ValidationError, match="already recorded"):
        services.set_ncii_consent(case=owned_case, consent=True, actor=staff(case_owner))
    case = services.set_ncii_consent(case=owned_case, consent=False, actor=staff(case_owner))
    assert not case.has_ncii_consent and _consent(case) == (None, "")
    withdrawn = Event.objects.get(event_type=CaseEvent.NCII_CONSENT_WITHDRAWN)
    assert withdrawn.actor_user == case_owner
    assert withdrawn.data == {"given_at": at.isoformat(), "given_by": "carla", "hashes_removed": 0}
    with translation.override("en"), pytest.raises(ValidationError, match="No consent"):
        services.set_ncii_consent(case=owned_case, consent=False, actor=staff(case_owner))
    chain_all_pending()
    assert list(verify_chain()) == []


def test_supervisors_and_administrators_may_record_it_for_a_case_they_do_not_own(submit, supervisor, make_staff,
                                                                                helpline) -> None:
    case = submit().report.case
    services.set_ncii_consent(case=case, consent=True, actor=staff(supervisor))
    admin = make_staff("ada", helpline, Role.ADMIN)
    services.set_ncii_consent(case=case, consent=False, actor=staff(admin))
    assert Event.objects.filter(event_type__in=[CaseEvent.NCII_CONSENT_GIVEN,
                                                CaseEvent.NCII_CONSENT_WITHDRAWN]).count() == 2


@pytest.mark.parametrize("who", ["handler", "other_case_owner", "outsider", "system", "former_owner"])
def test_others_may_neither_record_nor_withdraw_it(owned_case, who, handler, make_staff, helpline, outsider,
                                                   case_owner, supervisor) -> None:
    actor = {
        "handler": lambda: staff(handler),  # works on the case, but is not its owner
        "other_case_owner": lambda: staff(make_staff("cora", helpline, Role.CASE_OWNER)),
        "outsider": lambda: staff(outsider),  # an administrator of another organisation
        "system": Actor.system,
        "former_owner": lambda: (Membership.objects.filter(user=case_owner).delete(), staff(case_owner))[1],
    }[who]()
    with pytest.raises(PermissionDenied):
        services.set_ncii_consent(case=owned_case, consent=True, actor=actor)
    assert _consent(owned_case) == (None, "")
    services.set_ncii_consent(case=owned_case, consent=True, actor=staff(supervisor))
    with pytest.raises(PermissionDenied):
        services.set_ncii_consent(case=owned_case, consent=False, actor=actor)
    assert _consent(owned_case)[1] == "sanne" and owned_case.has_ncii_consent
    assert not Event.objects.filter(event_type=CaseEvent.NCII_CONSENT_WITHDRAWN).exists()


@pytest.mark.parametrize("report", [{"forms": ["doxing"]},
                                    {"forms": ["sextortion"], "age_band": "12_15"},
                                    {"forms": ["non-consensual-intimate-images"], "age_band": "16_17"}],
                         ids=["no-sexual-imagery", "a-minor", "a-minor-of-16"])
def test_only_a_case_about_intimate_images_of_an_adult_can_have_it(submit, supervisor, report) -> None:
    case = submit(urls="https://x.example/1", **report).report.case
    with translation.override("en"), pytest.raises(ValidationError, match="intimate images of an adult"):
        services.set_ncii_consent(case=case, consent=True, actor=staff(supervisor))
    assert _consent(case) == (None, "")
    assert not Event.objects.filter(event_type=CaseEvent.NCII_CONSENT_GIVEN).exists()


def test_a_minors_report_joining_later_still_lets_her_consent_be_withdrawn(owned_case, submit, supervisor) -> None:
    services.set_ncii_consent(case=owned_case, consent=True, actor=staff(supervisor))
    url = owned_case.reports.get().urls.get().normalized
    joined = submit(urls=url, forms=["sextortion"], age_band="12_15").report
    assert joined.case_id == owned_case.pk
    services.set_ncii_consent(case=owned_case, consent=False, actor=staff(supervisor))
    assert _consent(owned_case) == (None, "")
    with pytest.raises(ValidationError):
        services.set_ncii_consent(case=owned_case, consent=True, actor=staff(supervisor))


def test_the_case_owner_records_and_withdraws_her_consent_from_the_case_page(client, submit, case_owner,
                                                                           supervisor) -> None:
    case = submit().report.case
    client.force_login(case_owner)
    page = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert 'data-action="ncii"' not in page and "data-ncii-consent" in page, "not her case yet"
    services.assign_owner(case=case, owner=case_owner, actor=staff(supervisor))
    with translation.override("en"):
        page = client.get(f"/staff/cases/{case.pk}/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert 'data-action="ncii"' in page and "never the images themselves" in page and "withdraw" in page
    assert client.post(f"/staff/cases/{case.pk}/ncii-consent/", {}).status_code == 400, "her answer is needed"
    assert not _consent(case)[0]
    response = client.post(f"/staff/cases/{case.pk}/ncii-consent/", {"ncii-consent": "yes"}, follow=True)
    assert response.status_code == 200 and _consent(case)[1] == "carla"
    again = client.post(f"/staff/cases/{case.pk}/ncii-consent/", {"ncii-consent": "yes"})
    assert again.status_code == 400 and _consent(case)[1] == "carla"
    client.post(f"/staff/cases/{case.pk}/ncii-consent/", {"ncii-consent": "no"})
    assert _consent(case) == (None, "")
    timeline = client.get(f"/staff/cases/{case.pk}/").content.decode()
    assert 'data-event="case.ncii_consent_given"' in timeline and 'data-event="case.ncii_consent_withdrawn"' in timeline


def test_the_case_page_does_not_offer_it_for_a_minor_or_without_sexual_imagery(client, submit, supervisor) -> None:
    client.force_login(supervisor)
    for report in ({"forms": ["doxing"]}, {"forms": ["sextortion"], "age_band": "12_15"}):
        case = submit(urls=f"https://x.example/{report['forms'][0]}", **report).report.case
        page = client.get(f"/staff/cases/{case.pk}/").content.decode()
        assert 'data-action="ncii"' not in page and "data-ncii-consent" not in page
        assert client.post(f"/staff/cases/{case.pk}/ncii-consent/", {"ncii-consent": "yes"}).status_code == 400
        assert _consent(case) == (None, "")
