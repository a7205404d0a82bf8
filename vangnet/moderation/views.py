"""The review dashboard under ``/staff/moderation/``: queues, the review page, threat alerts, exports, metrics,
and the platform's own settings (policy, API keys, webhooks).

Views parse input and call the moderation services (``queue``, ``decisions``, ``appeals``,
``threats``, ``sor``); reads go through ``moderation.selectors``. The refusal rule is the
staff pages' own: whoever holds the page's permission nowhere gets 403 (an analyst on a
moderator's page), whoever holds it but not for this platform gets 404.

Every page works without JavaScript; ``moderation.js`` only adds keyboard shortcuts that press
the page's own buttons.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from vangnet.accounts.access import holds_permission_anywhere
from vangnet.accounts.choices import Permission
from vangnet.audit.services import Actor
from vangnet.common.forms import UnicodeSafeForm
from vangnet.common.views import guarded_file

from . import queue, selectors
from .choices import AlertStatus, KeyScope, Label, TaskKind, WebhookEvent
from .forms import KeyForm, PolicyForm, PolicyRuleFormSet, WebhookForm
from .models import Policy, ReviewTask

METRIC_PERIODS = (7, 30, 90, 365)
SKIP_CANDIDATES = 25


class AppealOutcomeForm(UnicodeSafeForm):
    """Uphold or overturn the decision appealed, always with the explanation the user receives."""

    outcome = forms.ChoiceField(label=gettext_lazy("Outcome"), widget=forms.RadioSelect, choices=[
        ("uphold", gettext_lazy("Uphold the decision")), ("overturn", gettext_lazy("Overturn the decision"))])
    explanation = forms.CharField(label=gettext_lazy("Explanation for the user"), max_length=5000,
                                  widget=forms.Textarea(attrs={"rows": 4}))


class AlertNoteForm(UnicodeSafeForm):
    note = forms.CharField(label=gettext_lazy("Note"), max_length=2000, required=False,
                           widget=forms.Textarea(attrs={"rows": 3}),
                           help_text=gettext_lazy("How and when the authority was told, or why the threat is not "
                                                  "credible."))


def _staff(request: HttpRequest) -> User:
    """The logged-in staff member; every view here is behind ``login_required``."""
    assert isinstance(request.user, User)
    return request.user


def _require(request: HttpRequest, permission: str) -> User:
    """403 for whoever holds ``permission`` in no active platform organisation."""
    user = _staff(request)
    if not holds_permission_anywhere(user, permission):
        raise PermissionDenied
    return user


def _page(request: HttpRequest, template: str, context: dict[str, Any], status: int = 200) -> HttpResponse:
    """Render a dashboard page with the moderation sub-navigation (which pages she may reach)."""
    user = _staff(request)
    manage = holds_permission_anywhere(user, Permission.MANAGE_MODERATION)
    nav = {"manage": manage, "metrics": holds_permission_anywhere(user, Permission.VIEW_STATISTICS),
           "open_alerts": selectors.open_alert_count(user=user) if manage else 0}
    return render(request, template, {**context, "nav": nav}, status=status)


# ---------------------------------------------------------------------------------------------
# The queues


@login_required
@require_GET
def dashboard(request: HttpRequest) -> HttpResponse:
    user = _require(request, Permission.MODERATE)
    return _page(request, "moderation/dashboard.html", {
        "queues": selectors.queue_overview(user=user), "export_platforms": selectors.managed_platforms(user=user)})


@login_required
@require_POST
def take_next(request: HttpRequest) -> HttpResponse:
    user = _require(request, Permission.MODERATE)
    kind = request.POST.get("kind", "")
    if kind not in TaskKind.values:
        return HttpResponseBadRequest(_("Unknown queue."), content_type="text/plain; charset=utf-8")
    task = queue.claim_next(user=user, organisation=None, kind=kind)
    if task is None:
        messages.info(request, _("This queue is empty: nothing to take."))
        return redirect("moderation:dashboard")
    return redirect("moderation:task", task_id=task.pk)


def _next_or_dashboard(request: HttpRequest, user: User, kind: str, skip: int | None = None) -> HttpResponse:
    """The next task of the same queue, taken; or the dashboard with a message when none is left.

    ``skip``: a task she just gave back, not offered to her again at once.
    """
    if skip is None:
        task = queue.claim_next(user=user, organisation=None, kind=kind)
    else:
        task = None
        for candidate in queue.open_tasks(user=user, kind=kind).exclude(pk=skip)[:SKIP_CANDIDATES]:
            if queue.claim(user=user, task=candidate):
                task = candidate
                break
    if task is None:
        messages.info(request, _("No other task waits in this queue."))
        return redirect("moderation:dashboard")
    return redirect("moderation:task", task_id=task.pk)


# ---------------------------------------------------------------------------------------------
# The review page


def _preset_data(task: ReviewTask, preset: str) -> dict[str, Any]:
    """The quick decision ``preset`` for the task's item (``decisions.preset_form_data``); {} for none."""
    from .decisions import PRESETS, preset_form_data
    from .policy import policy_for

    if preset not in PRESETS:
        return {}
    return preset_form_data(item=task.item, preset=preset, policy=policy_for(task.item.organisation))


def _decision_form(task: ReviewTask, data: Any = None, preset: str = "") -> Any:
    from .forms import DecisionForm

    if data is not None:
        return DecisionForm(data=data)
    if not preset and _overturn_needs_decision(task):
        preset = "remove_terms"  # overturning a decision to leave it: start from a removal under the terms
    return DecisionForm(initial=_preset_data(task, preset))


def _overturn_needs_decision(task: ReviewTask) -> bool:
    """An appeal against a decision without restriction: overturning it is a full decision, made in the form."""
    from .appeals import needs_decision

    return task.kind == TaskKind.APPEAL and task.appeal is not None and needs_decision(task.appeal)


def _render_task(request: HttpRequest, task: ReviewTask, *, decision_form: Any = None,
                 appeal_form: AppealOutcomeForm | None = None, status: int = 200,
                 open_form: bool = False) -> HttpResponse:
    user = _staff(request)
    task.refresh_from_db()
    holder = selectors.holder(task)
    done = task.done_at is not None
    mine = not done and holder is not None and holder.pk == user.pk
    own_appeal = (task.appeal is not None and task.appeal.decision.decided_by_id == user.pk)
    preset = request.GET.get("preset", "") if request.method == "GET" else ""
    if decision_form is None:
        decision_form = _decision_form(task, preset=preset)
    context = selectors.review_context(user=user, task=task)
    return _page(request, "moderation/task.html", {
        "task": task, "ctx": context, "item": context.item, "holder": holder, "mine": mine, "done": done,
        "own_appeal": own_appeal, "is_appeal": task.kind == TaskKind.APPEAL,
        "overturn_by_decision": _overturn_needs_decision(task),
        "decision_form": decision_form, "appeal_form": appeal_form or AppealOutcomeForm(),
        "open_form": open_form or bool(preset) or decision_form.is_bound,
        "image_kept": context.item.has_image and _image_kept(task),
        "appealed_text": selectors.describe_decision(context.appealed) if context.appealed else "",
        "decision_rows": [{"at": d.decided_at, "text": selectors.describe_decision(d),
                           "by": d.decided_by.get_username() if d.decided_by else _("the policy, automatically")}
                          for d in context.decisions],
    }, status=status)


def _image_kept(task: ReviewTask) -> bool:
    return type(task.item).objects.filter(pk=task.item_id, image_sealed__isnull=False).exists()


@login_required
@require_GET
def task_detail(request: HttpRequest, task_id: int) -> HttpResponse:
    """The review page; opening it takes the task, unless someone else holds it (then nothing to decide)."""
    user = _require(request, Permission.MODERATE)
    task = selectors.get_task_for_user(user=user, task_id=task_id)
    if task.done_at is None:
        queue.claim(user=user, task=task)
    return _render_task(request, task)


@login_required
@require_POST
def release(request: HttpRequest, task_id: int) -> HttpResponse:
    """Give the task back to its queue; with ``then=next`` go on to the next one (skip)."""
    user = _require(request, Permission.MODERATE)
    task = selectors.get_task_for_user(user=user, task_id=task_id)
    queue.release(user=user, task=task)
    if request.POST.get("then") == "next":
        return _next_or_dashboard(request, user, task.kind, skip=task.pk)
    messages.info(request, _("The task is back in the queue."))
    return redirect("moderation:dashboard")


def _held_elsewhere(request: HttpRequest, task: ReviewTask) -> HttpResponse | None:
    """A 409 page when the task is done or someone else holds it; None when she holds it (now)."""
    if task.done_at is not None:
        messages.info(request, _("This task was already decided."))
        return _render_task(request, task, status=409)
    if not queue.claim(user=_staff(request), task=task):
        return _render_task(request, task, status=409)
    return None


@login_required
@require_POST
def decide(request: HttpRequest, task_id: int) -> HttpResponse:
    """Record the moderator's decision (a quick one by ``preset``, or the full form), then the next task."""
    from . import decisions

    user = _require(request, Permission.MODERATE)
    task = selectors.get_task_for_user(user=user, task_id=task_id)
    if task.kind == TaskKind.APPEAL and not _overturn_needs_decision(task):
        return HttpResponseBadRequest(_("An appeal is upheld or overturned."), content_type="text/plain; charset=utf-8")
    if task.kind == TaskKind.APPEAL and task.appeal is not None and task.appeal.decision.decided_by_id == user.pk:
        raise PermissionDenied(_("Another moderator must decide the appeal against your own decision."))
    refused = _held_elsewhere(request, task)
    if refused is not None:
        return refused
    preset = request.POST.get("preset", "")
    data: Any = _preset_data(task, preset) or request.POST
    try:
        decisions.decide(item=task.item, user=user, form_data=data, task=task, appeal=None)
    except ValidationError as exc:
        form = _decision_form(task, data=data)
        form.is_valid()
        _add_errors(form, exc)
        return _render_task(request, task, decision_form=form, status=400, open_form=True)
    messages.success(request, _("Appeal decided.") if task.kind == TaskKind.APPEAL else _("Decision recorded."))
    return _next_or_dashboard(request, user, task.kind)


def _add_errors(form: Any, exc: ValidationError) -> None:
    """Put a service's errors on the form (once: the form may have found the same already)."""
    if hasattr(exc, "error_dict"):
        for name, errors in exc.message_dict.items():
            target = name if name in form.fields else None
            known = form.errors.get(target or "__all__", [])
            for error in errors:
                if error not in known:
                    form.add_error(target, error)
    else:
        for error in exc.messages:
            if error not in form.non_field_errors():
                form.add_error(None, error)


@login_required
@require_POST
def decide_appeal(request: HttpRequest, task_id: int) -> HttpResponse:
    """Uphold or overturn the decision appealed (by another moderator than the one who made it)."""
    from . import appeals

    user = _require(request, Permission.MODERATE)
    task = selectors.get_task_for_user(user=user, task_id=task_id)
    if task.kind != TaskKind.APPEAL or task.appeal is None:
        return HttpResponseBadRequest(_("This task is not an appeal."), content_type="text/plain; charset=utf-8")
    if task.appeal.decision.decided_by_id == user.pk:
        raise PermissionDenied(_("Another moderator must decide the appeal against your own decision."))
    refused = _held_elsewhere(request, task)
    if refused is not None:
        return refused
    form = AppealOutcomeForm(request.POST)
    if form.is_valid():
        try:
            appeals.decide_appeal(appeal=task.appeal, user=user, uphold=form.cleaned_data["outcome"] == "uphold",
                                  explanation=form.cleaned_data["explanation"])
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            messages.success(request, _("Appeal decided."))
            return _next_or_dashboard(request, user, task.kind)
    return _render_task(request, task, appeal_form=form, status=400)


@login_required
@require_GET
def task_image(request: HttpRequest, task_id: int) -> HttpResponse:
    """The item's image as a PNG re-made from its pixels (no metadata), never the bytes the platform sent."""
    user = _require(request, Permission.MODERATE)
    try:
        data = selectors.task_image(user=user, task_id=task_id)
    except ValidationError as exc:
        return guarded_file(HttpResponse(" ".join(exc.messages), status=410, content_type="text/plain; charset=utf-8"))
    response = HttpResponse(data, content_type="image/png")
    response["Content-Disposition"] = f'inline; filename="item-{task_id}.png"'
    return guarded_file(response)


@login_required
@require_POST
def appeal_file(request: HttpRequest, appeal_id: int) -> HttpResponse:
    """The appeal's file for an out-of-court dispute settlement body (DSA Art. 21), as a JSON download."""
    from . import appeals

    user = _require(request, Permission.MODERATE)
    appeal = selectors.get_appeal_for_user(user=user, appeal_id=appeal_id)
    data = appeals.appeal_file(appeal=appeal, user=user)
    response = HttpResponse(json.dumps(data, ensure_ascii=False, indent=2, default=str),
                            content_type="application/json; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="appeal-{appeal.pk}.json"'
    return guarded_file(response)


# ---------------------------------------------------------------------------------------------
# Statements of reasons


@login_required
@require_POST
def export_statements(request: HttpRequest) -> HttpResponse:
    """The platform's statements as JSON batches for the Transparency Database (a download).

    By default those not yet exported; with ``all`` every statement again, for a download that
    never arrived (marking statements exported cannot know whether the file reached her).
    """
    from . import sor

    user = _require(request, Permission.MANAGE_MODERATION)
    platforms = {str(p.pk): p for p in selectors.managed_platforms(user=user)}
    chosen = request.POST.get("organisation") or (next(iter(platforms)) if len(platforms) == 1 else "")
    organisation = platforms.get(chosen)
    if organisation is None:
        raise Http404
    again = request.POST.get("all") == "1"
    batches = sor.export_batches(organisation=organisation, user=user, only_new=not again)
    if not batches:
        messages.info(request, _("No statements of reasons to export.") if again
                      else _("No statements of reasons wait to be exported."))
        return redirect("moderation:dashboard")
    body = json.dumps([{"statements": batch} for batch in batches], ensure_ascii=False, indent=2, default=str)
    response = HttpResponse(body, content_type="application/json; charset=utf-8")
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    response["Content-Disposition"] = f'attachment; filename="statements-{organisation.slug}-{stamp}.json"'
    return guarded_file(response)


# ---------------------------------------------------------------------------------------------
# Threat alerts (DSA Art. 18)


@login_required
@require_GET
def alerts(request: HttpRequest) -> HttpResponse:
    user = _require(request, Permission.MANAGE_MODERATION)
    return _page(request, "moderation/alerts.html", {"alerts": list(selectors.alerts_for_user(user=user)[:200])})


def _render_alert(request: HttpRequest, alert: Any, *, form: AlertNoteForm | None = None, active: str = "",
                  status: int = 200) -> HttpResponse:
    from . import threats

    return _page(request, "moderation/alert.html", {
        "alert": alert, "item": alert.item, "open": alert.status == AlertStatus.OPEN,
        "send": threats.notification_state(alert), "max_attempts": threats.MAX_SEND_ATTEMPTS,
        "notified_form": form if active == "notified" and form else AlertNoteForm(prefix="notified"),
        "dismiss_form": form if active == "dismiss" and form else AlertNoteForm(prefix="dismiss"),
        "active": active,
    }, status=status)


@login_required
@require_GET
def alert_detail(request: HttpRequest, alert_id: int) -> HttpResponse:
    user = _require(request, Permission.MANAGE_MODERATION)
    return _render_alert(request, selectors.get_alert_for_user(user=user, alert_id=alert_id))


def _alert_action(name: str) -> Any:
    @login_required
    @require_POST
    def view(request: HttpRequest, alert_id: int) -> HttpResponse:
        from . import threats

        user = _require(request, Permission.MANAGE_MODERATION)
        alert = selectors.get_alert_for_user(user=user, alert_id=alert_id)
        form = AlertNoteForm(request.POST, prefix=name)
        if form.is_valid():
            act = threats.mark_notified if name == "notified" else threats.dismiss
            try:
                act(alert=alert, user=user, note=form.cleaned_data["note"])
            except ValidationError as exc:
                for error in exc.messages:
                    form.add_error("note", error)
            else:
                if name == "dismiss":
                    messages.success(request, _("Alert dismissed."))
                elif alert.authority_email:
                    messages.success(request, _("The notification is being sent to the authority: this page shows "
                                                "when the mail server accepted it."))
                else:
                    messages.success(request, _("Authority marked as notified."))
                return redirect("moderation:alert", alert_id=alert.pk)
        return _render_alert(request, selectors.get_alert_for_user(user=user, alert_id=alert_id), form=form,
                             active=name, status=400)

    view.__name__ = f"alert_{name}"
    return view


alert_notified = _alert_action("notified")
alert_dismiss = _alert_action("dismiss")


# ---------------------------------------------------------------------------------------------
# Metrics


@login_required
@require_GET
def metrics(request: HttpRequest) -> HttpResponse:
    """Aggregates for analysts and policy managers: no text, no author, cells under 5 suppressed."""
    user = _require(request, Permission.VIEW_STATISTICS)
    try:
        days = int(request.GET.get("days", "30"))
    except ValueError:
        days = 30
    if days not in METRIC_PERIODS:
        days = 30
    return _page(request, "moderation/metrics.html", {
        "m": selectors.moderation_metrics(user=user, days=days), "days": days, "periods": METRIC_PERIODS,
        "small": selectors.SMALL_CELL})



# ---------------------------------------------------------------------------------------------
# The platform's own settings: policy, API keys, webhooks (policy managers, ``MANAGE_MODERATION``)
#
# Each page is about one platform: the one named by ``platform`` (a query parameter, or a hidden
# field of a form), else the first she manages; a platform she does not manage answers 404.

POLICY_FIELDS = ("bank_match_action", "act_on_unvalidated_languages", "strike_window_days", "warning_points",
                 "suspension_points", "suspension_days", "terms_url", "dispute_body", "authority_name",
                 "authority_email")
RULE_FIELDS = ("label", "review_threshold", "action_threshold", "action", "strike_weight", "category",
               "terms_clause")


def _settings_platform(request: HttpRequest, user: User, *, required: bool) -> Any:
    """The platform the page is about (``Http404`` for one she does not manage; None when she manages none)."""
    source = request.POST if request.method == "POST" else request.GET
    platform = selectors.managed_platform(user=user, platform_id=source.get("platform"))
    if platform is None and required:
        raise Http404
    return platform


def _settings_page(request: HttpRequest, template: str, platform: Any, context: dict[str, Any],
                   status: int = 200) -> HttpResponse:
    user = _staff(request)
    return _page(request, template, {**context, "platform": platform,
                                     "platforms": selectors.managed_platforms(user=user)}, status=status)


def _named(row: Any) -> Any:
    """``row`` (a key or a webhook) with its scopes or events in words: ``scope_labels`` / ``event_labels``."""
    scopes, events = dict(KeyScope.choices), dict(WebhookEvent.choices)
    if hasattr(row, "scopes"):
        row.scope_labels = [str(scopes.get(scope, scope)) for scope in row.scopes or []]
    if hasattr(row, "events"):
        row.event_labels = [str(events.get(event, event)) for event in row.events or []]
    return row


def _to_platform(name: str, platform: Any) -> HttpResponse:
    """Back to a settings page of ``platform`` (named in the address, so a manager of several lands right)."""
    return redirect(f"{reverse(name)}?{urlencode({'platform': platform.pk})}")


# The policy


def _rule_initial(policy: Any) -> tuple[list[dict[str, Any]], set[str]]:
    """Each label's rule as the form starts: the platform's own, else the default; and the labels it set itself."""
    from .policy import default_rules

    own = {rule.label: rule for rule in policy.rules.all()} if policy is not None else {}
    defaults = default_rules()
    initial = []
    for label in Label.values:
        rule: Any = own.get(label) or defaults[label]
        initial.append({name: getattr(rule, name) for name in RULE_FIELDS})
    return initial, set(own)


def _render_policy(request: HttpRequest, platform: Any, *, form: PolicyForm | None = None,
                   formset: Any = None, status: int = 200) -> HttpResponse:
    from .policy import default_rules

    user = _staff(request)
    policy = selectors.platform_policy(user=user, platform=platform) if platform is not None else None
    initial, own = _rule_initial(policy)
    if platform is not None and form is None:
        start: Policy = policy or Policy(organisation=platform)
        form = PolicyForm(banks=selectors.usable_banks(platform=platform), initial={
            **{name: getattr(start, name) for name in POLICY_FIELDS},
            "banks": list(start.banks.values_list("pk", flat=True)) if start.pk else []})
    if platform is not None and formset is None:
        formset = PolicyRuleFormSet(initial=initial, prefix="rules")
    defaults = default_rules()
    rows = []
    for rule_form in (formset.forms if formset is not None else []):
        label = rule_form["label"].value()
        rows.append({"form": rule_form, "name": selectors.label_name(label), "own": label in own,
                     "default": defaults.get(label)})
    return _settings_page(request, "moderation/policy.html", platform, {
        "policy": policy, "form": form, "formset": formset, "rows": rows,
        "has_errors": bool(form is not None and form.is_bound and (form.errors or formset.errors
                                                                   or formset.non_form_errors()))},
        status=status)


@login_required
@require_GET
def policy(request: HttpRequest) -> HttpResponse:
    """The platform's policy: its rules per label (the default where it set none) and its own settings."""
    user = _require(request, Permission.MANAGE_MODERATION)
    return _render_policy(request, _settings_platform(request, user, required=False))


@login_required
@require_POST
def policy_save(request: HttpRequest) -> HttpResponse:
    """Store the policy as a new version; a label the platform never set keeps the default unless changed here."""
    from .policy import save_policy

    user = _require(request, Permission.MANAGE_MODERATION)
    platform = _settings_platform(request, user, required=True)
    policy = selectors.platform_policy(user=user, platform=platform) or Policy(organisation=platform)
    initial, own = _rule_initial(policy if policy.pk else None)
    form = PolicyForm(request.POST, banks=selectors.usable_banks(platform=platform))
    formset = PolicyRuleFormSet(request.POST, initial=initial, prefix="rules")
    if form.is_valid() and formset.is_valid():
        for name in POLICY_FIELDS:
            setattr(policy, name, form.cleaned_data[name])
        rules = [{name: rule_form.cleaned_data[name] for name in RULE_FIELDS} for rule_form in formset.forms
                 if rule_form.cleaned_data["label"] in own or rule_form.has_changed()]
        try:
            saved = save_policy(policy=policy, rules=rules, actor=Actor.staff(user),
                                banks=list(form.cleaned_data["banks"]))
        except ValueError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Policy saved as version %(version)s.") % {"version": saved.version})
            return _to_platform("moderation:policy", platform)
    return _render_policy(request, platform, form=form, formset=formset, status=400)


# API keys


def _render_keys(request: HttpRequest, platform: Any, *, form: KeyForm | None = None,
                 status: int = 200) -> HttpResponse:
    user = _staff(request)
    keys = list(selectors.platform_keys(user=user, platform=platform)) if platform is not None else []
    return _settings_page(request, "moderation/keys.html", platform, {
        "keys": [_named(key) for key in keys], "form": form or KeyForm()}, status=status)


@login_required
@require_GET
def keys(request: HttpRequest) -> HttpResponse:
    """The platform's API keys (never the keys themselves: only their first characters) and a form for a new one."""
    user = _require(request, Permission.MANAGE_MODERATION)
    return _render_keys(request, _settings_platform(request, user, required=False))


@login_required
@require_POST
def key_create(request: HttpRequest) -> HttpResponse:
    """Make a key and show it this once: only its hash is stored (and the page is never cached)."""
    from . import keys as platform_keys

    user = _require(request, Permission.MANAGE_MODERATION)
    platform = _settings_platform(request, user, required=True)
    form = KeyForm(request.POST)
    if form.is_valid():
        try:
            row, key = platform_keys.create_key(organisation=platform, name=form.cleaned_data["name"],
                                                scopes=form.cleaned_data["scopes"], actor=Actor.staff(user),
                                                rate_per_minute=form.cleaned_data["rate_per_minute"])
        except ValidationError as exc:
            _add_errors(form, exc)
        else:
            return _settings_page(request, "moderation/key_created.html", platform, {
                "key_row": _named(row), "key": key})
    return _render_keys(request, platform, form=form, status=400)


@login_required
@require_GET
def key_detail(request: HttpRequest, key_id: int) -> HttpResponse:
    """One key, and the confirmation to revoke it."""
    user = _require(request, Permission.MANAGE_MODERATION)
    key = selectors.get_key_for_user(user=user, key_id=key_id)
    return _settings_page(request, "moderation/key.html", key.organisation, {
        "key_row": _named(key)})


@login_required
@require_POST
def key_revoke(request: HttpRequest, key_id: int) -> HttpResponse:
    from . import keys as platform_keys

    user = _require(request, Permission.MANAGE_MODERATION)
    key = selectors.get_key_for_user(user=user, key_id=key_id)
    platform_keys.revoke_key(key=key, actor=Actor.staff(user))
    messages.success(request, _("The key “%(name)s” no longer works.") % {"name": key.name})
    return _to_platform("moderation:keys", key.organisation)


# Webhooks


def _render_webhooks(request: HttpRequest, platform: Any, *, form: WebhookForm | None = None,
                     status: int = 200) -> HttpResponse:
    user = _staff(request)
    endpoints = selectors.platform_webhooks(user=user, platform=platform) if platform is not None else []
    return _settings_page(request, "moderation/webhooks.html", platform, {
        "endpoints": [_named(endpoint) for endpoint in endpoints], "form": form or WebhookForm()},
        status=status)


@login_required
@require_GET
def webhooks(request: HttpRequest) -> HttpResponse:
    """The platform's webhooks with their latest deliveries, and a form for a new one."""
    user = _require(request, Permission.MANAGE_MODERATION)
    return _render_webhooks(request, _settings_platform(request, user, required=False))


@login_required
@require_POST
def webhook_add(request: HttpRequest) -> HttpResponse:
    """Add a webhook and show its signing secret this once (it is stored encrypted, never shown again)."""
    from . import webhooks as platform_webhooks

    user = _require(request, Permission.MANAGE_MODERATION)
    platform = _settings_platform(request, user, required=True)
    form = WebhookForm(request.POST)
    if form.is_valid():
        try:
            endpoint, secret = platform_webhooks.save_endpoint(organisation=platform, url=form.cleaned_data["url"],
                                                               events=form.cleaned_data["events"], user=user)
        except ValidationError as exc:
            for error in exc.messages:
                form.add_error("url", error)
        else:
            return _settings_page(request, "moderation/webhook_created.html", platform, {
                "endpoint": _named(endpoint), "secret": secret})
    return _render_webhooks(request, platform, form=form, status=400)


@login_required
@require_GET
def webhook_detail(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    """One webhook, its latest deliveries, and the confirmation to switch it off."""
    user = _require(request, Permission.MANAGE_MODERATION)
    endpoint = selectors.get_webhook_for_user(user=user, endpoint_id=endpoint_id)
    return _settings_page(request, "moderation/webhook.html", endpoint.organisation, {
        "endpoint": _named(endpoint),
        "deliveries": selectors.recent_deliveries(user=user, endpoint=endpoint,
                                                  limit=selectors.WEBHOOK_PAGE_DELIVERIES)})


@login_required
@require_POST
def webhook_off(request: HttpRequest, endpoint_id: int) -> HttpResponse:
    from . import webhooks as platform_webhooks

    user = _require(request, Permission.MANAGE_MODERATION)
    endpoint = selectors.get_webhook_for_user(user=user, endpoint_id=endpoint_id)
    platform_webhooks.deactivate_endpoint(endpoint=endpoint, user=user)
    messages.success(request, _("The webhook is switched off; deliveries still waiting for it are given up."))
    return _to_platform("moderation:webhooks", endpoint.organisation)
