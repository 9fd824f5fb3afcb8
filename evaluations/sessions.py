"""State changes of exam sessions and grids: one transaction, locks on what
changes, an audit event per change, a French message when refused."""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Exists, Max, OuterRef, Q
from django.utils import timezone

from blocks.frozen import remembered
from blocks.models import Criterion, EvaluationModality
from candidates.models import Cohort
from core import roles
from core.audit import Action, record_event
from core.people import display_name

from . import notifications
from .juries import conflict_message, seat_for, trainer_conflicts
from .models import (
    Assessment,
    AssessorReplacement,
    BlocDecision,
    Deliberation,
    ExamSession,
    Grid,
    Recusal,
    Score,
)
from .standings import resit_enrolments


class StaleGrid(ValidationError):
    """The grid changed since the assessor loaded it: nothing was written."""

    def __init__(self, grid):
        self.grid = grid
        super().__init__(
            "Cette grille a été modifiée entre-temps (dans un autre onglet ou par une autre "
            "personne) : vos changements n'ont pas été enregistrés. Les valeurs les plus "
            "récentes sont affichées ; reprenez votre saisie à partir d'elles."
        )


@dataclass(frozen=True)
class CriterionEntry:
    value: Decimal | None
    comment: str = ""


def modality_criteria(modality):
    """The criteria an assessor scores in a modality, by competence then order,
    each with its competence; read once per process once the version is frozen."""
    return remembered(
        modality.bloc.certification_version,
        ("criteria", modality.pk),
        lambda: tuple(
            Criterion.objects.filter(competence__modalities=modality)
            .select_related("competence")
            .order_by("competence__order", "order")
        ),
    )


def _check_assessors(modality, cohort, assessors, lead, jury):
    oral = modality.assessed_by == EvaluationModality.AssessedBy.JURY
    needed = roles.JURY_MEMBER if oral else roles.TRAINER
    if not assessors:
        raise ValidationError("Désignez au moins un évaluateur.")
    wrong = [user for user in assessors if not roles.has_role(user, needed)]
    if wrong:
        who = "membres de jury" if oral else "formateurs"
        raise ValidationError(
            f"Cette modalité est notée par les {who} : "
            + ", ".join(display_name(user) for user in wrong)
            + (" n'a pas ce rôle." if len(wrong) == 1 else " n'ont pas ce rôle.")
        )
    if lead is not None and lead not in assessors:
        raise ValidationError("Le responsable de la session doit être l'un de ses évaluateurs.")
    if not oral:
        if jury is not None:
            raise ValidationError("Un jury ne note que les épreuves orales : retirez-le.")
        return
    if jury is None:
        raise ValidationError("Une épreuve orale est notée par un jury : choisissez-le.")
    if jury.certification_version_id != cohort.certification_version_id:
        raise ValidationError("Ce jury ne certifie pas la version suivie par cette promotion.")
    voting = {member.user_id for member in jury.members.all() if member.votes}
    outside = [user for user in assessors if user.pk not in voting]
    if outside:
        raise ValidationError(
            ", ".join(display_name(user) for user in outside)
            + " ne siège(nt) pas dans ce jury avec voix délibérative."
        )
    conflicts = trainer_conflicts(assessors, cohort)
    if conflicts:
        raise ValidationError(conflict_message(conflicts))


def create_session(
    *,
    modality,
    cohort,
    date,
    place,
    assessors,
    jury=None,
    lead=None,
    token=None,
    open_now=False,
    convocation_time=None,
    duration_minutes=None,
    convocation_instructions="",
    by,
):
    """Plan a session and give an assessment to each active candidate who has
    not yet validated the modality's bloc (capitalisation: a re-sit takes only
    the blocs not validated).

    A candidate who already sat this modality gets the next attempt number;
    the earlier assessment is kept. Creations for a cohort wait for each other
    (the cohort's row is locked), so two sessions never number attempts from
    the same past. `token`, the form's one-time token: posting the same form
    twice returns the session the first post created. With `open_now`, the
    session is open to grading at once. The convocation's time, duration and
    instructions are printed on the candidates' convocations."""
    with transaction.atomic():
        Cohort.objects.select_for_update().get(pk=cohort.pk)
        if token is not None:
            already = ExamSession.objects.filter(creation_token=token).first()
            if already is not None:
                return already
        if modality.bloc.certification_version_id != cohort.certification_version_id:
            raise ValidationError(
                "Cette modalité n'appartient pas à la certification suivie par la promotion."
            )
        _check_assessors(modality, cohort, assessors, lead, jury)
        session = ExamSession.objects.create(
            modality=modality,
            cohort=cohort,
            date=date,
            place=place,
            lead=lead,
            jury=jury,
            creation_token=token,
            convocation_time=convocation_time,
            duration_minutes=duration_minutes,
            convocation_instructions=(convocation_instructions or "").strip(),
        )
        session.assessors.set(assessors)
        enrolments = resit_enrolments(cohort, modality.bloc)
        earlier = dict(
            Assessment.objects.filter(enrolment__in=enrolments, modality=modality)
            .values("enrolment")
            .annotate(last=Max("attempt"))
            .values_list("enrolment", "last")
        )
        Assessment.objects.bulk_create(
            Assessment(
                session=session,
                enrolment=enrolment,
                modality=modality,
                attempt=earlier.get(enrolment.pk, 0) + 1,
            )
            for enrolment in enrolments
        )
        record_event(
            actor=by,
            action=Action.SESSION_CREATED,
            target=session,
            data={
                "assessors": sorted(user.username for user in assessors),
                "assessor_names": sorted(display_name(user) for user in assessors),
                **_convocation_data(session),
            },
        )
        if open_now:
            session = change_session_status(session, status=ExamSession.Status.OPEN, by=by)
    return session


def schedule_bloc(*, cohort, plans, by):
    """Every modality of a bloc planned for a cohort at once: each plan holds
    create_session's arguments for one modality. All or nothing."""
    with transaction.atomic():
        return [create_session(cohort=cohort, by=by, **plan) for plan in plans]


# edit_session's default for a convocation detail the caller does not change.
UNCHANGED = object()


def _convocation_data(session):
    """The convocation details set at creation, for its audit event."""
    data = {}
    if session.convocation_time is not None:
        data["convocation_time"] = clock(session.convocation_time)
    if session.duration_minutes is not None:
        data["duration_minutes"] = session.duration_minutes
    if session.convocation_instructions:
        data["convocation_instructions"] = session.convocation_instructions
    return data


def clock(value):
    """« 9 h 30 » from a time ("" for none)."""
    return f"{value.hour}\u00a0h\u00a0{value:%M}" if value is not None else ""


def edit_session(
    session,
    *,
    date,
    place,
    assessors,
    lead,
    jury=None,
    convocation_time=UNCHANGED,
    duration_minutes=UNCHANGED,
    convocation_instructions=UNCHANGED,
    by,
):
    """Change a session's date, place, assessors, lead, jury or convocation
    details (time, duration, instructions) while none of its grids is handed
    in; after that, an assessor is replaced with a reason (replace_assessor).
    The convocation details follow the date and place: once a grid is handed
    in the exam was held, and what the candidates were convened to stays."""
    with transaction.atomic():
        session = (
            ExamSession.objects.select_for_update(of=("self",))
            .select_related("modality", "cohort", "lead", "jury")
            .get(pk=session.pk)
        )
        if session.status not in (ExamSession.Status.PLANNED, ExamSession.Status.OPEN):
            raise ValidationError(
                f"Une session {session.get_status_display().lower()} ne se modifie plus."
            )
        if Grid.objects.filter(assessment__session=session, status=Grid.Status.SUBMITTED).exists():
            raise ValidationError(
                "Des grilles de cette session sont déjà remises : elle ne se modifie plus. "
                "Pour changer d'évaluateur, passez par « Remplacer » (avec un motif)."
            )
        _check_assessors(session.modality, session.cohort, assessors, lead, jury)
        before = list(session.assessors.order_by("last_name", "first_name"))
        after = sorted(assessors, key=lambda user: (user.last_name, user.first_name))
        changes = []

        def note(field, old, new):
            if old != new:
                changes.append({"field": field, "old": old, "new": new})

        note("date", session.date.strftime("%d/%m/%Y"), date.strftime("%d/%m/%Y"))
        note("lieu", session.place, place)
        note(
            "évaluateurs",
            ", ".join(map(display_name, before)),
            ", ".join(map(display_name, after)),
        )
        note(
            "responsable",
            display_name(session.lead) if session.lead else "",
            display_name(lead) if lead else "",
        )
        note("jury", str(session.jury or ""), str(jury or ""))
        if convocation_time is UNCHANGED:
            convocation_time = session.convocation_time
        if duration_minutes is UNCHANGED:
            duration_minutes = session.duration_minutes
        if convocation_instructions is UNCHANGED:
            convocation_instructions = session.convocation_instructions
        convocation_instructions = (convocation_instructions or "").strip()
        note("heure de convocation", clock(session.convocation_time), clock(convocation_time))
        note(
            "durée",
            f"{session.duration_minutes} min" if session.duration_minutes else "",
            f"{duration_minutes} min" if duration_minutes else "",
        )
        note("consignes", session.convocation_instructions, convocation_instructions)
        if not changes:
            return session
        session.date, session.place, session.lead, session.jury = date, place, lead, jury
        session.convocation_time = convocation_time
        session.duration_minutes = duration_minutes
        session.convocation_instructions = convocation_instructions
        session.save(
            update_fields=[
                "date",
                "place",
                "lead",
                "jury",
                "convocation_time",
                "duration_minutes",
                "convocation_instructions",
            ]
        )
        session.assessors.set(assessors)
        record_event(
            actor=by, action=Action.SESSION_CHANGED, target=session, data={"changes": changes}
        )
    return session


def replace_assessor(session, *, replaced, replacement, reason, by):
    """Replace an assessor who can no longer mark (illness, for example). Their
    handed-in grids still count for their candidates, whom the replacement
    does not mark; their drafts are kept and count for nothing; the
    replacement marks every other candidate. The lead's role passes on."""
    reason = (reason or "").strip()
    with transaction.atomic():
        session = (
            ExamSession.objects.select_for_update(of=("self",))
            .select_related("modality", "cohort", "jury")
            .get(pk=session.pk)
        )
        if session.status not in (ExamSession.Status.PLANNED, ExamSession.Status.OPEN):
            raise ValidationError(
                f"Une session {session.get_status_display().lower()} ne change plus d'évaluateurs."
            )
        if not reason:
            raise ValidationError("Indiquez le motif du remplacement.")
        assessors = list(session.assessors.all())
        if replaced not in assessors:
            raise ValidationError(f"{display_name(replaced)} n'évalue pas cette session.")
        if replacement in assessors:
            raise ValidationError(f"{display_name(replacement)} évalue déjà cette session.")
        lead = replacement if session.lead_id == replaced.pk else session.lead
        remaining = [user for user in assessors if user != replaced] + [replacement]
        _check_assessors(session.modality, session.cohort, remaining, lead, session.jury)
        drafts = Grid.objects.filter(
            assessment__session=session, assessor=replaced, status=Grid.Status.DRAFT
        ).count()
        session.assessors.remove(replaced)
        session.assessors.add(replacement)
        if lead != session.lead:
            session.lead = lead
            session.save(update_fields=["lead"])
        AssessorReplacement.objects.create(
            session=session,
            replaced=replaced,
            replacement=replacement,
            reason=reason,
            recorded_by=by,
        )
        record_event(
            actor=by,
            action=Action.ASSESSOR_REPLACED,
            target=session,
            data={
                "replaced": display_name(replaced),
                "replacement": display_name(replacement),
                "reason": reason,
                "drafts_kept": drafts,
            },
        )
    return session


def cancel_session(session, *, reason, by):
    """Cancel a planned session: nobody has sat it, so its candidates' places
    are released (the next session of the modality is their same attempt);
    the session itself stays, cancelled, with its reason."""
    reason = (reason or "").strip()
    with transaction.atomic():
        session = ExamSession.objects.select_for_update().get(pk=session.pk)
        if session.status != ExamSession.Status.PLANNED:
            raise ValidationError(
                "Seule une session planifiée s'annule ; une session ouverte se clôt."
            )
        if not reason:
            raise ValidationError("Indiquez le motif de l'annulation.")
        assessments = session.assessments.all()
        count = assessments.count()
        assessments.delete()
        session.status = ExamSession.Status.CANCELLED
        session.cancellation_reason = reason
        session.save(update_fields=["status", "cancellation_reason"])
        record_event(
            actor=by,
            action=Action.SESSION_CANCELLED,
            target=session,
            data={"reason": reason, "candidates": count},
        )
    return session


def expected_assessors(assessor_ids, replacements, submitted_ids):
    """Who marks one candidate: the session's assessors, except where a
    replaced assessor had handed in this candidate's grid before being
    replaced: that grid counts and their replacement does not mark.

    `replacements`: (replaced id, replacement id) in the order they happened;
    `submitted_ids`: assessors whose grid for the candidate is handed in."""
    earlier_holders = {}  # current assessor -> those who held their place before, in order
    for replaced, replacement in replacements:
        earlier_holders[replacement] = earlier_holders.pop(replaced, []) + [replaced]
    expected = set()
    for assessor in assessor_ids:
        handed_in = [held for held in earlier_holders.get(assessor, []) if held in submitted_ids]
        expected.add(handed_in[0] if handed_in else assessor)
    return expected


def recused_users(session):
    """enrolment id -> ids of the jury members who stand aside for that
    candidate (an oral session's jury); they do not mark them."""
    recused = {}
    if session.jury_id:
        for enrolment_id, user_id in Recusal.objects.filter(
            member__jury=session.jury_id
        ).values_list("enrolment", "member__user"):
            recused.setdefault(enrolment_id, set()).add(user_id)
    return recused


def assessors_of(assessment, submitted_ids):
    """Who marks this candidate: the session's assessors after replacements
    (expected_assessors), without the jury members who stand aside for them."""
    session = assessment.session
    expected = expected_assessors(
        set(session.assessors.values_list("pk", flat=True)),
        list(session.replacements.values_list("replaced", "replacement")),
        submitted_ids,
    )
    return expected - recused_users(session).get(assessment.enrolment_id, set())


def grading_state(session):
    """assessment -> (expected assessor ids, submitted assessor ids), for the
    present candidates of the session, in four queries."""
    assessor_ids = set(session.assessors.values_list("pk", flat=True))
    replacements = list(session.replacements.values_list("replaced", "replacement"))
    recused = recused_users(session)
    submitted = {}
    for assessment_id, assessor_id in Grid.objects.filter(
        assessment__session=session, status=Grid.Status.SUBMITTED
    ).values_list("assessment", "assessor"):
        submitted.setdefault(assessment_id, set()).add(assessor_id)
    state = {}
    for assessment in session.assessments.filter(present=True).select_related(
        "enrolment__candidate"
    ):
        done = submitted.get(assessment.pk, set())
        expected = expected_assessors(assessor_ids, replacements, done)
        state[assessment] = (expected - recused.get(assessment.enrolment_id, set()), done)
    return state


def ungraded_candidates(session):
    """Present candidates whose grids are not all handed in: named before a
    session is closed."""
    return [
        assessment.enrolment.candidate
        for assessment, (expected, done) in grading_state(session).items()
        if not expected <= done
    ]


class UngradedCandidates(ValidationError):
    """Closing was asked while present candidates are not fully graded."""

    def __init__(self, candidates):
        self.candidates = candidates
        super().__init__(
            "Ces candidats présents n'ont pas toutes leurs grilles remises : "
            + ", ".join(candidate.full_name for candidate in candidates)
            + ". Confirmez pour clore quand même."
        )


SESSION_MOVES = {
    ExamSession.Status.PLANNED: {ExamSession.Status.OPEN},
    ExamSession.Status.OPEN: {ExamSession.Status.CLOSED},
    ExamSession.Status.CLOSED: {ExamSession.Status.OPEN},
}


def change_session_status(session, *, status, by, confirmed=False):
    """Open, close or reopen a session. Closing while present candidates are
    not fully graded needs `confirmed` (UngradedCandidates names them)."""
    if status not in ExamSession.Status.values:
        raise ValidationError("Ce statut de session n'existe pas.")
    with transaction.atomic():
        session = ExamSession.objects.select_for_update().get(pk=session.pk)
        if status not in SESSION_MOVES.get(session.status, set()):
            raise ValidationError(
                f"Une session {session.get_status_display().lower()} ne peut pas passer à "
                f"« {ExamSession.Status(status).label.lower()} »."
            )
        if status == ExamSession.Status.CLOSED and not confirmed:
            ungraded = ungraded_candidates(session)
            if ungraded:
                raise UngradedCandidates(ungraded)
        old = session.status
        session.status = status
        session.save(update_fields=["status"])
        record_event(
            actor=by,
            action=Action.SESSION_STATUS_CHANGED,
            target=session,
            data={"old": old, "new": status},
        )
        if status == ExamSession.Status.OPEN:
            notifications.session_opened(session)
    return session


def set_presence(assessment, *, present, by):
    with transaction.atomic():
        assessment = (
            Assessment.objects.select_for_update().select_related("session").get(pk=assessment.pk)
        )
        if not assessment.session.is_open:
            raise ValidationError("La session n'est pas ouverte à la notation.")
        if assessment.grids.filter(status=Grid.Status.SUBMITTED).exists():
            raise ValidationError("Une grille est déjà remise pour ce candidat.")
        if assessment.present != present:
            assessment.present = present
            assessment.save(update_fields=["present"])
            record_event(
                actor=by,
                action=Action.PRESENCE_CHANGED,
                target=assessment,
                data={"present": present},
            )
    return assessment


def check_value(version, value):
    """The value as a Decimal on the version's scale, or a French refusal."""
    if value is None:
        return None
    try:
        value = Decimal(str(value))
    except InvalidOperation:
        raise ValidationError(f"« {value} » n'est pas une note.") from None
    if not value.is_finite():
        raise ValidationError(f"« {value} » n'est pas une note.")
    if version.is_numeric_scale:
        if not 0 <= value <= version.numeric_max or value != value.quantize(Decimal("0.01")):
            raise ValidationError(
                f"La note {value} est hors de l'échelle (de 0 à {version.numeric_max})."
            )
    elif value not in version.scale_values():
        raise ValidationError(f"La valeur {value} n'est pas un niveau de l'échelle.")
    return value


def _locked_grid(assessment, assessor):
    """The assessor's grid, locked, with its scores by criterion id."""
    grid = Grid.objects.select_for_update().filter(assessment=assessment, assessor=assessor).first()
    if grid is None:
        # Created here, or by another request first (then theirs is used).
        Grid.objects.bulk_create(
            [Grid(assessment=assessment, assessor=assessor)], ignore_conflicts=True
        )
        grid = Grid.objects.select_for_update().get(assessment=assessment, assessor=assessor)
    # Already loaded: the audit events name the grid without loading them again.
    grid.assessment, grid.assessor = assessment, assessor
    if grid.revision == 0:
        return grid, {}  # never saved: no score yet
    return grid, {score.criterion_id: score for score in grid.scores.select_for_update()}


def save_grid(
    assessment,
    *,
    assessor,
    revision,
    entries,
    overall_comment,
    reason="",
    submit=False,
    criteria=None,
):
    """Save an assessor's scores for one candidate; with `submit`, hand the grid in.

    `entries` maps criterion ids to CriterionEntry. `revision` is the grid's
    revision the assessor started from: if the grid moved on since, nothing is
    written and StaleGrid says so. A submitted grid changes only with a reason.
    `criteria`: the modality's criteria (`modality_criteria`), when the caller
    already has them."""
    reason = (reason or "").strip()
    # A session never changes modality: the caller's serves for checking the
    # values and naming the grid.
    modality = assessment.session.modality
    with transaction.atomic():
        assessment = (
            Assessment.objects.select_related(
                "session__cohort", "session__jury", "enrolment__candidate"
            )
            .annotate(
                by_assessor=Exists(
                    ExamSession.assessors.through.objects.filter(
                        examsession_id=OuterRef("session_id"), user_id=assessor.pk
                    )
                ),
                by_replacement=Exists(
                    AssessorReplacement.objects.filter(
                        session_id=OuterRef("session_id"), replacement_id=assessor.pk
                    )
                ),
            )
            .get(pk=assessment.pk)
        )
        session = assessment.session
        session.modality = modality
        if not session.is_open:
            raise ValidationError("La session n'est pas ouverte à la notation : rien n'a changé.")
        if not assessment.by_assessor:
            raise ValidationError("Vous n'êtes pas évaluateur de cette session.")
        if not assessment.present:
            raise ValidationError("Le candidat est noté absent : sa grille ne se remplit pas.")
        if assessment.by_replacement:
            _check_not_marked_by_replaced(session, assessment, assessor)
        if session.jury_id:
            seat_for(session.jury, assessor, enrolment=assessment.enrolment)
            if trainer_conflicts([assessor], session.cohort):
                raise ValidationError(conflict_message([assessor]))
        grid, scores = _locked_grid(assessment, assessor)
        if revision != grid.revision:
            raise StaleGrid(grid)
        if grid.is_submitted and _deliberated(grid, assessment):
            raise ValidationError(
                "Ces notes ont servi à une délibération signée (ou en cours de signature) : "
                "elles ne changent plus. Une correction passe par un PV rectificatif."
            )
        if criteria is None:
            criteria = modality_criteria(session.modality)
        criteria = {criterion.pk: criterion for criterion in criteria}
        unknown = sorted(set(entries) - set(criteria))
        if unknown:
            raise ValidationError(
                "Ces critères n'appartiennent pas à la modalité évaluée : "
                + ", ".join(str(pk) for pk in unknown)
                + "."
            )
        version = session.modality.bloc.certification_version
        cleaned = {
            pk: (check_value(version, e.value), e.comment.strip()) for pk, e in entries.items()
        }
        changes = _score_changes(scores, cleaned)
        comment_changed = overall_comment.strip() != grid.overall_comment
        if grid.is_submitted and (changes or comment_changed) and not reason:
            raise ValidationError(
                "Cette grille est déjà remise : indiquez le motif de la modification."
            )
        if submit and not grid.is_submitted:
            missing = [
                criteria[pk]
                for pk in criteria
                if (cleaned[pk][0] if pk in cleaned else getattr(scores.get(pk), "value", None))
                is None
            ]
            if missing:
                raise ValidationError(
                    f"Notez tous les critères avant de remettre la grille : {len(missing)} "
                    "critère(s) sans note."
                )
        for pk, (value, comment) in changes.items():
            score = scores.get(pk) or Score(grid=grid, criterion=criteria[pk])
            change = {
                "criterion": pk,
                "competence": criteria[pk].competence.code,
                "old": _plain(score.value),
                "new": _plain(value),
            }
            if comment != score.comment:
                change |= {"old_comment": score.comment, "new_comment": comment}
            if grid.is_submitted:
                change["reason"] = reason
            score.value, score.comment = value, comment
            score.save()
            record_event(actor=assessor, action=Action.SCORE_CHANGED, target=grid, data=change)
        if comment_changed:
            record_event(
                actor=assessor,
                action=Action.GRID_COMMENT_CHANGED,
                target=grid,
                data={
                    "old": grid.overall_comment,
                    "new": overall_comment.strip(),
                    **({"reason": reason} if grid.is_submitted else {}),
                },
            )
            grid.overall_comment = overall_comment.strip()
        if submit and not grid.is_submitted:
            grid.status = Grid.Status.SUBMITTED
            grid.submitted_at = timezone.now()
            record_event(actor=assessor, action=Action.GRID_SUBMITTED, target=grid)
        if changes or comment_changed or submit:
            grid.revision += 1
            grid.save()
    return grid


def _check_not_marked_by_replaced(session, assessment, assessor):
    """A replacement does not mark the candidates whose grid the assessor they
    replace had already handed in."""
    replacements = list(session.replacements.values_list("replaced", "replacement"))
    if not any(replacement == assessor.pk for _, replacement in replacements):
        return
    submitted = set(
        assessment.grids.filter(status=Grid.Status.SUBMITTED).values_list("assessor", flat=True)
    )
    if assessor.pk not in expected_assessors({assessor.pk}, replacements, submitted):
        raise ValidationError(
            "La grille de ce candidat a été remise par l'évaluateur que vous remplacez : "
            "elle compte, vous ne le notez pas."
        )


def _deliberated(grid, assessment):
    """Whether a signed deliberation, or one whose signing has begun, decided
    this bloc for this candidate from this grid."""
    return BlocDecision.objects.filter(
        Q(deliberation__signed_at__gte=grid.submitted_at)
        | Q(deliberation__status=Deliberation.Status.OPEN, deliberation__signatures__isnull=False),
        enrolment=assessment.enrolment,
        bloc_id=assessment.session.modality.bloc_id,
    ).exists()


def _score_changes(scores, cleaned):
    """The entries that differ from what is stored."""
    changes = {}
    for pk, (value, comment) in cleaned.items():
        stored = scores.get(pk)
        if stored is None and value is None and not comment:
            continue
        if stored is None or stored.value != value or stored.comment != comment:
            changes[pk] = (value, comment)
    return changes


def _plain(value):
    return None if value is None else format(Decimal(value).normalize(), "f")
