import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def move_content_type(apps, schema_editor):
    """Permissions and admin links follow the model to its new app."""
    content_types = apps.get_model("contenttypes", "ContentType").objects
    if not content_types.filter(app_label="core", model="auditevent").exists():
        content_types.filter(app_label="blocks", model="auditevent").update(app_label="core")


def move_content_type_back(apps, schema_editor):
    content_types = apps.get_model("contenttypes", "ContentType").objects
    if not content_types.filter(app_label="blocks", model="auditevent").exists():
        content_types.filter(app_label="core", model="auditevent").update(app_label="blocks")


class Migration(migrations.Migration):
    """The audit log, taken over from the blocks app with its table and rows
    (blocks 0003 renamed the table): nothing is created in the database."""

    initial = True

    dependencies = [
        ("blocks", "0003_audit_log_moves_to_core"),
        ("contenttypes", "0002_remove_content_type_name"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            database_operations=[],
            state_operations=[
                migrations.CreateModel(
                    name="AuditEvent",
                    fields=[
                        (
                            "id",
                            models.BigAutoField(
                                auto_created=True,
                                primary_key=True,
                                serialize=False,
                                verbose_name="ID",
                            ),
                        ),
                        (
                            "action",
                            models.CharField(db_index=True, max_length=100, verbose_name="action"),
                        ),
                        ("object_id", models.CharField(blank=True, max_length=64)),
                        (
                            "object_repr",
                            models.CharField(blank=True, max_length=255, verbose_name="objet"),
                        ),
                        (
                            "data",
                            models.JSONField(blank=True, default=dict, verbose_name="données"),
                        ),
                        (
                            "created_at",
                            models.DateTimeField(
                                auto_now_add=True, db_index=True, verbose_name="date"
                            ),
                        ),
                        (
                            "actor",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to=settings.AUTH_USER_MODEL,
                                verbose_name="auteur",
                            ),
                        ),
                        (
                            "content_type",
                            models.ForeignKey(
                                blank=True,
                                null=True,
                                on_delete=django.db.models.deletion.PROTECT,
                                related_name="+",
                                to="contenttypes.contenttype",
                            ),
                        ),
                    ],
                    options={
                        "verbose_name": "événement d'audit",
                        "verbose_name_plural": "journal d'audit",
                        "ordering": ["-created_at", "-pk"],
                        "indexes": [
                            models.Index(
                                fields=["content_type", "object_id"],
                                name="audit_event_object_idx",
                            )
                        ],
                    },
                ),
            ],
        ),
        migrations.RunPython(move_content_type, move_content_type_back),
    ]
