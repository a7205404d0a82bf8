from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "vangnet.evidence"
    label = "evidence"
    verbose_name = "evidence"
