from django.apps import AppConfig


class CasesConfig(AppConfig):
    name = "vangnet.cases"
    label = "cases"
    verbose_name = "cases"

    def ready(self) -> None:
        from vangnet.common.refcache import invalidate_on_change

        from .models import TriageRule
        from .selectors import RULES_KEY

        invalidate_on_change(RULES_KEY, TriageRule)
