"""The database itself refuses to rewrite the audit log.

A row trigger refuses every UPDATE and DELETE of `core_auditevent`, whoever
asks: the ORM (whose `save` and `delete` refuse already), a raw SQL statement,
a shell. Both databases answer with an integrity error, which Django raises
as `django.db.IntegrityError`.

RunSQL cannot choose its SQL by database, so a RunPython runs the statements
of the database at hand; other databases get no trigger.

PostgreSQL's TRUNCATE fires no row trigger: emptying a test database between
transactional tests (Django's flush) keeps working there. SQLite's flush
deletes rows instead; the test suite's conftest lifts the trigger around it.
"""

from django.db import migrations

TABLE = "core_auditevent"
MESSAGE = "Le journal d''audit ne peut être ni modifié ni effacé."

POSTGRESQL_CREATE = [
    f"""
    CREATE OR REPLACE FUNCTION core_auditevent_refuse_change() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION '{MESSAGE} (%)', TG_OP USING ERRCODE = 'integrity_constraint_violation';
    END;
    $$
    """,
    f"""
    CREATE TRIGGER core_auditevent_append_only
    BEFORE UPDATE OR DELETE ON {TABLE}
    FOR EACH ROW EXECUTE FUNCTION core_auditevent_refuse_change()
    """,
]
POSTGRESQL_DROP = [
    f"DROP TRIGGER IF EXISTS core_auditevent_append_only ON {TABLE}",
    "DROP FUNCTION IF EXISTS core_auditevent_refuse_change()",
]

SQLITE_CREATE = [
    f"""
    CREATE TRIGGER core_auditevent_no_update BEFORE UPDATE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
    """,
    f"""
    CREATE TRIGGER core_auditevent_no_delete BEFORE DELETE ON {TABLE}
    BEGIN SELECT RAISE(ABORT, '{MESSAGE}'); END
    """,
]
SQLITE_DROP = [
    "DROP TRIGGER IF EXISTS core_auditevent_no_update",
    "DROP TRIGGER IF EXISTS core_auditevent_no_delete",
]

STATEMENTS = {
    "postgresql": (POSTGRESQL_CREATE, POSTGRESQL_DROP),
    "sqlite": (SQLITE_CREATE, SQLITE_DROP),
}


def execute(schema_editor, which):
    statements = STATEMENTS.get(schema_editor.connection.vendor)
    for statement in statements[which] if statements else []:
        schema_editor.execute(statement, params=None)


def create_triggers(apps, schema_editor):
    execute(schema_editor, 0)


def drop_triggers(apps, schema_editor):
    execute(schema_editor, 1)


class Migration(migrations.Migration):
    dependencies = [
        ("core", "0005_account_and_login_actions"),
    ]

    operations = [
        migrations.RunPython(create_triggers, drop_triggers, elidable=False),
    ]
