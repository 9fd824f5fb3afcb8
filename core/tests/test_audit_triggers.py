"""The database itself refuses to rewrite the audit log: a raw UPDATE or
DELETE of an event fails on SQLite and on PostgreSQL alike."""

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor

from core.audit import record_event
from core.models import Action, AuditEvent

TABLE = AuditEvent._meta.db_table


@pytest.fixture
def event(db, admin_user):
    return record_event(actor=admin_user, action=Action.VERSION_ACTIVATED, data={"x": 1})


def run_sql(sql, params=()):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_a_raw_update_is_refused_by_the_database(event):
    with pytest.raises(IntegrityError, match="journal d'audit"):
        run_sql(f"UPDATE {TABLE} SET object_repr = %s WHERE id = %s", ["falsifié", event.pk])
    event.refresh_from_db()
    assert event.object_repr == ""


def test_a_raw_delete_is_refused_by_the_database(event):
    with pytest.raises(IntegrityError, match="journal d'audit"):
        run_sql(f"DELETE FROM {TABLE} WHERE id = %s", [event.pk])
    assert AuditEvent.objects.filter(pk=event.pk).exists()


def test_the_orm_cannot_go_around_the_model_either(event):
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).update(action=Action.VERSION_ARCHIVED)
    with pytest.raises(IntegrityError), transaction.atomic():
        AuditEvent.objects.filter(pk=event.pk).delete()
    assert AuditEvent.objects.get(pk=event.pk).action == Action.VERSION_ACTIVATED


def test_new_events_are_still_written(event):
    record_event(actor=None, action=Action.VERSION_ARCHIVED)
    assert AuditEvent.objects.count() >= 2


@pytest.mark.django_db(transaction=True)
def test_the_migration_drops_and_creates_the_triggers_again(admin_user):
    """Unapplied, the triggers go (a database migrated backwards can be
    rewritten again); applied, they come back. A transactional test: the
    test database's flush afterwards empties the audit log all the same."""
    event = record_event(actor=admin_user, action=Action.VERSION_ACTIVATED)
    executor = MigrationExecutor(connection)
    executor.migrate([("core", "0005_account_and_login_actions")])
    run_sql(f"UPDATE {TABLE} SET object_repr = %s WHERE id = %s", ["permis", event.pk])

    call_command("migrate", "core", verbosity=0)

    with pytest.raises(IntegrityError):
        run_sql(f"UPDATE {TABLE} SET object_repr = %s WHERE id = %s", ["refusé", event.pk])
    assert AuditEvent.objects.get(pk=event.pk).object_repr == "permis"
