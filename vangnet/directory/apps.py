from django.apps import AppConfig


class DirectoryConfig(AppConfig):
    name = "vangnet.directory"
    label = "directory"
    verbose_name = "directory"

    def ready(self) -> None:
        from vangnet.common.refcache import invalidate_on_change

        from .models import DigitalServicesCoordinator, Provider, ProviderDomain, ReferralOrganisation
        from .selectors import PROVIDER_DOMAINS_KEY, SHAREABLE_KEY

        invalidate_on_change(SHAREABLE_KEY, ReferralOrganisation)
        invalidate_on_change(PROVIDER_DOMAINS_KEY, Provider, ProviderDomain, DigitalServicesCoordinator)
