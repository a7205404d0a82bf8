from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "vangnet.directory"
    label = "directory"
    verbose_name = "directory"
