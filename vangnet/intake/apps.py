from django.apps import AppConfig


class IntakeConfig(AppConfig):
    name = "vangnet.intake"
    label = "intake"
    verbose_name = "intake"
