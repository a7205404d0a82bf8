from django.apps import AppConfig


class TaxonomyConfig(AppConfig):
    name = "vangnet.taxonomy"
    label = "taxonomy"
    verbose_name = "taxonomy"

    def ready(self) -> None:
        from vangnet.common.refcache import invalidate_on_change

        from .models import FormOfViolence
        from .selectors import CATALOGUE_KEY

        invalidate_on_change(CATALOGUE_KEY, FormOfViolence)
