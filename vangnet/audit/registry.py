"""Which event types exist: each app declares its own, the log only checks them.

An app names its kinds of change in its own ``choices.py`` (stable strings such as
``"case.status_changed"`` with a translated label) and decorates the class with
``@register_event_types``. Event types are stored as plain strings, so a new one needs no
migration of the audit app; ``record_event`` refuses a type nobody declared.
"""

from __future__ import annotations

from typing import TypeVar

from django.db import models

C = TypeVar("C", bound=type[models.TextChoices])


class EventTypeRegistry:
    def __init__(self) -> None:
        self._labels: dict[str, object] = {}

    def register(self, choices: type[models.TextChoices]) -> None:
        for value, label in choices.choices:
            known = self._labels.get(value)
            if known is not None and str(known) != str(label):
                raise ValueError(f"Event type {value!r} is declared twice with different labels.")
            self._labels[value] = label

    def __contains__(self, value: object) -> bool:
        return value in self._labels

    def label(self, value: str) -> str:
        """The translated label; an unknown (e.g. retired) type shows as its stable name."""
        return str(self._labels.get(value, value))

    def values(self) -> list[str]:
        return sorted(self._labels)


registry = EventTypeRegistry()


def register_event_types(choices: C) -> C:
    """Class decorator: make these event types known to the log."""
    registry.register(choices)
    return choices
