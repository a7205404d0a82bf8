from django.apps import AppConfig


class HashingConfig(AppConfig):
    name = "vangnet.hashing"
    label = "hashing"
    verbose_name = "hashing"
