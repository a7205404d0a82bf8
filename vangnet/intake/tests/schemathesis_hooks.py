"""What schemathesis needs to know about the partner API beyond JSON Schema's own formats.

Imported by ``test_api_schema.py``; for a run of the command-line tool against a server:
``SCHEMATHESIS_HOOKS=vangnet.intake.tests.schemathesis_hooks schemathesis run --checks all
-H "Authorization: Bearer $TOKEN" http://127.0.0.1:8000/api/v1/openapi.json``.
"""

from __future__ import annotations

import schemathesis
from hypothesis import strategies as st

# ``vangnet.intake.api.URL_FORMAT``, spelled out so the command-line tool can load this module
# without Django; test_api_schema.py checks that the two agree.
URL_FORMAT = "http-url"
# The document's format for report URLs (``ReportIn.urls``): jsonschema has no check for it,
# so schemathesis is told what a valid one looks like (a bare host is read as https).
_label = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=12)
_path = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_/?=&", max_size=30)
web_addresses = st.builds(lambda scheme, labels, tld, path: f"{scheme}{'.'.join(labels)}.{tld}/{path}",
                          st.sampled_from(["https://", "http://", ""]), st.lists(_label, min_size=1, max_size=3),
                          st.sampled_from(["nl", "com", "example", "social"]), _path)
schemathesis.openapi.format(URL_FORMAT, web_addresses)
