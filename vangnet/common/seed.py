"""Loading the shipped seed data (JSON beside each app) in data migrations.

Seed rows are created only when their natural key is missing, so an administrator's
later edits are never overwritten by a re-run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def load_json(app_dir: Path, name: str) -> list[dict[str, Any]]:
    return json.loads((app_dir / "seed" / name).read_text(encoding="utf-8"))


def seed_rows(model: Any, rows: list[dict[str, Any]], *, key: str,
              m2m: dict[str, tuple[Any, str]] | None = None) -> None:
    """Create missing rows; ``m2m`` maps a field to (related model, its key field)."""
    m2m = m2m or {}
    # A data migration sees the model as it was then: keys for fields added later wait for their own migration.
    known = {f.name for f in model._meta.get_fields()}
    for row in rows:
        values = {k: v for k, v in row.items() if k not in m2m and k in known}
        obj, created = model.objects.get_or_create(**{key: values.pop(key)}, defaults=values)
        if created:
            for field, (related_model, related_key) in m2m.items():
                getattr(obj, field).set(related_model.objects.filter(**{f"{related_key}__in": row.get(field, [])}))


def seed_reference_data() -> None:
    """Create every missing seed row with the current models (the data migrations do the same).

    Used where a database was emptied after migrating, e.g. between live-server tests.
    """
    from django.apps import apps

    package = Path(__file__).resolve().parent.parent
    forms = apps.get_model("taxonomy", "FormOfViolence")
    organisations = apps.get_model("directory", "ReferralOrganisation")
    seed_rows(forms, load_json(package / "taxonomy", "forms_of_violence.json"), key="slug")
    seed_rows(apps.get_model("taxonomy", "LegalGround"), load_json(package / "taxonomy", "legal_grounds.json"),
              key="slug", m2m={"forms": (forms, "slug")})
    seed_rows(apps.get_model("directory", "DigitalServicesCoordinator"),
              load_json(package / "directory", "coordinators.json"), key="slug")
    seed_rows(organisations, load_json(package / "directory", "organisations.json"), key="slug",
              m2m={"forms": (forms, "slug")})
    seed_rows(apps.get_model("cases", "TriageRule"), load_json(package / "cases", "triage_rules.json"), key="name",
              m2m={"suggest_referrals": (organisations, "slug")})
    seed_rows(apps.get_model("intake", "InfoPage"), load_json(package / "intake", "info_pages.json"), key="slug")
    apps.get_model("accounts", "Organisation").objects.get_or_create(
        slug="vangnet-helpline", defaults={"name": "Vangnet meldpunt", "receives_web_reports": True})
