from pathlib import Path

from django.db import migrations

from vangnet.common.seed import load_json, seed_rows


def seed(apps, schema_editor):  # type: ignore[no-untyped-def]
    seed_rows(apps.get_model("taxonomy", "FormOfViolence"),
              load_json(Path(__file__).resolve().parent.parent, "forms_of_violence.json"), key="slug")


class Migration(migrations.Migration):
    dependencies = [("taxonomy", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
