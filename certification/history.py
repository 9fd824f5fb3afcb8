"""How the certificates' audit events read in the histories (see core.history)."""

from core.history import LONG, describes, label, lowered, plainly, shorten, with_reason
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


OUTCOMES = {"pending": "en attente", "accepted": "accepté", "rejected": "rejeté"}


def _passage(data):
    technical_id = str(data.get("technical_id") or "").strip()
    flow = data.get("flow")
    if technical_id and isinstance(flow, int):
        return f"{technical_id} (flux n° {flow})"
    return technical_id


@describes(Action.CPF_FLOW_GENERATED)
def _cpf_flow(event, context):
    data = event.data
    numbers = [str(n) for n in data.get("certificates") or [] if isinstance(n, str)]
    sentence = label(event)
    if isinstance(data.get("number"), int):
        sentence += f" : n° {data['number']}"
        if numbers:
            shown = ", ".join(numbers[:5]) + (", …" if len(numbers) > 5 else "")
            sentence += f", {len(numbers)} passage(s) ({shown})"
    return sentence


@describes(Action.CPF_OUTCOME_RECORDED)
def _cpf_outcome(event, context):
    data = event.data
    sentence = label(event)
    if passage := _passage(data):
        sentence += f" : {passage}"
        if data.get("new") in OUTCOMES:
            sentence += f", {OUTCOMES[data['new']]}"
            if data.get("old") in OUTCOMES and data["old"] != "pending":
                sentence += f" (était {OUTCOMES[data['old']]})"
    return with_reason(sentence, data)


@describes(Action.CPF_CORRECTION_NOTED)
def _cpf_correction(event, context):
    data = event.data
    sentence = label(event)
    if passage := _passage(data):
        sentence += f" : {passage}"
    note = str(data.get("note") or "").strip()
    return f"{sentence}, « {shorten(note, LONG)} »" if note else sentence
