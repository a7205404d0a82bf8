"""The directory app's API router: ``GET /api/v1/organisations``, those a report may be shared with; public.

Endpoint docstrings are the operations' descriptions in the OpenAPI document.
"""

from __future__ import annotations

from django.http import HttpRequest

from vangnet.common.api import ChoiceOut, Router

from .selectors import shareable_catalogue

router = Router(auth=None)


# The operationId is the one published when this endpoint lived in the intake app.
@router.get("/organisations", response=list[ChoiceOut], summary="Organisations to share with",
            operation_id="vangnet_intake_api_list_organisations")
def list_organisations(request: HttpRequest) -> list[dict[str, str]]:
    """The organisations a report's ``share_with`` may name (active, not emergency lines).

    Public for the same reason as ``/forms``: the report form shows this list to anyone.
    """
    return [{"slug": o.slug, "name_nl": o.name_nl, "name_en": o.name_en or o.name_nl}
            for o in shareable_catalogue().values()]
