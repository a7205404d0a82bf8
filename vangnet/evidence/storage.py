"""Evidence storage behind Django's storage API, written durably.

``DurableFileSystemStorage`` writes a new file next to its final place, flushes it to disk
(fsync), renames it into place and flushes the folder, so a file the vault reported stored
survives a power cut. Another backend (an S3-compatible store) can replace it through the
``evidence`` entry of ``STORAGES``; it then owns durability.
"""

from __future__ import annotations

import os
import tempfile
from typing import Any

from django.core.files.storage import FileSystemStorage


class DurableFileSystemStorage(FileSystemStorage):
    def _save(self, name: str, content: Any) -> str:
        full_path = self.path(name)
        directory = os.path.dirname(full_path)
        os.makedirs(directory, exist_ok=True)
        descriptor, temporary = tempfile.mkstemp(dir=directory, prefix=".incoming-")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                for chunk in content.chunks():
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            os.chmod(temporary, 0o600)
            if os.path.exists(full_path):
                raise FileExistsError(full_path)  # never overwrite evidence; get_available_name picks a new name
            os.replace(temporary, full_path)
        except BaseException:
            if os.path.exists(temporary):
                os.unlink(temporary)
            raise
        folder = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(folder)
        finally:
            os.close(folder)
        return name
