"""Writing to the audit log: one event per change, in a single insert for many."""

from django.contrib.contenttypes.models import ContentType

from .models import Action, AuditEvent


def record_event(*, actor, action, target=None, data=None):
    """Append one event to the audit trail, such as `Action.VERSION_ACTIVATED`."""
    return record_events(actor=actor, action=action, targets=[target], data=data)[0]


def record_events(*, actor, action, targets, data=None):
    """Append one event per target in a single insert (imports of many rows)."""
    action = Action(action)  # an unknown action is a programming error, refused here
    actor = actor if actor is not None and actor.is_authenticated else None
    return AuditEvent.objects.bulk_create(
        AuditEvent(
            actor=actor,
            action=action,
            content_type=ContentType.objects.get_for_model(target) if target is not None else None,
            object_id=str(target.pk) if target is not None else "",
            object_repr=str(target)[:255] if target is not None else "",
            data=data or {},
        )
        for target in targets
    )
