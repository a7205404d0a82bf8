"""The organisation that received web reports by the old VANGNET_INTAKE_ORGANISATION setting now says so itself."""

import os

from django.db import migrations


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    organisations = apps.get_model("accounts", "Organisation")
    if organisations.objects.filter(receives_web_reports=True).exists():
        return
    slug = os.environ.get("VANGNET_INTAKE_ORGANISATION", "vangnet-helpline")
    organisations.objects.filter(slug=slug).update(receives_web_reports=True)


class Migration(migrations.Migration):
    dependencies = [("accounts", "0003_organisation_roles")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
