from pathlib import Path

from django.db import migrations

from vangnet.common.seed import load_json, seed_rows


def seed(apps, schema_editor):  # type: ignore[no-untyped-def]
    seed_rows(apps.get_model("intake", "InfoPage"),
              load_json(Path(__file__).resolve().parent.parent, "info_pages.json"), key="slug")


class Migration(migrations.Migration):
    dependencies = [("intake", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
