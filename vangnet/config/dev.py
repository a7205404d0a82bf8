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
