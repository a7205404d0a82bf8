"""Re-key stored URL hashes: HMAC-SHA256 with the current VANGNET_URL_HASH_KEYS key instead of a plain SHA-256.

Reversible: going back recomputes the plain SHA-256 the older code compares with.
"""

import hashlib

from django.db import migrations


def _rehash(apps, digest) -> None:
    ReportedUrl = apps.get_model("intake", "ReportedUrl")
    stale = []
    for url in ReportedUrl.objects.only("id", "normalized", "normalized_hash").order_by("id").iterator(chunk_size=500):
        new = digest(url.normalized)
        if url.normalized_hash != new:
            url.normalized_hash = new
            stale.append(url)
        if len(stale) >= 500:
            ReportedUrl.objects.bulk_update(stale, ["normalized_hash"])
            stale = []
    if stale:
        ReportedUrl.objects.bulk_update(stale, ["normalized_hash"])


def keyed(apps, schema_editor) -> None:
    from vangnet.common.crypto import keyed_hash, url_hash_keys

    key = url_hash_keys()[0]
    _rehash(apps, lambda normalized: keyed_hash(normalized, key))


def plain(apps, schema_editor) -> None:
    _rehash(apps, lambda normalized: hashlib.sha256(normalized.encode()).hexdigest())


class Migration(migrations.Migration):

    dependencies = [
        ("intake", "0007_idempotency_key"),
    ]

    operations = [
        migrations.RunPython(keyed, plain),
    ]
