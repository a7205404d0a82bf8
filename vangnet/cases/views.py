"""Staff pages: the queue and the case page. Views parse input and call services."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from vangnet.accounts.access import holds_permission_anywhere
from vangnet.accounts.choices import Permission
from vangnet.accounts.selectors import permissions_for_user
from vangnet.audit.services import Actor
from vangnet.directory.models import ReferralOrganisation
from vangnet.taxonomy.selectors import active_forms

from . import selectors, services
from .forms import (AssignOwnerForm, MergeForm, MessageForm, NoteForm, QueueFilterForm, ReferralForm, SplitForm,
                    StatusForm)
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


def _render_case(request: HttpRequest, case: Case, forms: dict[str, Any], status: int = 200,
                 active: str = "") -> HttpResponse:
    case_file = selectors.case_file(user=request.user, case=case)
    return render(request, "cases/case_detail.html", {
        "case": case, "reports": case_file.reports, "forms": forms, "outcomes": case_file.outcomes,
        "notes": case_file.notes, "referrals": case_file.referrals, "timeline": case_file.timeline,
        "perms": permissions_for_user(user=request.user, organisation_id=case.organisation_id),
        "Permission": Permission, "active_action": active,
    }, status=status)


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


assign = _case_action("assign", _assign)
change_status = _case_action("status", _status)
add_note = _case_action("note", _note)
send_message = _case_action("message", _message)
refer = _case_action("refer", _refer)
merge = _case_action("merge", _merge)
split = _case_action("split", _split)
