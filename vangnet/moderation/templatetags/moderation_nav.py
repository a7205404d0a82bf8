"""``{% load moderation_nav %}``: whether the staff header shows the link to the review dashboard."""

from typing import Any

from django import template

from vangnet.accounts.access import holds_permission_anywhere
from vangnet.accounts.choices import Permission

register = template.Library()


@register.filter
def moderates(user: Any) -> bool:
    """Whether ``user`` may review content on at least one platform (``MODERATE`` in an active organisation)."""
    return bool(getattr(user, "is_authenticated", False)) and holds_permission_anywhere(user, Permission.MODERATE)
