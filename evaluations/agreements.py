"""Disagreements settled, not averaged away.

When the submitted grids of a candidate are further apart on a criterion than
the version's tolerance (one level), the assessors talk it over once every one
of them has handed in their grid, and the session's lead records the value
they agreed on, with the reason. That value replaces the assessors' mean in
the proposal (`standings.submitted_values`); the synthesis shows both. Like
the scores it settles, it freezes once a deliberation decided on them.
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from core.audit import Action, record_event

from .models import AgreedScore, Assessment, ExamSession, Grid, Score
from .results import assessors_disagree, criterion_mean
from .sessions import _deliberated, _plain, assessors_of, check_value, modality_criteria

LEAD_ONLY = "Seul(e) le/la responsable de la session enregistre la note retenue après concertation."
FROZEN = (
    "Ces notes ont servi à une délibération signée (ou en cours de signature) : la note "
    "retenue ne change plus. Une correction passe par un PV rectificatif."
)


def agreement_refusal(user, assessment, submitted):
    """Why `user` may not record an agreed value for this assessment, or None;
    `submitted`: the assessment's submitted grids. Asks three queries (the
    session's assessors and replacements, the deliberations) once the user is
    the lead. Every assessor expected to mark the candidate must have handed
    in (a replaced assessor whose grid was in counts, their replacement does
    not mark)."""
    session = assessment.session
    if session.lead_id != user.pk:
        return LEAD_ONLY
    if session.status == ExamSession.Status.CANCELLED:
        return "La session est annulée : aucune note n'y est retenue."
    if not assessment.present:
        return "Le candidat est noté absent : il n'a pas de note à retenir."
    handed_in = {grid.assessor_id for grid in submitted}
    expected = assessors_of(assessment, handed_in)
    if not submitted or not expected <= handed_in:
        return (
            "Chaque évaluateur de la session doit d'abord remettre sa grille pour ce "
            "candidat : la note retenue se décide ensuite, ensemble."
        )
    if _deliberated(min(submitted, key=lambda grid: grid.submitted_at), assessment):
        return FROZEN
    return None


def disagreement_refusal(version, values):
    """Why these submitted values of a criterion need no agreed value, or None."""
    if assessors_disagree(values, tolerance=version.disagreement_tolerance()):
        return None
    gap = (
        f"de plus de {_plain(version.disagreement_tolerance())} points"
        if version.is_numeric_scale
        else "de plus d'un niveau"
    )
    return (
        f"Les grilles remises ne s'écartent pas {gap} sur ce critère : leur moyenne "
        "s'applique, il n'y a pas de note à retenir."
    )


def record_agreed_score(assessment, *, criterion, value, reason, by):
    """Record (or change, with a new reason) the value the assessors agreed on
    for `criterion` of `assessment`, where their submitted grids disagree.

    Only the session's lead records it, once every assessor of the session has
    handed in their grid, and never after a deliberation decided on these
    scores. The audit keeps each value with its reason, the earlier one
    included."""
    reason = (reason or "").strip()
    with transaction.atomic():
        assessment = (
            Assessment.objects.select_for_update(of=("self",))
            .select_related("session__modality__bloc__certification_version")
            .get(pk=assessment.pk)
        )
        session = assessment.session
        version = session.modality.bloc.certification_version
        submitted = list(Grid.objects.filter(assessment=assessment, status=Grid.Status.SUBMITTED))
        if (refusal := agreement_refusal(by, assessment, submitted)) is not None:
            raise ValidationError(refusal)
        criteria = modality_criteria(session.modality)
        criterion = next((c for c in criteria if c.pk == criterion.pk), None)
        if criterion is None:
            raise ValidationError("Ce critère n'appartient pas à la modalité évaluée.")
        values = list(
            Score.objects.filter(
                grid__in=submitted, criterion=criterion, value__isnull=False
            ).values_list("value", flat=True)
        )
        if (refusal := disagreement_refusal(version, values)) is not None:
            raise ValidationError(refusal)
        if value is None or value == "":
            raise ValidationError("Indiquez la note retenue.")
        value = check_value(version, value)
        if not reason:
            raise ValidationError(
                "Indiquez le motif de la note retenue : ce qui a décidé les évaluateurs."
            )
        agreed = (
            AgreedScore.objects.select_for_update()
            .filter(assessment=assessment, criterion=criterion)
            .first()
        )
        if agreed is None:
            agreed = AgreedScore(assessment=assessment, criterion=criterion)
        elif agreed.value == value and agreed.reason == reason:
            return agreed  # nothing changes
        elif agreed.value != value and agreed.reason == reason:
            raise ValidationError(
                f"La note retenue était {_plain(agreed.value)} : indiquez le motif de ce "
                "changement."
            )
        old = None if agreed.pk is None else _plain(agreed.value)
        agreed.value, agreed.reason, agreed.recorded_by = value, reason, by
        agreed.save()
        record_event(
            actor=by,
            action=Action.AGREED_SCORE_RECORDED,
            target=assessment,
            data={
                "criterion": criterion.pk,
                "competence": criterion.competence.code,
                "criterion_label": criterion.label,
                "old": old,
                "new": _plain(value),
                "mean": str(criterion_mean(values)),
                "reason": reason,
            },
        )
    return agreed
