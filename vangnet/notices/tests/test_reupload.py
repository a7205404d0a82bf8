"""The re-upload watch: removed content joins the case's bank; the same picture again, even mirrored, alerts."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.utils import timezone
from PIL import Image, ImageOps

from vangnet.audit.models import Event
from vangnet.audit.services import Actor
from vangnet.cases.services import assign_owner
from vangnet.evidence.choices import Source
from vangnet.evidence.services import add_evidence
from vangnet.hashing.models import BankEntry
from vangnet.notices import reupload, services
from vangnet.notices.choices import NoticeStatus
from vangnet.notices.models import Notice, ReuploadAlert

from vangnet.hashing.tests.test_hashers import picture

from .test_notices import EXPLANATION, _provider

pytestmark = pytest.mark.django_db


def _photo(image: Image.Image, *, quality: int = 90) -> bytes:
    out = io.BytesIO()
    image.convert("RGB").save(out, format="JPEG", quality=quality)
    return out.getvalue()


def _picture(seed: int = 7) -> Image.Image:
    return picture(seed, (400, 300))


@pytest.fixture
def removed(submit: Any, handler: Any, case_owner: Any, supervisor: Any) -> Notice:
    _provider("social", "social.example", contact_email="dsa@social.example.org")
    report = submit(urls="https://social.example/p/1").report
    case_owner.email = "carla@helpline.example.org"
    case_owner.save(update_fields=["email"])
    assign_owner(case=report.case, owner=case_owner, actor=Actor.staff(supervisor))
    add_evidence(case=report.case, report=report, data=_photo(_picture()), actor=Actor.reporter(),
                 source=Source.REPORTER)
    [notice] = services.draft_notices(case=report.case, urls=["https://social.example/p/1"], explanation=EXPLANATION,
                                      grounds=[], actor=Actor.staff(handler))
    Notice.objects.filter(pk=notice.pk).update(status=NoticeStatus.SENT, sent_at=timezone.now())
    services.record_outcome(notice=notice, outcome="removed", note="", actor=Actor.staff(handler))
    return notice


def test_removed_content_joins_the_cases_bank(removed: Notice) -> None:
    entry = BankEntry.objects.get(bank__case=removed.case)
    assert entry.label == removed.reference and entry.pdq and entry.sha256
    assert Event.objects.filter(event_type="notice.reupload_watched", subject_id=str(removed.pk)).exists()


def test_a_mirrored_smaller_reencoded_copy_in_a_later_report_alerts_the_owner(removed: Notice, submit: Any,
                                                                             handler: Any, smtp_inbox: Any,
                                                                             django_capture_on_commit_callbacks: Any
                                                                             ) -> None:
    later = submit(urls="https://social.example/p/77", forms=["threats"]).report
    copy = ImageOps.mirror(_picture()).resize((200, 150))
    item = add_evidence(case=later.case, report=later, data=_photo(copy, quality=70), actor=Actor.reporter(),
                        source=Source.REPORTER)
    with django_capture_on_commit_callbacks(execute=True):
        [alert] = reupload.check_item(item.pk)
    assert alert.case_id == removed.case_id and alert.match_kind == "pdq" and alert.distance <= 31
    assert alert.original == removed
    assert [m["to"] for m in smtp_inbox.messages] == [["carla@helpline.example.org"]]
    assert reupload.check_item(item.pk) == [], "one alert per item"
    new = services.notice_for_reupload(alert=alert, actor=Actor.staff(handler))
    assert new.follows == removed and "https://social.example/p/77" in new.body and new.status == NoticeStatus.DRAFT


def test_a_different_picture_and_the_original_itself_do_not_alert(removed: Notice, submit: Any) -> None:
    original_item = removed.urls.get().evidence.get()
    assert reupload.check_item(original_item.pk) == []
    other = submit(urls="https://social.example/p/5").report
    different = _picture(seed=99)
    item = add_evidence(case=other.case, report=other, data=_photo(different), actor=Actor.reporter(),
                        source=Source.REPORTER)
    assert reupload.check_item(item.pk) == [] and not ReuploadAlert.objects.exists()


def test_adding_evidence_asks_the_worker_to_check_it(submit: Any, django_capture_on_commit_callbacks: Any) -> None:
    from django_tasks_db.models import DBTaskResult

    report = submit().report
    before = DBTaskResult.objects.filter(task_path__endswith="check_reupload").count()
    with django_capture_on_commit_callbacks(execute=True):
        add_evidence(case=report.case, data=b"chat text", actor=Actor.reporter(), source=Source.REPORTER)
    assert DBTaskResult.objects.filter(task_path__endswith="check_reupload").count() == before + 1


def _consent(case: Any) -> None:
    """The case owner records the victim's consent to the NCII bank (``cases.services.set_ncii_consent``)."""
    from vangnet.cases.services import set_ncii_consent
    from vangnet.common.testing import make_user

    owner = case.owner or make_user(f"owner-{case.pk}", organisation=case.organisation, role="supervisor")
    set_ncii_consent(case=case, consent=True, actor=Actor.staff(owner))


def _removed_in(submit: Any, handler: Any, *, consent: bool = False, url: str = "https://social.example/p/9",
                **report: Any) -> Notice:
    from vangnet.directory.models import Provider

    if not Provider.objects.filter(slug="social").exists():
        _provider("social", "social.example", contact_email="dsa@social.example.org")
    submitted = submit(urls=url, **report).report
    if consent:
        _consent(submitted.case)
    add_evidence(case=submitted.case, report=submitted, data=_photo(_picture(seed=7)), actor=Actor.reporter(),
                 source=Source.REPORTER)
    [notice] = services.draft_notices(case=submitted.case, urls=[url],
                                      explanation=EXPLANATION, grounds=[], actor=Actor.staff(handler))
    Notice.objects.filter(pk=notice.pk).update(status=NoticeStatus.SENT, sent_at=timezone.now())
    services.record_outcome(notice=notice, outcome="removed", note="", actor=Actor.staff(handler))
    return notice


def test_removed_intimate_images_of_an_adult_join_the_shared_ncii_bank(submit: Any, handler: Any) -> None:
    from vangnet.moderation import checking
    from vangnet.moderation.policy import EffectivePolicy, default_rules

    notice = _removed_in(submit, handler, consent=True, forms=["non-consensual-intimate-images"])
    [entry] = BankEntry.objects.filter(bank__slug="ncii")
    assert entry.bank.organisation is None and entry.bank.case is None and entry.label == ""  # shared, hashes only
    assert entry.case == notice.case, "kept on our side, so a withdrawn consent can take it out"
    assert entry.pdq == notice.urls.get().evidence.get().pdq
    # A platform whose policy names the bank recognises a mirrored, smaller copy; it learns the bank, never the case.
    copy = _photo(ImageOps.mirror(_picture(seed=7)).resize((200, 150)), quality=70)
    policy = EffectivePolicy(organisation_id=None, version=1, rules=default_rules(), bank_ids=(entry.bank_id,))
    [assessment] = checking.assess([checking.ItemIn(external_id="x", image=copy)], policy)
    assert assessment.matches and assessment.matches[0]["bank"] == "ncii" and assessment.verdict.review
    assert set(assessment.matches[0]) == {"bank", "kind", "distance"}
    assert notice.case.reference not in repr(assessment.matches)


def test_other_cases_and_minors_cases_never_feed_the_ncii_bank(submit: Any, handler: Any, settings: Any) -> None:
    from vangnet.cases.models import Case

    _removed_in(submit, handler, forms=["doxing"])
    minor = submit(urls="https://social.example/p/10", forms=["sextortion"], age_band="12_15").report.case
    # Even with a consent on record (given before a minor's report joined, say), a minor's case never feeds it.
    Case.objects.filter(pk=minor.pk).update(ncii_consent_at=timezone.now(), ncii_consent_by="carla")
    _removed_in(submit, handler, url="https://social.example/p/10", forms=["sextortion"], age_band="12_15")
    assert not BankEntry.objects.filter(bank__slug="ncii").exists()
    settings.VANGNET_NCII_BANK = ""
    _removed_in(submit, handler, consent=True, url="https://social.example/p/11", forms=["deepfake-nudes"])
    assert not BankEntry.objects.filter(bank__organisation__isnull=True).exists()


def test_without_her_consent_nothing_joins_the_ncii_bank(submit: Any, handler: Any) -> None:
    notice = _removed_in(submit, handler, forms=["non-consensual-intimate-images"])
    assert not BankEntry.objects.filter(bank__slug="ncii").exists()
    assert BankEntry.objects.filter(bank__case=notice.case).exists(), "the case's own bank still watches"


def test_consent_after_the_removal_feeds_the_bank_and_withdrawing_takes_the_hashes_out(submit: Any, handler: Any,
                                                                                      supervisor: Any) -> None:
    from vangnet.cases.services import set_ncii_consent
    from vangnet.hashing.choices import BankEvent

    notice = _removed_in(submit, handler, forms=["non-consensual-intimate-images"])
    case = notice.case
    set_ncii_consent(case=case, consent=True, actor=Actor.staff(supervisor))
    [entry] = BankEntry.objects.filter(bank__slug="ncii")
    assert entry.case == case and entry.pdq == notice.urls.get().evidence.get().pdq
    assert Event.objects.filter(event_type="notice.reupload_watched", subject_id=str(notice.pk),
                                data__bank="ncii").exists()
    set_ncii_consent(case=case, consent=False, actor=Actor.staff(supervisor))
    assert not BankEntry.objects.filter(bank__slug="ncii").exists()
    assert BankEntry.objects.filter(bank__case=case).exists(), "the case's own bank is not the shared one"
    removed = Event.objects.get(event_type=BankEvent.ENTRY_REMOVED)
    assert removed.case_id == case.pk and removed.data["entry"] == entry.pk and removed.actor_user == supervisor
    withdrawn = Event.objects.get(event_type="case.ncii_consent_withdrawn")
    assert withdrawn.data["hashes_removed"] == 1
    # A later removal without her consent adds nothing again.
    _removed_in(submit, handler, url="https://social.example/p/9")
    assert not BankEntry.objects.filter(bank__slug="ncii").exists()


def test_a_bank_of_an_organisation_with_the_ncii_slug_gets_nothing(submit: Any, handler: Any, helpline: Any,
                                                                   caplog: Any) -> None:
    from vangnet.hashing import services as bank_services

    bank_services.create_bank(slug="ncii", name="Not shared", organisation=helpline, actor=Actor.system("test"))
    with caplog.at_level("WARNING", logger="vangnet.notices.reupload"):
        _removed_in(submit, handler, consent=True, forms=["non-consensual-intimate-images"])
    assert not BankEntry.objects.filter(bank__slug="ncii").exists()
    assert "not a shared bank" in caplog.text
