"""How the certificates' audit events read in the histories (see core.history)."""

from core.history import describes, label, lowered, plainly, with_reason
from core.models import Action

from .models import Certificate

plainly(Action.PRINT_REQUESTED)


def _kind(code):
    try:
        return lowered(Certificate.Kind(code).label)
    except ValueError:
        return ""


@describes(Action.CERTIFICATE_ISSUED)
def _issued(event, context):
    data = event.data
    kind = _kind(data.get("kind"))
    detail = (data.get("number") or "") + (f" ({kind})" if kind else "")
    return f"{label(event)} : {detail.strip()}" if detail.strip() else label(event)


@describes(Action.CERTIFICATE_REVOKED)
def _revoked(event, context):
    return with_reason(label(event), event.data)


@describes(Action.CERTIFICATE_SUPERSEDED)
def _superseded(event, context):
    by = event.data.get("by")
    return f"Certificat remplacé par la réédition {by}" if by else label(event)


@describes(Action.CERTIFICATE_ISSUED_AGAIN)
def _issued_again(event, context):
    data = event.data
    sentence = "Certificat délivré à nouveau"
    if data.get("number"):
        sentence += f" : {data['number']}"
    if data.get("revoked"):
        sentence += f", après la révocation du {data['revoked']}"
    return with_reason(sentence, data)
