"""Production settings: HTTPS only; everything else still comes from the environment."""

from .base import *  # noqa: F403
from .env import env_bool, env_int, env_list, env_str

SECURE_SSL_REDIRECT = env_bool("VANGNET_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = env_int("VANGNET_HSTS_SECONDS", 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# Production keeps its own encryption and URL hash keys, so rotating SECRET_KEY never loses
# reports nor the link between reports about the same URL.
VANGNET_FIELD_ENCRYPTION_KEYS = env_list("VANGNET_FIELD_ENCRYPTION_KEYS", [env_str("VANGNET_FIELD_ENCRYPTION_KEYS")])
VANGNET_URL_HASH_KEYS = env_list("VANGNET_URL_HASH_KEYS", [env_str("VANGNET_URL_HASH_KEYS")])
# Evidence files stay readable only with their master keys: production keeps them apart too.
VANGNET_EVIDENCE_KEYS = env_str("VANGNET_EVIDENCE_KEYS")
# Never fetch from this machine's own addresses (vangnet.common.safefetch), whatever else is set.
VANGNET_FETCH_ALLOW_LOOPBACK = False
