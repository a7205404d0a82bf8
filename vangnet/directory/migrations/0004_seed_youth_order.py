from pathlib import Path

from django.db import migrations

from vangnet.common.seed import load_json, seed_rows


def seed(apps, schema_editor):  # type: ignore[no-untyped-def]
    """Add new seed organisations and set the youth order of the shipped ones an administrator left alone."""
    model = apps.get_model("directory", "ReferralOrganisation")
    rows = load_json(Path(__file__).resolve().parent.parent, "organisations.json")
    seed_rows(model, rows, key="slug", m2m={"forms": (apps.get_model("taxonomy", "FormOfViolence"), "slug")})
    for row in rows:
        if "youth_sort_order" in row:
            model.objects.filter(slug=row["slug"], youth_sort_order=100).update(
                youth_sort_order=row["youth_sort_order"])


class Migration(migrations.Migration):
    dependencies = [("directory", "0003_youth_sort_order")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
