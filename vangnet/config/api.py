"""The one API object: every app's router, mounted under ``/api/v1/``, and one OpenAPI document.

Each app keeps its endpoints on its own ``vangnet.common.api.Router`` in its ``api.py``, with
its own authentication: intake's reports take a partner token; taxonomy's forms and
directory's organisations are public reference data. The error shapes (``FieldErrors``,
``Problem``), their handlers and the language of answers are shared (``vangnet.common.api``),
so every router fails the same way, and the document at ``/api/v1/openapi.json`` covers them all.

How an app adds its router (moderation next, authenticated with platform API keys):

1. In ``vangnet/<app>/api.py``: ``router = Router(auth=PlatformKeyAuth())`` — ``auth`` is
   required: an authentication class (a ``ninja.security`` subclass whose ``authenticate``
   returns the caller or None; None answers 401 ``unauthorized``) or ``None`` for public
   data. Declare endpoints on it, their answers with ``router.responses(operation_id, {...})``
   (``common.api.INVALID``, ``UNAUTHORIZED``, ``TOO_LARGE`` describe the shared ones), and
   answer errors with ``common.api.problem()`` or field errors.
2. Here, one line: ``api.add_router("/moderation", moderation_router)``. A plain
   ``ninja.Router`` is refused, so no router is public by omission.
"""

from __future__ import annotations

from vangnet.common.api import API
from vangnet.directory.api import router as directory_router
from vangnet.intake.api import router as intake_router
from vangnet.moderation.api import router as moderation_router
from vangnet.taxonomy.api import router as taxonomy_router

api = API(
    title="vangnet API", version="1", urls_namespace="api", openapi_url="/openapi.json", docs_url=None,
    description=(
        "Submit reports of online violence from a partner organisation's own form (with its API token), "
        "and read the reference data a report names (public).\n\n"
        "Errors are JSON: `{\"errors\": {field: [message]}}` for invalid fields, "
        "`{\"detail\": message, \"code\": code}` otherwise. Messages are in the report's `language`, "
        "else the `Accept-Language` header (nl or en), else Dutch."))

api.add_router("", intake_router)  # POST /reports
api.add_router("", taxonomy_router)  # GET /forms
api.add_router("", directory_router)  # GET /organisations
api.add_router("", moderation_router)  # POST /moderation/check, /moderation/notices, /moderation/appeals
