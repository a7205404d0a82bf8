"""Signals of the evidence vault, so other apps can react to evidence without the vault knowing them."""

from django.dispatch import Signal

# Sent after the transaction that added an evidence item committed; ``item_id`` is its primary key.
evidence_added = Signal()
