"""Typed subjects, the organisation beside the case, event types declared by each app, and
events written first and chained afterwards (``seq``/``prev_hash``/``hash`` empty until then).

Events already stored keep digest format 1; new ones get format 2."""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("audit", "0003_retention"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RenameField("event", "object_type", "subject_type"),
        migrations.RenameField("event", "object_id", "subject_id"),
        migrations.AlterField("event", "subject_type", models.CharField(max_length=60, verbose_name="subject type")),
        migrations.AlterField("event", "subject_id", models.CharField(max_length=64, verbose_name="subject id")),
        migrations.AlterField("event", "event_type", models.CharField(max_length=60, verbose_name="event type")),
        migrations.AlterField("event", "actor_type", models.CharField(
            choices=[("staff", "Staff member"), ("reporter", "Reporter"), ("partner", "Partner organisation (API)"),
                     ("platform", "Platform (moderation API)"), ("system", "System")],
            max_length=16, verbose_name="actor type")),
        migrations.AddField("event", "version", models.PositiveSmallIntegerField(default=1,
                                                                                 verbose_name="digest format")),
        migrations.AlterField("event", "version", models.PositiveSmallIntegerField(default=2,
                                                                                   verbose_name="digest format")),
        migrations.AddField("event", "organisation_id", models.BigIntegerField(
            blank=True, db_index=True, null=True, verbose_name="organisation id")),
        migrations.AlterField("event", "seq", models.PositiveBigIntegerField(
            blank=True, null=True, unique=True, verbose_name="sequence number")),
        migrations.AlterField("event", "prev_hash", models.CharField(
            blank=True, max_length=64, null=True, verbose_name="previous hash")),
        migrations.AlterField("event", "hash", models.CharField(
            blank=True, max_length=64, null=True, unique=True, verbose_name="hash")),
        migrations.AlterModelOptions("event", {"ordering": ["occurred_at", "id"], "verbose_name": "event",
                                               "verbose_name_plural": "events"}),
        migrations.AddIndex("event", models.Index(fields=["subject_type", "subject_id"], name="audit_event_subject")),
        migrations.AddIndex("event", models.Index(condition=models.Q(("seq__isnull", True)), fields=["id"],
                                                  name="audit_event_unchained")),
    ]
