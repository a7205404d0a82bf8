from django.db import models
from django.utils.translation import gettext_lazy as _

from vangnet.audit.registry import register_event_types


class Role(models.TextChoices):
    """Staff roles within one organisation, from least to most rights."""

    HANDLER = "handler", _("Handler")
    CASE_OWNER = "case_owner", _("Case owner")
    SUPERVISOR = "supervisor", _("Supervisor")
    ADMIN = "admin", _("Administrator")


class Permission(models.TextChoices):
    VIEW_CASES = "view_cases", _("View cases")
    WORK_CASES = "work_cases", _("Add notes, message reporters, change status")
    REFER = "refer", _("Refer to an organisation")
    ASSIGN = "assign", _("Assign case owners")
    MERGE_SPLIT = "merge_split", _("Merge and split cases")


ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.HANDLER: frozenset({Permission.VIEW_CASES, Permission.WORK_CASES}),
    Role.CASE_OWNER: frozenset({Permission.VIEW_CASES, Permission.WORK_CASES, Permission.REFER}),
    Role.SUPERVISOR: frozenset({Permission.VIEW_CASES, Permission.WORK_CASES, Permission.REFER,
                                Permission.ASSIGN, Permission.MERGE_SPLIT}),
    Role.ADMIN: frozenset(Permission.values),
}


@register_event_types
class AccountEvent(models.TextChoices):
    """Changes to organisations, staff roles and API tokens, as written to the event log."""

    API_TOKEN_CREATED = "api_token.created", _("API token created")
    API_TOKEN_REVOKED = "api_token.revoked", _("API token revoked")
