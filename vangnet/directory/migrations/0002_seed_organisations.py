from pathlib import Path

from django.db import migrations

from vangnet.common.seed import load_json, seed_rows


def seed(apps, schema_editor):  # type: ignore[no-untyped-def]
    seed_rows(apps.get_model("directory", "ReferralOrganisation"),
              load_json(Path(__file__).resolve().parent.parent, "organisations.json"), key="slug",
              m2m={"forms": (apps.get_model("taxonomy", "FormOfViolence"), "slug")})


class Migration(migrations.Migration):
    dependencies = [("directory", "0001_initial"), ("taxonomy", "0002_seed_forms")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
