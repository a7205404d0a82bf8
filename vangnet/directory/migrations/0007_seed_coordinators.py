from pathlib import Path

from django.db import migrations

from vangnet.common.seed import load_json, seed_rows


def seed(apps, schema_editor):  # type: ignore[no-untyped-def]
    seed_rows(apps.get_model("directory", "DigitalServicesCoordinator"),
              load_json(Path(__file__).resolve().parent.parent, "coordinators.json"), key="slug")


class Migration(migrations.Migration):
    dependencies = [("directory", "0006_providers")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
