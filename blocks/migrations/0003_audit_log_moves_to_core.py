from django.db import migrations


class Migration(migrations.Migration):
    """The audit log moves to the core app: its table and index are renamed,
    no row is touched (core's first migration takes the model over)."""

    dependencies = [
        ("blocks", "0002_certificate_mentions"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[
                migrations.RenameIndex(
                    model_name="auditevent",
                    new_name="audit_event_object_idx",
                    old_name="blocks_audi_content_d1afbd_idx",
                ),
                migrations.AlterModelTable(name="auditevent", table="core_auditevent"),
            ],
            state_operations=[migrations.DeleteModel(name="AuditEvent")],
        ),
    ]
