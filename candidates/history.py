"""How the audit events of candidates, cohorts and enrolments read in the
histories (see core.history)."""

from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.utils.dateparse import parse_date

from core.history import (
    LONG,
    change_text,
    describes,
    label,
    listed,
    names_by_username,
    plainly,
    plural,
    quoted,
    titled,
    with_reason,
)
from core.models import Action

from .models import Candidate, Cohort, Enrolment

plainly(Action.CANDIDATE_CREATED)


@describes(Action.CANDIDATE_INVITED)
def _invited(event, context):
    cohort = event.data.get("promotion")
    return label(event) + (f" avec la promotion {quoted(cohort)}" if cohort else "")


def model_changes(model, changes, *, leave_out=()):
    """{field: [old, new]} as stored by the services, in the fields' French
    names and the values' words: « nom d'usage vide → « Martin » »."""
    parts = []
    for name, pair in changes.items():
        if name in leave_out:
            continue
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            continue
        old, new = pair
        parts.append(change_text(field.verbose_name, _shown(field, old), _shown(field, new)))
    return " ; ".join(parts)


def _shown(field, value):
    if value in (None, "", "None"):
        return ""
    if field.choices:
        return dict(field.flatchoices).get(value, value)
    if isinstance(field, models.DateField) and isinstance(value, str):
        day = parse_date(value[:10])
        return f"{day:%d/%m/%Y}" if day else value
    return value


@describes(Action.CANDIDATE_CHANGED)
def _candidate_changed(event, context):
    return titled(event, model_changes(Candidate, event.data))


def _from_file(event):
    file = event.data.get("file")
    return f"du fichier {quoted(file)}" if file else ""


@describes(Action.CANDIDATE_IMPORTED)
def _candidate_imported(event, context):
    return f"Nouvelle fiche : candidat créé par import {_from_file(event)}".strip()


@describes(Action.ENROLMENT_IMPORTED)
def _enrolment_imported(event, context):
    return titled(event, _from_file(event), separator=" ")


def _trainer_names(events):
    return names_by_username(
        username for event in events for username in event.data.get("trainers") or []
    )


@describes(Action.COHORT_CREATED, Action.COHORT_CHANGED, prepare=_trainer_names)
def _cohort_saved(event, context):
    changes = model_changes(Cohort, event.data, leave_out={"trainers"})
    trainers = [(context or {}).get(name, name) for name in event.data.get("trainers") or []]
    who = f"formateurs : {listed(trainers)}" if trainers else "sans formateur"
    return f"{label(event)} : {changes} ; {who}" if changes else f"{label(event)}, {who}"


@describes(Action.ENROLMENT_CREATED)
def _enrolment_created(event, context):
    data = event.data
    route = data.get("access_route")
    blocs = data.get("optional_blocs") or []
    detail = [
        f"voie d'accès : {Enrolment.AccessRoute(route).label}" if route else "",
        (
            ("blocs optionnels choisis : " if len(blocs) > 1 else "bloc optionnel choisi : ")
            + listed(blocs)
            if blocs
            else ""
        ),
    ]
    return titled(event, listed(detail), separator=", ")


@describes(Action.ENROLMENT_REGISTRATION_CHANGED)
def _registration_changed(event, context):
    return titled(event, model_changes(Enrolment, event.data.get("changes") or {}))


@describes(Action.ENROLMENT_WITHDRAWN)
def _withdrawn(event, context):
    return with_reason(label(event), event.data)


@describes(Action.IMPORT_APPLIED)
def _import_applied(event, context):
    data = event.data
    counts = [
        plural(data["created"], "candidat créé", "candidats créés") if "created" in data else "",
        (
            plural(
                data["enrolled_existing"],
                "candidat déjà connu inscrit",
                "candidats déjà connus inscrits",
            )
            if data.get("enrolled_existing")
            else ""
        ),
        (
            plural(data["already_enrolled"], "déjà inscrit", "déjà inscrits")
            if data.get("already_enrolled")
            else ""
        ),
    ]
    file = data.get("file")
    head = label(event) + (f" depuis {quoted(file)}" if file else "")
    return f"{head} : {listed(counts)}" if listed(counts) else head


@describes(Action.CIVIL_STATUS_REPORTED)
def _civil_status_reported(event, context):
    return titled(event, quoted(event.data.get("message"), LONG))


@describes(Action.CIVIL_STATUS_REPORT_CLOSED)
def _civil_status_report_closed(event, context):
    answer = event.data.get("answer")
    return label(event) + (f", réponse : {quoted(answer, LONG)}" if answer else "")
