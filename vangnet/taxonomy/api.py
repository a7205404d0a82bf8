"""The taxonomy app's API router: ``GET /api/v1/forms``, the forms of violence a report may name; public.

Endpoint docstrings are the operations' descriptions in the OpenAPI document.
"""

from __future__ import annotations

from django.http import HttpRequest

from vangnet.common.api import ChoiceOut, Router

from .selectors import form_catalogue

router = Router(auth=None)


# The operationId is the one published when this endpoint lived in the intake app.
@router.get("/forms", response=list[ChoiceOut], summary="Forms of violence",
            operation_id="vangnet_intake_api_list_forms")
def list_forms(request: HttpRequest) -> list[dict[str, str]]:
    """The forms of violence a report's ``forms`` may name: active ones only, in display order.

    Public, like the report form that shows the same list to anyone: it holds no personal
    data, and a partner's developer can read it before having a token.
    """
    return [{"slug": f.slug, "name_nl": f.name_nl, "name_en": f.name_en or f.name_nl}
            for f in form_catalogue().values()]
