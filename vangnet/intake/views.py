"""Public pages: the report flow, the receipt, follow-up by receipt code, information pages."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.shortcuts import redirect, render
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods
from django_ratelimit.core import is_ratelimited
from django_ratelimit.decorators import ratelimit
from formtools.wizard.views import SessionWizardView

from vangnet.accounts.selectors import web_intake_organisation
from vangnet.audit.services import Actor
from vangnet.cases.choices import REPORTER_STATUS_TEXT, CaseStatus
from vangnet.directory.selectors import active_organisations, organisations_for_form, youth_organisations
from vangnet.evidence.choices import Source as EvidenceSource
from vangnet.evidence.services import concerns_minor_sexual_imagery
from vangnet.taxonomy.models import FormOfViolence
from vangnet.taxonomy.selectors import active_forms

from . import selectors, services
from .availability import availability_for_reporter
from .choices import MINOR_AGE_BANDS, Channel
from .forms import STEP_FORMS, AddInformationForm, EvidenceUploadForm, FollowupLoginForm, WithdrawForm, max_file_mb

SESSION_RECEIPT = "vangnet_receipt"
SESSION_FOLLOWUP = "vangnet_followup_report"
SESSION_STEP_FLASH = "vangnet_report_step_sent"
# The report this session just sent: only it may take files in the evidence step, until the receipt is shown.
SESSION_EVIDENCE = "vangnet_report_evidence"
SESSION_EVIDENCE_REFUSED = "vangnet_evidence_refused"


def home(request: HttpRequest) -> HttpResponse:
    return render(request, "intake/home.html", {
        "forms_of_violence": active_forms(), "pages": selectors.published_pages(),
    })


STEP_TITLES = {
    "danger": gettext_lazy("Safety first"),
    "who": gettext_lazy("About you"),
    "what": gettext_lazy("What happened"),
    "where": gettext_lazy("Where it happened"),
    "age": gettext_lazy("Age"),
    "perpetrator": gettext_lazy("About who did it"),
    "contact": gettext_lazy("Contact"),
    "consent": gettext_lazy("Your consent"),
}


class ReportWizard(SessionWizardView):
    """The report flow, one question group per page, working without JavaScript."""

    form_list = STEP_FORMS
    template_name = "intake/report_step.html"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        """Show the current step with what she already answered.

        formtools starts over on every GET; a frightened reporter who reloads the page or
        comes back to it must not lose her answers, so only ``?restart`` starts over (and
        redirects to the plain address, so a later language switch or reload keeps her new
        answers). A step she just sent with mistakes comes back with her input and the errors.
        """
        if "restart" in request.GET:
            self.storage.reset()
            request.session.pop(SESSION_STEP_FLASH, None)
            return redirect(request.path)
        step = self.steps.current
        flash = request.session.pop(SESSION_STEP_FLASH, None)
        if flash and flash.get("step") == step:
            posted = QueryDict(mutable=True)
            for key, values in flash["data"].items():
                posted.setlist(key, values)
            form = self.get_form(step=step, data=posted)
            form.is_valid()
            if flash.get("error") == "rate_limited":
                form.add_error(None, _("Many reports were sent from this connection just now. Your answers are "
                                       "kept: please try again in a few minutes, or call one of the help lines "
                                       "below."))
            return self.render(form)
        data = self.storage.get_step_data(step)
        return self.render(self.get_form(step=step, data=data) if data else self.get_form(step=step))

    def post(self, *args: Any, **kwargs: Any) -> HttpResponse:
        """Every answer is sent, then the next page is fetched (Post/Redirect/Get).

        No form submission stays in the browser's history, so Back after a quick exit can
        never send her answers again; what Back shows is fetched anew from the session, which
        the quick exit has emptied.
        """
        is_last = self.steps.current == self.steps.last and "wizard_goto_step" not in self.request.POST
        if is_last and is_ratelimited(self.request, group="report-submit", key="ip",
                                      rate=settings.VANGNET_REPORT_RATE, method="POST", increment=True):
            # Keep everything she filled in; tell her plainly and point to help that does not wait.
            self._flash(error="rate_limited")
            return redirect(self.request.path)
        response = super().post(*args, **kwargs)
        if response.status_code in (301, 302, 303):
            return response  # sent: on to the receipt
        return redirect(self.request.path)

    def render(self, form: Any = None, **kwargs: Any) -> HttpResponse:
        if self.request.method == "POST" and form is not None and form.data is self.request.POST and form.errors:
            self._flash()
        return super().render(form, **kwargs)

    def _flash(self, *, error: str = "") -> None:
        """Keep the step she just sent (encrypted in the session) to show it again after the redirect."""
        posted = {key: self.request.POST.getlist(key) for key in self.request.POST if key != "csrfmiddlewaretoken"}
        self.request.session[SESSION_STEP_FLASH] = {"step": self.steps.current, "data": posted, "error": error}

    def get_context_data(self, form: Any, **kwargs: Any) -> dict[str, Any]:
        context = super().get_context_data(form=form, **kwargs)
        danger = self.get_cleaned_data_for_step("danger") if self.steps.current != "danger" else None
        context["in_danger"] = bool(danger and danger.get("immediate_danger") == "yes")
        context["step_title"] = STEP_TITLES.get(self.steps.current, "")
        return context

    def done(self, form_list: Any, form_dict: dict[str, Any], **kwargs: Any) -> HttpResponse:
        data: dict[str, Any] = {}
        for form in form_list:
            data.update(form.cleaned_data)
        organisation = web_intake_organisation()
        submitted = services.submit_report(data=data, organisation=organisation, channel=Channel.WEB,
                                           actor=Actor.reporter(), language=get_language() or "nl")
        self.request.session[SESSION_RECEIPT] = {
            "code": submitted.report.receipt_code, "secret": submitted.secret,
            "urgent": submitted.report.immediate_danger, "email": bool(submitted.report.contact_email),
            "email_secret": bool(submitted.report.contact_email and data.get("email_secret")),
            "minor": submitted.report.age_band in MINOR_AGE_BANDS,
        }
        self.request.session[SESSION_EVIDENCE] = submitted.report.pk
        return redirect("intake:report_evidence")


_upload_rate = ratelimit(key="ip", rate=lambda group, request: settings.VANGNET_UPLOAD_RATE, method="POST",
                         block=True, group="evidence-upload")


@require_http_methods(["GET", "POST"])
@_upload_rate
def report_evidence(request: HttpRequest) -> HttpResponse:
    """The optional step after the report is stored: files for the report this session just sent.

    The report exists (it was stored and filed before this page), so every file is added to
    it at once and durably, and she may leave at any moment without losing anything. She
    skips or finishes with one button, which shows the receipt; after that, files are added
    on the follow-up page.
    """
    report = selectors.get_report_for_reporter(report_id=request.session.get(SESSION_EVIDENCE))
    if report is None:
        return redirect("intake:receipt")
    if request.method == "POST":
        return _receive_evidence(request, report, then="intake:report_evidence")
    receipt_data = request.session.get(SESSION_RECEIPT) or {}
    return render(request, "intake/report_evidence.html", {
        **_evidence_context(request, report), "in_danger": bool(receipt_data.get("urgent")),
    })


def _evidence_context(request: HttpRequest, report: Any) -> dict[str, Any]:
    return {
        "evidence_form": EvidenceUploadForm(), "evidence": selectors.evidence_for_reporter(report=report),
        "refused_files": request.session.pop(SESSION_EVIDENCE_REFUSED, []),
        "no_sexual_images_kept": concerns_minor_sexual_imagery(report.case), "max_file_mb": max_file_mb(),
        "max_files": settings.VANGNET_UPLOAD_MAX_FILES,
    }


def _receive_evidence(request: HttpRequest, report: Any, *, then: str) -> HttpResponse:
    """Add each file on its own; name every refused one with the reason; then Post/Redirect/Get.

    A refused file stores nothing and does not stop the others. The outcome travels to the
    next page in the (encrypted) session, so no upload stays in the browser's history.
    """
    form = EvidenceUploadForm(request.POST, request.FILES)
    refused: list[dict[str, str]] = []
    added = 0
    if form.is_valid():
        actor = Actor.reporter(report.receipt_code)
        for upload in form.cleaned_data["evidence"]:
            try:
                services.add_report_evidence(report=report, data=upload.read(), original_name=upload.name or "",
                                             actor=actor, source=EvidenceSource.REPORTER)
            except ValidationError as error:
                refused.append({"name": services.clean_file_name(upload.name or ""),
                                "message": " ".join(error.messages)})
            else:
                added += 1
    else:
        refused = [{"name": "", "message": str(message)} for message in form.errors.get("evidence", [])]
    if refused:
        request.session[SESSION_EVIDENCE_REFUSED] = refused
    if added:
        messages.success(request, _("Thank you. We have added this to your report."))
    return redirect(then)


def receipt(request: HttpRequest) -> HttpResponse:
    """Shows the receipt code and secret exactly once."""
    data = request.session.pop(SESSION_RECEIPT, None)
    request.session.pop(SESSION_EVIDENCE, None)  # from here on, files are added on the follow-up page
    youth_help = youth_organisations() if data and data.get("minor") else []
    return render(request, "intake/receipt.html", {"receipt": data, "organisations": youth_help})


@ratelimit(key="ip", rate=lambda group, request: settings.VANGNET_FOLLOWUP_IP_RATE, method="POST", block=True)
@require_http_methods(["GET", "POST"])
def followup_login(request: HttpRequest) -> HttpResponse:
    form = FollowupLoginForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        attempt = selectors.authenticate_followup(receipt_code=form.cleaned_data["receipt_code"],
                                                  secret=form.cleaned_data["secret"])
        if attempt.report is not None and attempt.report.is_withdrawn:
            # Say plainly what happened to it instead of showing an empty form again.
            return render(request, "intake/withdrawn.html", {"withdrawn_at": attempt.report.withdrawn_at})
        if attempt.report is not None:
            request.session.cycle_key()
            request.session[SESSION_FOLLOWUP] = attempt.report.pk
            return redirect("intake:followup")
        if attempt.locked:
            form.add_error(None, _("Too many attempts with this receipt code. For your safety it is locked for "
                                   "15 minutes. Need help now? Call one of the help lines below."))
        else:
            form.add_error(None, _("The receipt code and secret do not match. Check them and try again."))
    return render(request, "intake/followup_login.html", {"form": form},
                  status=400 if form.errors else 200)


def _followup_report(request: HttpRequest) -> Any:
    return selectors.get_report_for_reporter(report_id=request.session.get(SESSION_FOLLOWUP))


@require_http_methods(["GET", "POST"])
def followup(request: HttpRequest) -> HttpResponse:
    report = _followup_report(request)
    if report is None:
        return redirect("intake:followup_login")
    form = AddInformationForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.add_information(report=report, text=form.cleaned_data["text"],
                                 actor=Actor.reporter(report.receipt_code))
        messages.success(request, _("Thank you. We have added this to your report."))
        return redirect("intake:followup")
    status = CaseStatus(report.case.status if report.case else CaseStatus.NEW)
    return render(request, "intake/followup.html", {
        "report": report, "form": form, "status_text": REPORTER_STATUS_TEXT.get(status, ""),
        "case_messages": selectors.messages_for_reporter(report=report), **_evidence_context(request, report),
        "url_availability": availability_for_reporter(report=report),
    }, status=400 if form.errors else 200)


@require_http_methods(["GET", "POST"])
@_upload_rate
def followup_evidence(request: HttpRequest) -> HttpResponse:
    """The signed-in reporter adds files to her own report (a withdrawn report is never signed in)."""
    report = _followup_report(request)
    if report is None:
        return redirect("intake:followup_login")
    if request.method != "POST":
        return redirect("intake:followup")
    return _receive_evidence(request, report, then="intake:followup")


@require_http_methods(["POST"])
def revoke_sharing(request: HttpRequest) -> HttpResponse:
    report = _followup_report(request)
    if report is None:
        return redirect("intake:followup_login")
    services.revoke_sharing_consent(report=report, actor=Actor.reporter(report.receipt_code))
    messages.success(request, _("We will not pass your report on to another organisation."))
    return redirect("intake:followup")


@require_http_methods(["GET", "POST"])
def withdraw(request: HttpRequest) -> HttpResponse:
    report = _followup_report(request)
    if report is None:
        return redirect("intake:followup_login")
    form = WithdrawForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        services.withdraw_report(report=report, actor=Actor.reporter(report.receipt_code))
        request.session.flush()
        return redirect("intake:withdrawn")
    return render(request, "intake/withdraw.html", {"form": form, "report": report},
                  status=400 if form.errors else 200)


def withdrawn(request: HttpRequest) -> HttpResponse:
    return render(request, "intake/withdrawn.html")


@require_http_methods(["POST"])
def followup_logout(request: HttpRequest) -> HttpResponse:
    request.session.flush()
    return redirect("intake:home")


def form_info(request: HttpRequest, slug: str) -> HttpResponse:
    form = FormOfViolence.objects.filter(slug=slug, is_active=True).first()
    if form is None:
        raise Http404
    return render(request, "intake/form_info.html", {
        "form_of_violence": form, "organisations": organisations_for_form(form_id=form.pk)})


def info_page(request: HttpRequest, slug: str) -> HttpResponse:
    page = selectors.published_pages().filter(slug=slug).first()
    if page is None:
        raise Http404
    return render(request, "intake/info_page.html", {"page": page})


def help_directory(request: HttpRequest) -> HttpResponse:
    return render(request, "intake/help.html", {"organisations": active_organisations().prefetch_related("forms")})
