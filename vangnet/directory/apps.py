from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "vangnet.directory"
    label = "directory"
    verbose_name = "directory"

    def ready(self) -> None:
        from vangnet.common.refcache import invalidate_on_change

        from .models import ReferralOrganisation
        from .selectors import SHAREABLE_KEY

        invalidate_on_change(SHAREABLE_KEY, ReferralOrganisation)
