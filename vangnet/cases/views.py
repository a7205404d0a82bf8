"""Staff pages: the queue and the case page. Views parse input and call services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from vangnet.accounts.access import holds_permission_anywhere
from vangnet.accounts.choices import Permission
from vangnet.accounts.selectors import permissions_for_user
from vangnet.audit.services import Actor
from vangnet.common.views import guarded_file
from vangnet.directory.models import ReferralOrganisation
from vangnet.evidence import custody
from vangnet.evidence.models import EvidenceItem
from vangnet.evidence.custody import can_view_inline
from vangnet.evidence.selectors import case_evidence, custody_events
from vangnet.evidence.views import captures_context
from vangnet.intake.availability import availability_context
from vangnet.notices.context import notices_context
from vangnet.taxonomy.selectors import active_forms

from . import selectors, services
from .forms import (AssignOwnerForm, EvidenceUploadForm, LegalHoldForm, LiftLegalHoldForm, MergeForm, MessageForm,
                    NciiConsentForm, NoteForm, QueueFilterForm, ReferralForm, SplitForm, StatusForm)
from .models import Case


@login_required
def queue(request: HttpRequest) -> HttpResponse:
    if not holds_permission_anywhere(request.user, Permission.VIEW_CASES):
        raise PermissionDenied  # an analyst, or staff of no active organisation: no case file, not even a list
    form = QueueFilterForm(request.GET or {"status": "open"})
    form.fields["form"].choices = [  # type: ignore[attr-defined]
        ("", _("Any"))] + [(f.slug, f.name) for f in active_forms()]
    filters = selectors.QueueFilters()
    if form.is_valid():
        filters = selectors.QueueFilters(**{k: v for k, v in form.cleaned_data.items() if v is not None})
    cases = list(selectors.case_queue(user=_staff(request), filters=filters)[:500])
    return render(request, "cases/queue.html", {"cases": cases, "filter_form": form})


def _staff(request: HttpRequest) -> User:
    """The logged-in staff member; every view here is behind ``login_required``."""
    assert isinstance(request.user, User)
    return request.user


def _actor(request: HttpRequest) -> Actor:
    """The logged-in staff member as the actor every case service takes."""
    return Actor.staff(_staff(request))


def _case_forms(request: HttpRequest, case: Case, data: Any = None, active: str = "") -> dict[str, Any]:
    reports = list(selectors.case_reports(user=request.user, case=case).select_related("consent_share_with"))
    live = [(str(r.pk), r.receipt_code) for r in reports if not r.is_withdrawn]
    forms: dict[str, Any] = {
        "assign": AssignOwnerForm(data if active == "assign" else None, prefix="assign"),
        "status": StatusForm(data if active == "status" else None, prefix="status"),
        "note": NoteForm(data if active == "note" else None, prefix="note"),
        "message": MessageForm(data if active == "message" else None, prefix="message"),
        "refer": ReferralForm(data if active == "refer" else None, prefix="refer"),
        "merge": MergeForm(data if active == "merge" else None, prefix="merge"),
        "split": SplitForm(data if active == "split" else None, prefix="split"),
        "evidence": EvidenceUploadForm(prefix="evidence"),
        "hold": LegalHoldForm(data if active == "hold" else None, prefix="hold",
                              initial={"reason": case.legal_hold_reason}),
        "lift": LiftLegalHoldForm(data if active == "lift" else None, prefix="lift"),
        "ncii": NciiConsentForm(data if active == "ncii" else None, prefix="ncii",
                                initial={"consent": "yes" if case.has_ncii_consent else "no"}),
    }
    forms["assign"].fields["owner"].choices = [(str(m.user_id), m.user.get_username())
                                               for m in selectors.possible_owners(user=request.user, case=case)]
    forms["message"].fields["report"].choices = live
    forms["refer"].fields["report"].choices = [
        (str(r.pk), f"{r.receipt_code} → {r.consent_share_with.name}") for r in reports
        if not r.is_withdrawn and r.consent_share_with is not None]
    forms["split"].fields["report"].choices = [(str(r.pk), r.receipt_code) for r in reports]
    return forms


@login_required
def case_detail(request: HttpRequest, case_id: int) -> HttpResponse:
    case = selectors.get_case_for_user(user=request.user, case_id=case_id)
    return _render_case(request, case, _case_forms(request, case))


def render_case_page(request: HttpRequest, case: Case, *, status: int = 200, active: str = "",
                     notice_forms: dict[str, Any] | None = None) -> HttpResponse:
    """The case page again, for another app's action that failed (its form with errors, status 400)."""
    return _render_case(request, case, _case_forms(request, case), status=status, active=active,
                        notice_forms=notice_forms)


def _render_case(request: HttpRequest, case: Case, forms: dict[str, Any], status: int = 200,
                 active: str = "", notice_forms: dict[str, Any] | None = None) -> HttpResponse:
    case_file = selectors.case_file(user=request.user, case=case)
    return render(request, "cases/case_detail.html", {
        "case": case, "reports": case_file.reports, "forms": forms, "outcomes": case_file.outcomes,
        "notes": case_file.notes, "referrals": case_file.referrals, "timeline": case_file.timeline,
        "evidence": _evidence_with_custody(request, case),
        "perms": permissions_for_user(user=request.user, organisation_id=case.organisation_id),
        "Permission": Permission, "active_action": active,
        "may_hold": selectors.may_manage_legal_hold(user=request.user, case=case),
        **_ncii_context(request, case),
        **captures_context(user=request.user, case=case),
        **notices_context(user=request.user, case=case, forms=notice_forms),
        **availability_context(user=request.user, case=case),
    }, status=status)


def _ncii_context(request: HttpRequest, case: Case) -> dict[str, Any]:
    """Whether the page shows the NCII bank's consent (a case about intimate images of an adult, or one
    whose consent is still recorded) and whether this user may record or withdraw it."""
    shown = case.has_ncii_consent or selectors.concerns_adult_sexual_imagery(case=case)
    return {"ncii_shown": shown,
            "may_ncii": shown and selectors.may_manage_ncii_consent(user=request.user, case=case)}


def _evidence_with_custody(request: HttpRequest, case: Case) -> list[EvidenceItem]:
    items = list(case_evidence(user=request.user, case=case))
    custody = custody_events(items)
    for item in items:
        item.custody = custody.get(item.pk, [])  # type: ignore[attr-defined]
        item.viewable = can_view_inline(item)  # type: ignore[attr-defined]
    return items


def _case_action(name: str, run: Callable[[HttpRequest, Case, dict[str, Any]], str]) -> Callable[..., HttpResponse]:
    """Wrap a case action: scope the case, validate the form, call the service, show errors kindly."""

    @login_required
    @require_POST
    def view(request: HttpRequest, case_id: int) -> HttpResponse:
        case = selectors.get_case_for_user(user=request.user, case_id=case_id)
        forms = _case_forms(request, case, request.POST, active=name)
        form = forms[name]
        if form.is_valid():
            try:
                message = run(request, case, form.cleaned_data)
            except ValidationError as exc:
                for field, errors in exc.message_dict.items():
                    form.add_error(field if field in form.fields else None, errors)
            else:
                messages.success(request, message)
                case.refresh_from_db()  # a merged case sends staff on to the case it joined
                return redirect("cases:detail", case_id=case.merged_into_id or case.pk)
        return _render_case(request, case, forms, status=400, active=name)

    view.__name__ = f"case_{name}"
    return view


def _report(request: HttpRequest, case: Case, report_id: str) -> Any:
    report = selectors.get_report_of_case(user=request.user, case=case, report_id=report_id)
    if report is None:
        raise ValidationError({"report": _("This report is not part of this case.")})
    return report


def _assign(request: HttpRequest, case: Case, data: dict[str, Any]) -> str:
    owner = get_user_model().objects.get(pk=data["owner"])
    services.assign_owner(case=case, owner=owner, actor=_actor(request))
    return _("Case owner set to %(name)s.") % {"name": owner.get_username()}


def _status(request: HttpRequest, case: Case, data: dict[str, Any]) -> str:
    services.change_status(case=case, status=data["status"], reason=data["reason"], actor=_actor(request))
    return _("Status changed.")


def _note(request: HttpRequest, case: Case, data: dict[str, Any]) -> str:
    services.add_note(case=case, text=data["text"], actor=_actor(request))
    return _("Note added.")


def _message(request: HttpRequest, case: Case, data: dict[str, Any]) -> str:
    services.send_message(case=case, report=_report(request, case, data["report"]), text=data["text"],
                          actor=_actor(request))
    return _("Message sent. The reporter sees it on her follow-up page.")


def _refer(request: HttpRequest, case: Case, data: dict[str, Any]) -> str:
    report = _report(request, case, data["report"])
    organisation = ReferralOrganisation.objects.filter(pk=report.consent_share_with_id).first()
    if organisation is None:
        raise ValidationError({"report": _("The reporter did not consent to sharing her report.")})
    services.refer_case(case=case, report=report, organisation=organisation, summary=data["summary"],
                        actor=_actor(request))
    return _("Referred to %(org)s.") % {"org": organisation.name}


def _merge(request: HttpRequest, case: Case, data: dict[str, Any]) -> str:
    target = selectors.find_case_by_reference(user=request.user, reference=data["target"])
    if target is None:
        raise ValidationError({"target": _("No case with this reference.")})
    services.merge_cases(source=case, target=target, actor=_actor(request))
    return _("Case merged into %(ref)s.") % {"ref": target.reference}


def _split(request: HttpRequest, case: Case, data: dict[str, Any]) -> str:
    new_case = services.split_report(case=case, report=_report(request, case, data["report"]),
                                    actor=_actor(request))
    return _("Report moved to the new case %(ref)s.") % {"ref": new_case.reference}


def _hold(request: HttpRequest, case: Case, data: dict[str, Any]) -> str:
    services.set_legal_hold(case=case, reason=data["reason"], actor=_actor(request))
    return _("Legal hold set: no retention period deletes anything of this case until it is lifted.")


def _lift(request: HttpRequest, case: Case, data: dict[str, Any]) -> str:
    services.lift_legal_hold(case=case, actor=_actor(request))
    return _("Legal hold lifted.")


def _ncii(request: HttpRequest, case: Case, data: dict[str, Any]) -> str:
    services.set_ncii_consent(case=case, consent=data["consent"], actor=_actor(request))
    if data["consent"]:
        return _("Her consent is recorded: hashes of images a provider removes join the NCII bank.")
    return _("Her consent is withdrawn: the hashes of this case are out of the NCII bank.")


assign = _case_action("assign", _assign)
change_status = _case_action("status", _status)
add_note = _case_action("note", _note)
send_message = _case_action("message", _message)
refer = _case_action("refer", _refer)
merge = _case_action("merge", _merge)
split = _case_action("split", _split)
set_legal_hold = _case_action("hold", _hold)
lift_legal_hold = _case_action("lift", _lift)
ncii_consent = _case_action("ncii", _ncii)


@login_required
@require_POST
def add_evidence(request: HttpRequest, case_id: int) -> HttpResponse:
    """Staff add files to a case; all of them are kept or none (one refused file names itself)."""
    case = selectors.get_case_for_user(user=request.user, case_id=case_id)
    forms = _case_forms(request, case)
    form = forms["evidence"] = EvidenceUploadForm(request.POST, request.FILES, prefix="evidence")
    if form.is_valid():
        uploads = [(upload.name or "", upload.read()) for upload in form.cleaned_data["attachments"]]
        try:
            custody.add_staff_evidence(case=case, files=uploads, actor=_actor(request))
        except ValidationError as exc:
            for error in exc.messages:
                form.add_error("attachments", error)
        else:
            count = len(form.cleaned_data["attachments"])
            messages.success(request, _("%(count)d file(s) added to the evidence.") % {"count": count})
            return redirect(f"{_case_url(case)}#evidence-heading")
    return _render_case(request, case, forms, status=400, active="evidence")


def _case_url(case: Case) -> str:
    return reverse("cases:detail", args=[case.pk])


def _evidence_item(request: HttpRequest, case_id: int, item_id: int) -> EvidenceItem:
    case = selectors.get_case_for_user(user=request.user, case_id=case_id)
    item = case_evidence(user=request.user, case=case).filter(pk=item_id).first()
    if item is None:
        raise Http404
    return item


@login_required
def view_evidence(request: HttpRequest, case_id: int, item_id: int) -> HttpResponse:
    """A rendition without metadata (images) or the text as plain text; the look is a custody event."""
    item = _evidence_item(request, case_id, item_id)
    try:
        rendition = custody.view_evidence(item=item, actor=_actor(request))
    except ValidationError as exc:
        return guarded_file(HttpResponse(" ".join(exc.messages), status=409, content_type="text/plain; charset=utf-8"))
    content_type = rendition.content_type + ("; charset=utf-8" if rendition.content_type == "text/plain" else "")
    response = HttpResponse(rendition.data, content_type=content_type)
    extension = "png" if item.kind == "image" else "txt"
    response["Content-Disposition"] = f'inline; filename="evidence-{item.pk}.{extension}"'
    return guarded_file(response)


@login_required
def download_evidence(request: HttpRequest, case_id: int, item_id: int) -> HttpResponse:
    """The original, byte for byte, always as an attachment: active content is never rendered by us."""
    item = _evidence_item(request, case_id, item_id)
    try:
        data = custody.download_evidence(item=item, actor=_actor(request))
    except ValidationError as exc:
        return guarded_file(HttpResponse(" ".join(exc.messages), status=410, content_type="text/plain; charset=utf-8"))
    response = HttpResponse(data, content_type="application/octet-stream")
    response["Content-Disposition"] = f'attachment; filename="{custody.download_name(item)}"'
    return guarded_file(response)


@login_required
@require_POST
def export_evidence(request: HttpRequest, case_id: int) -> HttpResponse:
    """A signed bundle for police and prosecution (originals, manifest, signature, README)."""
    case = selectors.get_case_for_user(user=request.user, case_id=case_id)
    try:
        export = custody.export_case_bundle(case=case, actor=_actor(request))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect(f"{_case_url(case)}#evidence-heading")
    if export.timestamp == "unavailable":
        messages.warning(request, _("The timestamp authority gave no usable answer: the bundle you downloaded is "
                                    "signed, but has no independent timestamp. Export again later if you need one."))
    response = HttpResponse(export.data, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{export.filename}"'
    response["X-Signing-Key-SHA256"] = export.fingerprint
    response["X-Timestamp"] = export.timestamp or "not-configured"
    return guarded_file(response)
