from django.db import models
from django.utils.translation import gettext_lazy as _

from vangnet.audit.registry import register_event_types


class Role(models.TextChoices):
    """Staff roles within one organisation.

    Case roles run from least to most rights (handler to administrator). An analyst works on
    aggregates only and never sees a case file: her role grants no ``VIEW_CASES``. A platform's
    moderators review its content; its policy manager also sets its moderation policy, keys and
    webhooks and receives the alerts about threats to life or safety (DSA Art. 18).
    """

    ANALYST = "analyst", _("Analyst")
    HANDLER = "handler", _("Handler")
    CASE_OWNER = "case_owner", _("Case owner")
    SUPERVISOR = "supervisor", _("Supervisor")
    ADMIN = "admin", _("Administrator")
    MODERATOR = "moderator", _("Moderator")
    POLICY_MANAGER = "policy_manager", _("Policy manager")


class Permission(models.TextChoices):
    """What a role lets a staff member do; querysets are scoped with ``accounts.access.restrict``."""

    VIEW_STATISTICS = "view_statistics", _("View statistics")
    VIEW_CASES = "view_cases", _("View cases")
    WORK_CASES = "work_cases", _("Add notes, message reporters, change status")
    REFER = "refer", _("Refer to an organisation")
    ASSIGN = "assign", _("Assign case owners")
    MERGE_SPLIT = "merge_split", _("Merge and split cases")
    EXPORT_EVIDENCE = "export_evidence", _("Export signed evidence bundles")
    MODERATE = "moderate", _("Review platform content and decide on it")
    MANAGE_MODERATION = "manage_moderation", _("Set the moderation policy, keys and webhooks")


ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.ANALYST: frozenset({Permission.VIEW_STATISTICS}),
    Role.HANDLER: frozenset({Permission.VIEW_CASES, Permission.WORK_CASES}),
    Role.CASE_OWNER: frozenset({Permission.VIEW_CASES, Permission.WORK_CASES, Permission.REFER,
                                Permission.EXPORT_EVIDENCE}),
    Role.SUPERVISOR: frozenset({Permission.VIEW_CASES, Permission.WORK_CASES, Permission.REFER,
                                Permission.ASSIGN, Permission.MERGE_SPLIT, Permission.EXPORT_EVIDENCE}),
    Role.ADMIN: frozenset(Permission.values),
    Role.MODERATOR: frozenset({Permission.MODERATE}),
    Role.POLICY_MANAGER: frozenset({Permission.MODERATE, Permission.MANAGE_MODERATION, Permission.VIEW_STATISTICS}),
}


@register_event_types
class AccountEvent(models.TextChoices):
    """Changes to organisations, staff roles and API tokens, as written to the event log."""

    ORGANISATION_CREATED = "organisation.created", _("Organisation created")
    ORGANISATION_CHANGED = "organisation.changed", _("Organisation changed")
    MEMBERSHIP_ADDED = "membership.added", _("Staff member added to an organisation")
    MEMBERSHIP_CHANGED = "membership.role_changed", _("Staff member's role changed")
    MEMBERSHIP_REMOVED = "membership.removed", _("Staff member removed from an organisation")
    API_TOKEN_CREATED = "api_token.created", _("API token created")
    API_TOKEN_REVOKED = "api_token.revoked", _("API token revoked")
