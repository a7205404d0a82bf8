"""Settings for the zero-set-up local run: SQLite, the database task worker, demo data.

Without ``VANGNET_SECRET_KEY`` a random key is made once and kept in the data folder, so a
newcomer needs to set nothing and sessions survive a restart.
"""

import os
import secrets
from pathlib import Path

_data_dir = Path(os.environ.get("VANGNET_DATA_DIR", str(Path.cwd() / "var")))
if "VANGNET_SECRET_KEY" not in os.environ:
    _data_dir.mkdir(parents=True, exist_ok=True)
    _key_file = _data_dir / "secret_key"
    if not _key_file.exists():
        _key_file.write_text(secrets.token_urlsafe(50))
        _key_file.chmod(0o600)
    os.environ["VANGNET_SECRET_KEY"] = _key_file.read_text().strip()

from .base import *  # noqa: E402,F403

# Without an SMTP server configured, e-mail goes to files a tester can read (var/mail/), never
# to a port where nothing listens. Setting VANGNET_EMAIL_HOST sends over SMTP as in production.
if "VANGNET_EMAIL_HOST" not in os.environ:
    MAIL_DIR = DATA_DIR / "mail"  # noqa: F405
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.filebased.EmailBackend",
                           "OPTIONS": {"file_path": str(MAIL_DIR)}}}
