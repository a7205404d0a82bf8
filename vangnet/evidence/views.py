"""Staff pages of the evidence vault that are not the case page: asking for URL captures.

The case page (``cases.views``) shows the captures with ``evidence/_captures.html``;
``captures_context`` gives it what that partial reads.
"""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from vangnet.audit.services import Actor
from vangnet.cases.selectors import get_case_for_user

from . import selectors, services
from .forms import CaptureForm

CAPTURE_PREFIX = "capture"


def captures_context(*, user: Any, case: Any, form: CaptureForm | None = None) -> dict[str, Any]:
    """What ``evidence/_captures.html`` reads: the case's captures, whether she may ask for one, the form."""
    return {"captures": list(selectors.case_captures(user=user, case=case)),
            "may_capture": selectors.may_request_capture(user=user, case=case),
            "capture_form": form or CaptureForm(prefix=CAPTURE_PREFIX)}


@login_required
@require_POST
def request_capture(request: HttpRequest, case_id: int) -> HttpResponse:
    """Queue a capture of a web address for the case; back to the case page, or the form with its error."""
    case = get_case_for_user(user=request.user, case_id=case_id)  # 404 for whoever may not see the case
    if not selectors.may_request_capture(user=request.user, case=case):
        raise PermissionDenied
    form = CaptureForm(request.POST, prefix=CAPTURE_PREFIX)
    if form.is_valid():
        try:
            services.request_capture(case=case, url=form.cleaned_data["url"], actor=Actor.staff(request.user))
        except ValidationError as exc:
            for field, errors in exc.message_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            messages.success(request, _("Capture requested. Its status shows under “Captured web pages”."))
            return redirect(reverse("cases:detail", kwargs={"case_id": case.pk}) + "#captures")
    return render(request, "evidence/capture_request.html", {"case": case, "capture_form": form}, status=400)
