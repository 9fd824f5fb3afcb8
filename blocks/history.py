"""How the referential's audit events read in the histories (see core.history)."""

from core.history import changes_text, describes, plainly, quoted, titled
from core.models import Action

plainly(
    Action.REFERENTIAL_CREATED,
    Action.REFERENTIAL_REPLACED,
    Action.VERSION_ACTIVATED,
    Action.VERSION_ARCHIVED,
)


@describes(Action.VERSION_DUPLICATED)
def _duplicated(event, context):
    source = event.data.get("source")
    return titled(event, f"depuis {quoted(source)}" if source else "", separator=" ")


@describes(Action.MENTIONS_CHANGED)
def _mentions_changed(event, context):
    return titled(event, changes_text(event.data.get("changes") or []))
