"""The read side of deliberation: each candidate's proposals computed from the
submitted scores (through the pure results module), blocs due and decided,
capitalised blocs from PVs in force, and who re-sits what. Reads only.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.core.exceptions import ValidationError

from blocks.models import Bloc, Competence
from candidates.models import Enrolment

from . import results
from .models import (
    BlocDecision,
    Deliberation,
    Grid,
    Score,
)


def version_rules(version):
    if version.is_numeric_scale:
        passing = version.numeric_pass_mark
    else:
        passing = min(level.value for level in version.grading_levels.all() if level.passing)
    return results.Rules(passing_mark=passing, competence_threshold=version.competence_threshold)


def submitted_values(enrolments):
    """criterion id -> submitted values, per enrolment, from the latest attempt
    of each modality (a re-sit replaces the earlier attempt's scores)."""
    scores = (
        Score.objects.filter(
            grid__status=Grid.Status.SUBMITTED,
            grid__assessment__enrolment__in=enrolments,
            grid__assessment__present=True,
            value__isnull=False,
        )
        .values_list(
            "grid__assessment__enrolment_id",
            "grid__assessment__session__modality_id",
            "grid__assessment__attempt",
            "criterion_id",
            "value",
        )
        .order_by()
    )
    latest = {}
    for enrolment_id, modality_id, attempt, _, _ in scores:
        key = (enrolment_id, modality_id)
        latest[key] = max(latest.get(key, 0), attempt)
    values = defaultdict(lambda: defaultdict(list))
    for enrolment_id, modality_id, attempt, criterion_id, value in scores:
        if attempt == latest[(enrolment_id, modality_id)]:
            values[enrolment_id][criterion_id].append(value)
    return values


def bloc_structure(version):
    """bloc id -> {competence id -> [criterion ids]} for the whole version."""
    structure = defaultdict(dict)
    competences = Competence.objects.filter(certification_version=version).prefetch_related(
        "criteria"
    )
    for competence in competences.order_by("bloc__number", "order"):
        structure[competence.bloc_id][competence.pk] = [c.pk for c in competence.criteria.all()]
    return structure


def validated_blocs(enrolments, *, excluding=None):
    """enrolment id -> bloc ids validated in a signed deliberation in force
    (capitalisation: a validated bloc stays acquired)."""
    in_force = Deliberation.objects.in_force()
    if excluding is not None:
        in_force = in_force.exclude(pk=excluding.pk).exclude(pk=excluding.rectifies_id)
    decisions = BlocDecision.objects.filter(
        deliberation__in=in_force,
        decision=BlocDecision.Decision.VALIDATED,
        enrolment__candidate__in=enrolments.values("candidate"),
    ).values_list("enrolment__candidate_id", "bloc_id")
    by_candidate = defaultdict(set)
    for candidate_id, bloc_id in decisions:
        by_candidate[candidate_id].add(bloc_id)
    return {enrolment.pk: by_candidate[enrolment.candidate_id] for enrolment in enrolments}


@dataclass
class CandidateRow:
    enrolment: Enrolment
    cells: list  # one BlocCell per bloc of the version


@dataclass
class BlocCell:
    bloc: Bloc
    due: bool  # to be deliberated here
    capitalised: bool  # validated before: acquired for good
    result: results.BlocResult | None
    decision: BlocDecision | None


def deliberation_table(deliberation, *, only=None):
    """Every active candidate of the cohort (or only the enrolment `only`), bloc
    by bloc: proposal and decision."""
    version = deliberation.jury.certification_version
    blocs = list(version.blocs.order_by("number"))
    enrolments = (
        deliberation.cohort.enrolments.filter(status=Enrolment.Status.ENROLLED)
        .select_related("candidate")
        .prefetch_related("optional_blocs")
    )
    if only is not None:
        enrolments = enrolments.filter(pk=only.pk)
    rules = version_rules(version)
    structure = bloc_structure(version)
    values = submitted_values(enrolments)
    capitalised = validated_blocs(enrolments, excluding=deliberation)
    decisions = {
        (d.enrolment_id, d.bloc_id): d for d in deliberation.decisions.select_related("decided_by")
    }
    rows = []
    for enrolment in enrolments:
        chosen = {bloc.pk for bloc in enrolment.optional_blocs.all()}
        cells = []
        for bloc in blocs:
            taken = not bloc.optional or bloc.pk in chosen
            acquired = bloc.pk in capitalised[enrolment.pk]
            result = (
                results.bloc_result(bloc.pk, structure[bloc.pk], values[enrolment.pk], rules)
                if taken and not acquired
                else None
            )
            cells.append(
                BlocCell(
                    bloc=bloc,
                    due=taken and not acquired,
                    capitalised=acquired,
                    result=result,
                    decision=decisions.get((enrolment.pk, bloc.pk)),
                )
            )
        rows.append(CandidateRow(enrolment=enrolment, cells=cells))
    return rows


def decision_cell(deliberation, enrolment, bloc):
    for row in deliberation_table(deliberation, only=enrolment):
        if row.enrolment.pk == enrolment.pk:
            for cell in row.cells:
                if cell.bloc.pk == bloc.pk:
                    return cell
    raise ValidationError("Ce bloc n'appartient pas à la certification délibérée.")


def missing_decisions(deliberation, *, table=None):
    return [
        (row.enrolment, cell.bloc)
        for row in (table if table is not None else deliberation_table(deliberation))
        for cell in row.cells
        if cell.due and cell.decision is None
    ]


def resit_enrolments(cohort, bloc):
    """Active enrolments that have not validated `bloc`: those a re-sit session takes."""
    enrolments = cohort.enrolments.filter(status=Enrolment.Status.ENROLLED)
    if bloc.optional:
        enrolments = enrolments.filter(optional_blocs=bloc)
    acquired = validated_blocs(enrolments)
    return [e for e in enrolments if bloc.pk not in acquired[e.pk]]
