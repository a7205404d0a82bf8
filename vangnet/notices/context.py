"""What the notices section of the case page reads (``notices/_notices.html``)."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser, User

from vangnet.accounts.choices import Permission
from vangnet.accounts.selectors import user_has_permission
from vangnet.intake.models import ReportedUrl
from vangnet.taxonomy.models import LegalGround
from vangnet.taxonomy.selectors import legal_grounds_for_forms

from .forms import ComposeForm, EditForm, EscalateForm, OutcomeForm, ReplyUploadForm, ResolveForm
from .models import Notice, ReuploadAlert

COMPOSE = "compose"


def case_urls(case: Any) -> list[str]:
    """The reported addresses of the case, each once, as the reporters gave them."""
    seen: dict[str, str] = {}
    for reported in ReportedUrl.objects.filter(report__case=case).order_by("pk"):
        seen.setdefault(reported.normalized, reported.url)
    return list(seen.values())


def compose_form(case: Any, data: Any = None) -> ComposeForm:
    form = ComposeForm(data, prefix=COMPOSE)
    form.fields["urls"].choices = [(url, url) for url in case_urls(case)]  # type: ignore[attr-defined]
    grounds = list(LegalGround.objects.filter(is_active=True))
    form.fields["grounds"].choices = [(str(g.pk), f"{g.citation} ({g.name})") for g in grounds]  # type: ignore[attr-defined]
    if data is None:
        forms = [f for report in case.reports.all() for f in report.forms.all()]
        form.initial = {"urls": case_urls(case), "grounds": [str(g.pk) for g in legal_grounds_for_forms(forms)]}
    return form


def notices_context(*, user: User | AnonymousUser, case: Any, forms: dict[str, Any] | None = None) -> dict[str, Any]:
    """Notices of the case with the forms each needs; ``forms`` carries a failed form back with its errors."""
    forms = forms or {}
    notices = list(Notice.objects.restrict(user).filter(case=case).select_related("provider")
                   .prefetch_related("urls", "deliveries", "replies", "escalations"))
    for notice in notices:
        key = str(notice.pk)
        notice.edit_form = forms.get(f"edit-{key}") or EditForm(  # type: ignore[attr-defined]
            initial={"body": notice.body}, prefix=f"edit-{key}")
        notice.outcome_form = forms.get(f"outcome-{key}") or OutcomeForm(  # type: ignore[attr-defined]
            prefix=f"outcome-{key}")
        notice.resolve_form = ResolveForm(prefix=f"resolve-{key}")  # type: ignore[attr-defined]
        notice.escalate_form = forms.get(f"escalate-{key}") or EscalateForm(  # type: ignore[attr-defined]
            prefix=f"escalate-{key}")
        notice.last_delivery = max(notice.deliveries.all(), key=lambda d: d.pk, default=None)  # type: ignore[attr-defined]
    may_work = user_has_permission(user=user, organisation_id=case.organisation_id, permission=Permission.WORK_CASES)
    alerts = list(ReuploadAlert.objects.restrict(user).filter(case=case).select_related("item", "original", "notice"))
    return {"notices": notices, "may_send_notices": may_work, "reupload_alerts": alerts,
            "compose_form": forms.get(COMPOSE) or compose_form(case),
            "reply_form": forms.get("reply") or ReplyUploadForm(prefix="reply")}
