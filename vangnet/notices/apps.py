from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "vangnet.notices"
    label = "notices"
    verbose_name = "notices"

    def ready(self) -> None:
        from vangnet.evidence.signals import evidence_added

        from .reupload import on_evidence_added

        evidence_added.connect(on_evidence_added, dispatch_uid="notices-reupload-watch")
