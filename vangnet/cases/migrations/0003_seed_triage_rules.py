from pathlib import Path

from django.db import migrations

from vangnet.common.seed import load_json, seed_rows


def seed(apps, schema_editor):  # type: ignore[no-untyped-def]
    seed_rows(apps.get_model("cases", "TriageRule"),
              load_json(Path(__file__).resolve().parent.parent, "triage_rules.json"), key="name",
              m2m={"suggest_referrals": (apps.get_model("directory", "ReferralOrganisation"), "slug")})


class Migration(migrations.Migration):
    dependencies = [("cases", "0002_initial"), ("directory", "0002_seed_organisations")]
    operations = [migrations.RunPython(seed, migrations.RunPython.noop)]
