from pathlib import Path

from django.db import migrations

from vangnet.common.seed import load_json, seed_rows


def seed(apps, schema_editor):  # type: ignore[no-untyped-def]
    seed_rows(apps.get_model("taxonomy", "LegalGround"),
              load_json(Path(__file__).resolve().parent.parent, "legal_grounds.json"), key="slug",
              m2m={"forms": (apps.get_model("taxonomy", "FormOfViolence"), "slug")})


class Migration(migrations.Migration):
    dependencies = [("taxonomy", "0004_legal_grounds")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
