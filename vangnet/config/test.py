"""Test settings: the same stack, with a fixed key and fast password hashing."""

import os

os.environ.setdefault("VANGNET_SECRET_KEY", "test-only-secret-key-not-for-production-0123456789abcdef")
os.environ.setdefault("VANGNET_EMAIL_PORT", "2525")

from .base import *  # noqa: E402,F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
ALLOWED_HOSTS = ["*"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    "evidence": STORAGES["evidence"],  # noqa: F405 - tests point its location at a temporary folder
}
# One process runs the tests and the live server, so an in-memory cache is shared by both
# and needs no database (pure unit tests run without one).
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
}
# Serve static files straight from the apps (no collectstatic in tests).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
