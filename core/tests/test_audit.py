"""The audit log: append-only, every action named by a constant with French words."""

import pytest
from django.core.exceptions import ValidationError

from core.audit import Action, record_event
from core.models import AuditEvent

pytestmark = pytest.mark.django_db


def test_an_event_is_written_with_its_french_label(admin_user, cohort):
    event = record_event(actor=admin_user, action=Action.COHORT_CHANGED, target=cohort)
    event.refresh_from_db()
    assert (event.action, event.get_action_display()) == (
        "candidates.cohort.changed",
        "promotion modifiée",
    )
    assert list(AuditEvent.objects.for_object(cohort)) == [event]


def test_an_unknown_action_is_refused(admin_user, cohort):
    before = AuditEvent.objects.count()
    with pytest.raises(ValueError, match="is not a valid Action"):
        record_event(actor=admin_user, action="candidates.cohort.renamed", target=cohort)
    assert AuditEvent.objects.count() == before


def test_the_log_is_never_changed_nor_deleted(admin_user, cohort):
    event = record_event(actor=admin_user, action=Action.COHORT_CHANGED, target=cohort)
    event.action = Action.COHORT_CREATED
    with pytest.raises(ValidationError, match="ne peut pas être modifié"):
        event.save()
    with pytest.raises(ValidationError, match="ne peut pas être effacé"):
        event.delete()
    event.refresh_from_db()
    assert event.action == "candidates.cohort.changed"
