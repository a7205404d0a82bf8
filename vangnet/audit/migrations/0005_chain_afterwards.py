"""The database keeps the log append-only: the one update it allows is the chainer's, which
fills in ``seq``, ``prev_hash`` and ``hash`` of an event that had none and changes nothing else.

(Rebuilding the table in 0004 dropped SQLite's triggers; they are made again here.)"""

from django.db import migrations

CONTENT = ["id", "version", "occurred_at", "actor_type", "actor_user_id", "actor_label", "event_type",
           "subject_type", "subject_id", "case_id", "organisation_id", "data"]

SQLITE = [
    "DROP TRIGGER IF EXISTS audit_event_no_update;",
    "DROP TRIGGER IF EXISTS audit_event_no_delete;",
    f"""CREATE TRIGGER audit_event_no_update BEFORE UPDATE ON audit_event
       WHEN NOT (OLD.seq IS NULL AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL AND NEW.hash IS NOT NULL
                 AND {" AND ".join(f"NEW.{c} IS OLD.{c}" for c in CONTENT)})
       BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END;""",
    # Deleting is refused while the chain head exists: only a whole reset of the log (head
    # first, as a test database flush does) may remove events, and verification reports it.
    """CREATE TRIGGER audit_event_no_delete BEFORE DELETE ON audit_event
       WHEN EXISTS (SELECT 1 FROM audit_chainhead)
       BEGIN SELECT RAISE(ABORT, 'audit_event is append-only'); END;""",
]
POSTGRES = [
    """CREATE OR REPLACE FUNCTION audit_event_append_only() RETURNS trigger AS $$
       BEGIN
         IF TG_OP = 'UPDATE' AND OLD.seq IS NULL AND NEW.seq IS NOT NULL AND NEW.prev_hash IS NOT NULL
            AND NEW.hash IS NOT NULL
            AND (to_jsonb(NEW) - 'seq' - 'prev_hash' - 'hash') = (to_jsonb(OLD) - 'seq' - 'prev_hash' - 'hash') THEN
           RETURN NEW;
         END IF;
         RAISE EXCEPTION 'audit_event is append-only';
       END; $$ LANGUAGE plpgsql;""",
    "DROP TRIGGER IF EXISTS audit_event_no_change ON audit_event;",
    """CREATE TRIGGER audit_event_no_change BEFORE UPDATE OR DELETE ON audit_event
       FOR EACH ROW EXECUTE FUNCTION audit_event_append_only();""",
]


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    for statement in {"sqlite": SQLITE, "postgresql": POSTGRES}.get(schema_editor.connection.vendor, []):
        schema_editor.execute(statement)


class Migration(migrations.Migration):
    dependencies = [("audit", "0004_open_log")]
    operations = [migrations.RunPython(forwards, migrations.RunPython.noop)]
