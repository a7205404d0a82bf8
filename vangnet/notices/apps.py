from django.apps import AppConfig


class NoticesConfig(AppConfig):
    name = "vangnet.notices"
    label = "notices"
    verbose_name = "notices"
