"""Test settings: the same stack, with a fixed key and fast password hashing."""

import os
from pathlib import Path

os.environ.setdefault("VANGNET_SECRET_KEY", "test-only-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("VANGNET_EMAIL_PORT", "2525")

from .base import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["*"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# One process runs the tests and the live server, so an in-memory cache is shared by both
# and needs no database (pure unit tests run without one).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
# Serve static files straight from the apps (no collectstatic in tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):  # noqa: F405
    # A file, not shared memory: live-server tests flush and restore the database between
    # tests, which an in-memory database shared across threads does not survive.
    import tempfile

    DATABASES["default"]["TEST"] = {"NAME": str(Path(tempfile.gettempdir()) / f"vangnet-test-{os.getpid()}.sqlite3")}  # noqa: F405
