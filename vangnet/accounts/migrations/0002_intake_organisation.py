"""The organisation that receives reports from the public form (``VANGNET_INTAKE_ORGANISATION``)."""

from django.db import migrations


def seed(apps, schema_editor):  # type: ignore[no-untyped-def]
    apps.get_model("accounts", "Organisation").objects.get_or_create(
        slug="vangnet-helpline", defaults={"name": "Vangnet meldpunt"})


class Migration(migrations.Migration):
    dependencies = [("accounts", "0001_initial")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
