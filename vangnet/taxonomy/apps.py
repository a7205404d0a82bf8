from django.apps import AppConfig


class TaxonomyConfig(AppConfig):
    name = "vangnet.taxonomy"
    label = "taxonomy"
    verbose_name = "taxonomy"
