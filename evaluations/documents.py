"""The documents of an exam session: each candidate's convocation (one page,
and every page of the session in one merged file for the office to print or
send) and the attendance sheet the candidates and the assessors sign.

Unlike a PV or a certificate, these are working documents: they say what the
session says now (a changed place or time is reprinted), so nothing of them is
numbered or frozen. One page (a convocation) or a short sheet is rendered on
request; the merged convocations of a whole session, one page per candidate,
are rendered by a background task and kept in storage under a name drawn from
their content: downloaded again unchanged, the file is served as it is; once
the session or its candidates change, the next download renders it anew.
Each document reads the session in a fixed number of queries, whatever the
number of candidates.
"""

import hashlib
import logging
import unicodedata
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.template.loader import render_to_string
from django_tasks import task

from candidates.models import Enrolment
from core.dates import french_date
from core.pdf import render_pdf
from core.people import display_name

from .minutes import css_string
from .models import ExamSession, JuryMember
from .sessions import clock

logger = logging.getLogger(__name__)

WEEKDAYS = ["lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"]
STORED_FOLDER = "convocations"
# Printed on every convocation, whatever the session's own instructions.
STANDING_INSTRUCTION = (
    "Présentez-vous muni(e) de cette convocation et d'une pièce d'identité en cours de "
    "validité : vous signerez la feuille d'émargement à votre arrivée."
)


def french_day(value):
    """« lundi 15 mars 2027 »."""
    return f"{WEEKDAYS[value.weekday()]} {french_date(value)}"


def duration_text(minutes):
    """« 45 minutes », « 2 heures », « 1 h 30 »; "" for none."""
    if not minutes:
        return ""
    hours, rest = divmod(minutes, 60)
    if not hours:
        return f"{rest} minute{'s' if rest > 1 else ''}"
    if not rest:
        return f"{hours} heure{'s' if hours > 1 else ''}"
    return f"{hours}\u00a0h\u00a0{rest:02d}"


def french_sort_key(text):
    """Alphabetical order as a French list is read: accents, case, hyphens and
    apostrophes aside (Émile between Durand and Faure), ligatures spelt out."""
    text = (text or "").replace("œ", "oe").replace("Œ", "OE").replace("æ", "ae").replace("Æ", "AE")
    text = unicodedata.normalize("NFKD", text)
    text = "".join(char for char in text if not unicodedata.combining(char))
    return " ".join(text.replace("-", " ").replace("'", " ").replace("’", " ").casefold().split())


def candidate_order(assessment):
    candidate = assessment.enrolment.candidate
    name = candidate.usage_name or candidate.birth_name
    return (
        french_sort_key(name),
        french_sort_key(candidate.first_names),
        candidate.birth_date,
        candidate.pk,
    )


def document_session(pk):
    """The session with everything its documents print, in one query."""
    return ExamSession.objects.select_related(
        "modality__bloc__certification_version", "cohort", "jury", "lead"
    ).get(pk=pk)


def session_assessments(session, *, only=None, only_enrolment=None):
    """The session's candidates in French alphabetical order (one query),
    those withdrawn from the certification since left out; `only`: one
    assessment id; `only_enrolment`: one candidate's enrolment id."""
    assessments = session.assessments.filter(
        enrolment__status=Enrolment.Status.ENROLLED
    ).select_related("enrolment__candidate")
    if only is not None:
        assessments = assessments.filter(pk=only)
    if only_enrolment is not None:
        assessments = assessments.filter(enrolment=only_enrolment)
    assessments = sorted(assessments, key=candidate_order)
    for assessment in assessments:
        assessment.session = session
    return assessments


def convocation_refusal(session):
    """Why the session's convocations cannot be produced yet (French), or None."""
    if session.status == ExamSession.Status.CANCELLED:
        return "Cette session est annulée : aucune convocation n'est produite."
    missing = []
    if session.convocation_time is None:
        missing.append("l'heure de convocation")
    if not session.duration_minutes:
        missing.append("la durée de l'épreuve")
    if missing:
        return (
            "Pour produire les convocations, indiquez d'abord "
            + " et ".join(missing)
            + " (« Modifier » sur la page de la session)."
        )
    return None


def check_convocations(session):
    refusal = convocation_refusal(session)
    if refusal:
        raise ValidationError(refusal)


def session_facts(session):
    """What every document of the session says of it."""
    modality = session.modality
    kind = modality.get_kind_display()
    return {
        # The nature of the exam, unless its title already says it.
        "kind": "" if french_sort_key(kind) == french_sort_key(modality.title) else kind,
        "session": session,
        "version": modality.bloc.certification_version,
        "bloc": modality.bloc,
        "modality": modality,
        "oral": modality.assessed_by == modality.AssessedBy.JURY,
        "day": french_day(session.date),
        "time": clock(session.convocation_time),
        "duration": duration_text(session.duration_minutes),
        "instructions": session.convocation_instructions.strip(),
    }


def convocation_context(session, assessments):
    letters = []
    for assessment in assessments:
        candidate = assessment.enrolment.candidate
        letters.append(
            {
                "assessment": assessment,
                "candidate": candidate,
                "name": candidate.full_name,
                "birth_date": french_date(candidate.birth_date),
                "salutation": {"F": "Madame", "M": "Monsieur"}.get(
                    candidate.sex, "Madame, Monsieur"
                ),
            }
        )
    return {
        **session_facts(session),
        "letters": letters,
        "standing_instruction": STANDING_INSTRUCTION,
        "running_foot": css_string(
            f"Convocation · {session.modality.code} {session.modality.title} · "
            f"{french_date(session.date)} · "
        ),
    }


def convocations_html(session, assessments):
    return render_to_string(
        "evaluations/convocation_pdf.html", convocation_context(session, assessments)
    )


def render_convocation(assessment):
    """One candidate's convocation, as PDF bytes (one page): rendered on request."""
    session = assessment.session
    check_convocations(session)
    return render_pdf(convocations_html(session, session_assessments(session, only=assessment.pk)))


# --- The merged convocations of a session: rendered by a task, kept -----------


@dataclass(frozen=True)
class MergedConvocations:
    """The merged file of a session's convocations as it reads now: its name
    in storage (drawn from its content) and its HTML."""

    name: str
    html: str
    count: int

    @property
    def stored(self):
        return default_storage.exists(self.name)


def merged_convocations(session):
    """The session's merged convocations as they read now (refused with a
    French message while a detail they print is missing)."""
    check_convocations(session)
    assessments = session_assessments(session)
    if not assessments:
        raise ValidationError("Aucun candidat n'est convoqué à cette session.")
    html = convocations_html(session, assessments)
    digest = hashlib.sha256(html.encode()).hexdigest()[:20]
    return MergedConvocations(
        name=f"{STORED_FOLDER}/session-{session.pk}-{digest}.pdf",
        html=html,
        count=len(assessments),
    )


def store_convocations(session_id):
    """Render the session's merged convocations if the file for their
    current content is not stored yet, and remove the earlier ones. Returns
    the stored name, or None when they cannot be produced."""
    session = document_session(session_id)
    try:
        merged = merged_convocations(session)
    except ValidationError as refusal:
        logger.info("Convocations non produites, session %s : %s", session_id, refusal.messages)
        return None
    if not merged.stored:
        saved = default_storage.save(merged.name, ContentFile(render_pdf(merged.html)))
        if saved != merged.name:  # rendered meanwhile by another worker: theirs stays
            default_storage.delete(saved)
    _remove_earlier(session, keep=merged.name)
    return merged.name


def _remove_earlier(session, *, keep):
    prefix = f"session-{session.pk}-"
    try:
        _folders, files = default_storage.listdir(STORED_FOLDER)
    except FileNotFoundError:
        return
    for name in files:
        path = f"{STORED_FOLDER}/{name}"
        if name.startswith(prefix) and path != keep:
            default_storage.delete(path)


@task()
def generate_convocations(session_id):
    """The merged convocations of a session, one page per candidate."""
    return store_convocations(session_id)


# --- The attendance sheet ------------------------------------------------------

SEAT_LABELS = {
    JuryMember.Role.PRESIDENT: "Président(e) du jury",
    JuryMember.Role.MEMBER: "Membre du jury",
    JuryMember.Role.EXPERT: "Expert(e) du jury",
}


def session_signatories(session):
    """Who signs the sheet beside the candidates: the session's assessors (the
    jury's members for an oral exam, president first), with their role."""
    assessors = list(session.assessors.all())
    seats = {}
    if session.jury_id:
        seats = {
            member.user_id: member
            for member in JuryMember.objects.filter(
                jury=session.jury_id, user__in=[user.pk for user in assessors]
            )
        }
    rank = {JuryMember.Role.PRESIDENT: 0, JuryMember.Role.MEMBER: 1, JuryMember.Role.EXPERT: 2}
    people = []
    for user in assessors:
        seat = seats.get(user.pk)
        role = SEAT_LABELS[seat.role] if seat else "Évaluateur(rice)"
        if user.pk == session.lead_id:
            role += ", responsable de la session"
        people.append(
            {
                "name": display_name(user),
                "role": role,
                "organisation": seat.organisation if seat else "",
                "order": (
                    rank[seat.role] if seat else 1,
                    french_sort_key(user.last_name),
                    french_sort_key(user.first_name),
                    user.pk,
                ),
            }
        )
    return sorted(people, key=lambda person: person["order"])


def attendance_context(session):
    assessments = session_assessments(session)
    return {
        **session_facts(session),
        "rows": [
            {
                "number": number,
                "name": assessment.enrolment.candidate.full_name,
                "birth_date": french_date(assessment.enrolment.candidate.birth_date),
                "attempt": assessment.attempt,
            }
            for number, assessment in enumerate(assessments, start=1)
        ],
        "signatories": session_signatories(session),
        "running_foot": css_string(
            f"Feuille d'émargement · {session.modality.code} · {french_date(session.date)} · "
            f"{session.cohort.name} · page "
        ),
    }


def render_attendance_sheet(session):
    """The attendance sheet as PDF bytes: a few pages at most, rendered on request."""
    if session.status == ExamSession.Status.CANCELLED:
        raise ValidationError("Cette session est annulée : elle n'a pas de feuille d'émargement.")
    return render_pdf(
        render_to_string("evaluations/attendance_pdf.html", attendance_context(session))
    )
