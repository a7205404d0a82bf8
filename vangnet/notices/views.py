"""Notice actions on the case page: draft, edit, send, confirm, check, cancel, outcome, upload a reply."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from vangnet.audit.services import Actor
from vangnet.cases.selectors import get_case_for_user
from vangnet.common.views import guarded_file
from vangnet.taxonomy.models import LegalGround

from . import replies, services
from .context import COMPOSE, compose_form
from .forms import EditForm, EscalateForm, OutcomeForm, ReplyUploadForm, ResolveForm
from .models import Notice, ReuploadAlert
from .pdf import read_pdf


def _back(case: Any) -> HttpResponse:
    return redirect(reverse("cases:detail", args=[case.pk]) + "#notices")


def _again(request: HttpRequest, case: Any, key: str, form: Any, error: ValidationError | None = None) -> HttpResponse:
    """The case page with the failed form and its errors (400), the notices section open."""
    from vangnet.cases.views import render_case_page

    if error is not None:
        for field, errors in error.message_dict.items() if hasattr(error, "error_dict") else [(None, error.messages)]:
            form.add_error(field if field in form.fields else None, errors)
    return render_case_page(request, case, status=400, active="notices", notice_forms={key: form})


@login_required
@require_POST
def draft(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_case_for_user(user=request.user, case_id=case_id)
    form = compose_form(case, request.POST)
    if form.is_valid():
        grounds = list(LegalGround.objects.filter(pk__in=form.cleaned_data["grounds"], is_active=True))
        try:
            notices = services.draft_notices(case=case, urls=form.chosen_urls(), grounds=grounds,
                                             explanation=form.cleaned_data["explanation"],
                                             actor=Actor.staff(request.user))
        except ValidationError as exc:
            return _again(request, case, COMPOSE, form, exc)
        messages.success(request, _("%(count)d draft(s) ready: check each text, then send.") % {"count": len(notices)})
        return _back(case)
    return _again(request, case, COMPOSE, form)


def _notice(request: HttpRequest, case_id: int, notice_id: int) -> tuple[Any, Notice]:
    case = get_case_for_user(user=request.user, case_id=case_id)
    notice = Notice.objects.restrict(request.user).select_related("case", "provider").filter(
        case=case, pk=notice_id).first()
    if notice is None:
        raise Http404
    return case, notice


def _action(form_class: Any, prefix: str, run: Callable[[HttpRequest, Notice, dict[str, Any]], str]) -> Any:
    @login_required
    @require_POST
    def view(request: HttpRequest, case_id: int, notice_id: int) -> HttpResponse:
        case, notice = _notice(request, case_id, notice_id)
        key = f"{prefix}-{notice.pk}"
        form = form_class(request.POST, prefix=key) if form_class else None
        if form is not None and not form.is_valid():
            return _again(request, case, key, form)
        try:
            message = run(request, notice, form.cleaned_data if form is not None else {})
        except ValidationError as exc:
            if form is None:
                messages.error(request, " ".join(exc.messages))
                return _back(case)
            return _again(request, case, key, form, exc)
        messages.success(request, message)
        return _back(case)

    view.__name__ = f"notice_{prefix}"
    return view


def _edit(request: HttpRequest, notice: Notice, data: dict[str, Any]) -> str:
    services.edit_draft(notice=notice, body=data["body"], actor=Actor.staff(request.user))
    return _("Text saved.")


def _send(request: HttpRequest, notice: Notice, data: dict[str, Any]) -> str:
    services.send_notice(notice=notice, actor=Actor.staff(request.user))
    return _("Notice %(reference)s is being sent.") % {"reference": notice.reference}


def _by_hand(request: HttpRequest, notice: Notice, data: dict[str, Any]) -> str:
    services.confirm_sent_by_hand(notice=notice, actor=Actor.staff(request.user))
    return _("Recorded as sent through the provider's web form.")


def _resolve(request: HttpRequest, notice: Notice, data: dict[str, Any]) -> str:
    services.resolve_uncertain(notice=notice, arrived=data["arrived"], actor=Actor.staff(request.user))
    return _("Recorded as sent.") if data["arrived"] else _("The notice is being sent again.")


def _cancel(request: HttpRequest, notice: Notice, data: dict[str, Any]) -> str:
    services.cancel_notice(notice=notice, actor=Actor.staff(request.user))
    return _("Notice cancelled.")


def _outcome(request: HttpRequest, notice: Notice, data: dict[str, Any]) -> str:
    services.record_outcome(notice=notice, outcome=data["outcome"], note=data["note"],
                            actor=Actor.staff(request.user))
    return _("Outcome recorded.")


def _escalate(request: HttpRequest, notice: Notice, data: dict[str, Any]) -> str:
    escalation = services.prepare_escalation(notice=notice, step=data["step"], actor=Actor.staff(request.user))
    if escalation.upstream_notice is not None:
        return _("A notice to %(provider)s is drafted below: check it and send it.") % {"provider": escalation.where}
    return _("The text is ready below: copy it and file it at %(where)s.") % {"where": escalation.where}


edit = _action(EditForm, "edit", _edit)
escalate = _action(EscalateForm, "escalate", _escalate)
send = _action(None, "send", _send)
sent_by_hand = _action(None, "hand", _by_hand)
resolve = _action(ResolveForm, "resolve", _resolve)
cancel = _action(None, "cancel", _cancel)
outcome = _action(OutcomeForm, "outcome", _outcome)


@login_required
@require_POST
def upload_reply(request: HttpRequest, case_id: int) -> HttpResponse:
    case = get_case_for_user(user=request.user, case_id=case_id)
    form = ReplyUploadForm(request.POST, request.FILES, prefix="reply")
    if form.is_valid():
        try:
            reply = replies.upload_reply(case=case, raw=form.read(), actor=Actor.staff(request.user))
        except ValidationError as exc:
            return _again(request, case, "reply", form, ValidationError({"message": exc.messages}))
        assert reply.notice is not None
        messages.success(request, _("Reply added to notice %(reference)s.") % {"reference": reply.notice.reference})
        return _back(case)
    return _again(request, case, "reply", form)


@login_required
@require_POST
def reupload_notice(request: HttpRequest, case_id: int, alert_id: int) -> HttpResponse:
    """One click: a draft notice about the new copy, citing the notice that had the first removed."""
    case = get_case_for_user(user=request.user, case_id=case_id)
    alert = ReuploadAlert.objects.restrict(request.user).filter(case=case, pk=alert_id).first()
    if alert is None:
        raise Http404
    try:
        notice = services.notice_for_reupload(alert=alert, actor=Actor.staff(request.user))
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(request, _("Notice %(reference)s drafted: check it, then send.") % {
            "reference": notice.reference})
    return _back(case)


@login_required
def pdf(request: HttpRequest, case_id: int, notice_id: int) -> HttpResponse:
    _case, notice = _notice(request, case_id, notice_id)
    if not notice.pdf_storage_name:
        raise Http404
    response = HttpResponse(read_pdf(notice), content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="notice-{notice.reference}.pdf"'
    return guarded_file(response)
