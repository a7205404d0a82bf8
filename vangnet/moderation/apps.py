from django.apps import AppConfig


class ModerationConfig(AppConfig):
    """Content moderation for smaller platforms (issue 8): classification, review, DSA decisions."""

    name = "vangnet.moderation"
    label = "moderation"
    verbose_name = "moderation"
