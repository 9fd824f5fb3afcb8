"""A database migrated before the audit log moved to `core`, full of demo data,
migrates forward without losing a row of any table."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.test import override_settings

from core.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)

# The migrations of the platform before the redesign: every app as it stood.
BEFORE_THE_MOVE = [
    ("blocks", "0002_certificate_mentions"),
    ("candidates", "0004_name_ordering"),
    ("core", None),
]


def rows_per_table():
    with connection.cursor() as cursor:
        counts = {}
        for table in connection.introspection.table_names(cursor):
            if table == "django_migrations":  # the two migrations of the move, applied
                continue
            cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
            counts[table] = cursor.fetchone()[0]
    return counts


def audit_rows(table):
    with connection.cursor() as cursor:
        columns = "id, actor_id, action, object_id, object_repr, created_at"
        cursor.execute(f"SELECT {columns} FROM {table} ORDER BY id")
        return cursor.fetchall()


def migrate(targets):
    executor = MigrationExecutor(connection)
    executor.loader.build_graph()
    executor.migrate(targets)


@override_settings(DEBUG=True)
def test_demo_data_survives_the_move_of_the_audit_log(referential):
    call_command("seed_demo", verbosity=0)
    migrate(BEFORE_THE_MOVE)
    before = rows_per_table()
    assert "blocks_auditevent" in before and "core_auditevent" not in before
    assert "candidates_pendingimport" not in before
    assert before["blocks_auditevent"] > 0
    assert before["evaluations_score"] > 0 and before["certification_certificate"] > 0
    events = audit_rows("blocks_auditevent")

    executor = MigrationExecutor(connection)
    migrate(executor.loader.graph.leaf_nodes())

    after = rows_per_table()
    assert after.pop("core_auditevent") == before.pop("blocks_auditevent")
    assert after.pop("candidates_pendingimport") == 0
    assert after.pop("evaluations_deliberation_added_blocs") == 0
    assert after.pop("evaluations_decisionletter") == 0
    for added_later in (
        "core_profile",
        "evaluations_agreedscore",
        "evaluations_assessorreplacement",
        "evaluations_recusal",
        "certification_declarationflow",
        "certification_declaredpassage",
        "candidates_civilstatusreport",
        "core_notification",
    ):
        assert after.pop(added_later) == 0
    # The signed PV's attempts, recorded by the migration from its decisions.
    assert after.pop("evaluations_deliberation_covered_assessments") > 0
    assert after == before
    assert audit_rows("core_auditevent") == events
    assert AuditEvent.objects.count() == len(events)  # the model reads the moved table
