"""The read side of deliberation: each candidate's proposals computed from the
submitted scores (through the pure results module), blocs due and decided,
capitalised blocs from PVs in force, and who re-sits what. Reads only.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Exists, OuterRef, Q

from blocks.models import Bloc, Competence, EvaluationModality
from candidates.models import Enrolment, name_ordering

from . import results
from .models import (
    AgreedScore,
    Assessment,
    BlocDecision,
    Deliberation,
    ExamSession,
    Grid,
    JuryMember,
    Score,
)


def version_rules(version):
    if version.is_numeric_scale:
        passing = version.numeric_pass_mark
    else:
        passing = min(level.value for level in version.grading_levels.all() if level.passing)
    return results.Rules(passing_mark=passing, competence_threshold=version.competence_threshold)


def published_or_written():
    """Assessments a trainer may see the results of: the written ones, and an
    oral (marked by a jury) only once a published PV has decided on it."""
    published = Deliberation.objects.filter(
        covered_assessments=OuterRef("pk"), published_at__isnull=False
    )
    return Assessment.objects.filter(
        ~Q(modality__assessed_by=EvaluationModality.AssessedBy.JURY) | Exists(published)
    )


def submitted_values(enrolments, *, for_trainers=False):
    """criterion id -> submitted values, per enrolment, from the latest attempt
    of each modality (a re-sit replaces the earlier attempt's scores). Where the
    assessors of that attempt agreed on a value after disagreeing
    (`AgreedScore`), that value alone stands for the criterion: their mean is
    the agreed value. `for_trainers`: without the orals no published PV has
    decided on yet (published_or_written)."""
    scores = Score.objects.filter(
        grid__status=Grid.Status.SUBMITTED,
        grid__assessment__enrolment__in=enrolments,
        grid__assessment__present=True,
        value__isnull=False,
    )
    if for_trainers:
        scores = scores.filter(grid__assessment__in=published_or_written())
    scores = scores.values_list(
        "grid__assessment__enrolment_id",
        "grid__assessment__session__modality_id",
        "grid__assessment__attempt",
        "criterion_id",
        "value",
    ).order_by()
    latest = {}
    for enrolment_id, modality_id, attempt, _, _ in scores:
        key = (enrolment_id, modality_id)
        latest[key] = max(latest.get(key, 0), attempt)
    values = defaultdict(lambda: defaultdict(list))
    for enrolment_id, modality_id, attempt, criterion_id, value in scores:
        if attempt == latest[(enrolment_id, modality_id)]:
            values[enrolment_id][criterion_id].append(value)
    agreed = (
        AgreedScore.objects.filter(assessment__enrolment__in=enrolments, assessment__present=True)
        .values_list(
            "assessment__enrolment_id",
            "assessment__modality_id",
            "assessment__attempt",
            "criterion_id",
            "value",
        )
        .order_by()
    )
    if for_trainers:
        agreed = agreed.filter(assessment__in=published_or_written())
    for enrolment_id, modality_id, attempt, criterion_id, value in agreed:
        if attempt == latest.get((enrolment_id, modality_id)):
            values[enrolment_id][criterion_id] = [value]
    return values


def bloc_structure(version, *, blocs=None):
    """bloc id -> {competence id -> [criterion ids]} for the whole version;
    from `blocs` when the caller already loaded them with their competences
    and criteria (prefetched), instead of loading them again."""
    structure = defaultdict(dict)
    if blocs is not None:
        competences = (competence for bloc in blocs for competence in bloc.competences.all())
    else:
        competences = (
            Competence.objects.filter(certification_version=version)
            .prefetch_related("criteria")
            .order_by("bloc__number", "order")
        )
    for competence in competences:
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


def earlier_deliberations(deliberation):
    """Signed deliberations other than this one and the PVs it rectifies: the
    attempts they decided are no longer presented here."""
    chain, current = {deliberation.pk}, deliberation
    while current.rectifies_id:
        chain.add(current.rectifies_id)
        current = current.rectifies
    return Deliberation.objects.signed().exclude(pk__in=chain)


def presented_assessments(deliberation, enrolments):
    """The attempts this deliberation decides on: candidates present at a
    session that took place (open or closed), in an attempt that no earlier
    signed PV has decided on."""
    return (
        Assessment.objects.filter(
            enrolment__in=enrolments,
            present=True,
            session__status__in=[ExamSession.Status.OPEN, ExamSession.Status.CLOSED],
        )
        .exclude(deliberations__in=earlier_deliberations(deliberation))
        .order_by()
    )


def presented_blocs(deliberation, enrolments):
    """enrolment id -> ids of the blocs the candidate presented: sat at least
    one modality of the bloc in an attempt not yet deliberated."""
    presented = defaultdict(set)
    for enrolment_id, bloc_id in presented_assessments(deliberation, enrolments).values_list(
        "enrolment_id", "session__modality__bloc_id"
    ):
        presented[enrolment_id].add(bloc_id)
    return presented


@dataclass
class CandidateRow:
    enrolment: Enrolment
    cells: list  # one BlocCell per bloc of the version

    @property
    def due_cells(self):
        return [cell for cell in self.cells if cell.due]


@dataclass
class BlocCell:
    bloc: Bloc
    taken: bool  # mandatory, or an optional bloc the candidate chose
    presented: bool  # sat in an attempt not yet deliberated, or added by the office
    capitalised: bool  # validated before: acquired for good
    result: results.BlocResult | None
    decision: BlocDecision | None

    @property
    def due(self):
        """To be decided here: taken, presented, not acquired before."""
        return self.taken and self.presented and not self.capitalised

    @property
    def state(self):
        """capitalised, due, not_presented or not_taken: what the PV says of it."""
        if self.capitalised:
            return "capitalised"
        if not self.taken:
            return "not_taken"
        return "due" if self.presented else "not_presented"


def deliberated_enrolments(deliberation):
    """The active enrolments of the cohort, in the table's order."""
    return (
        deliberation.cohort.enrolments.filter(status=Enrolment.Status.ENROLLED)
        .select_related("candidate")
        .prefetch_related("optional_blocs")
        .order_by(*name_ordering("candidate__"), "pk")
    )


def deliberation_table(deliberation, *, only=None, among=None):
    """Every active candidate of the cohort (or only the enrolment `only`, or
    only those whose ids are in `among`: a page of the table), bloc by bloc:
    proposal and decision."""
    version = deliberation.jury.certification_version
    blocs = list(version.blocs.order_by("number"))
    enrolments = deliberated_enrolments(deliberation)
    if only is not None:
        enrolments = enrolments.filter(pk=only.pk)
    if among is not None:
        enrolments = enrolments.filter(pk__in=list(among))
    rules = version_rules(version)
    structure = bloc_structure(version)
    values = submitted_values(enrolments)
    capitalised = validated_blocs(enrolments, excluding=deliberation)
    presented = presented_blocs(deliberation, enrolments)
    added = {bloc.pk for bloc in deliberation.added_blocs.all()}
    decisions = {
        (d.enrolment_id, d.bloc_id): d for d in deliberation.decisions.select_related("decided_by")
    }
    rows = []
    for enrolment in enrolments:
        chosen = {bloc.pk for bloc in enrolment.optional_blocs.all()}
        cells = []
        for bloc in blocs:
            decision = decisions.get((enrolment.pk, bloc.pk))
            cell = BlocCell(
                bloc=bloc,
                taken=not bloc.optional or bloc.pk in chosen,
                # A decision already taken keeps its bloc in scope (a rectifying PV
                # starts from the decisions of the PV it corrects).
                presented=bloc.pk in presented[enrolment.pk]
                or bloc.pk in added
                or decision is not None,
                capitalised=bloc.pk in capitalised[enrolment.pk],
                result=None,
                decision=decision,
            )
            if cell.due:
                cell.result = results.bloc_result(
                    bloc.pk, structure[bloc.pk], values[enrolment.pk], rules
                )
            cells.append(cell)
        rows.append(CandidateRow(enrolment=enrolment, cells=cells))
    return rows


def missing_decisions(deliberation, *, table=None):
    return [
        (row.enrolment, cell.bloc)
        for row in (table if table is not None else deliberation_table(deliberation))
        for cell in row.cells
        if cell.due and cell.decision is None
    ]


def due_decisions(deliberation):
    """enrolment id -> {bloc id due here -> its decision code, or None while
    undecided}, for every row of the table in its order, without reading a
    score: enough to list the rows missing a decision and count the totals
    while the page computes the proposals of its own rows only. Due exactly as
    `BlocCell.due` in deliberation_table."""
    version = deliberation.jury.certification_version
    blocs = list(version.blocs.order_by("number"))
    enrolments = deliberated_enrolments(deliberation)
    capitalised = validated_blocs(enrolments, excluding=deliberation)
    presented = presented_blocs(deliberation, enrolments)
    added = {bloc.pk for bloc in deliberation.added_blocs.all()}
    decisions = {
        (enrolment_id, bloc_id): decision
        for enrolment_id, bloc_id, decision in deliberation.decisions.values_list(
            "enrolment_id", "bloc_id", "decision"
        ).order_by()
    }
    due = {}
    for enrolment in enrolments:
        chosen = {bloc.pk for bloc in enrolment.optional_blocs.all()}
        due[enrolment.pk] = {
            bloc.pk: decisions.get((enrolment.pk, bloc.pk))
            for bloc in blocs
            if (not bloc.optional or bloc.pk in chosen)
            and (
                bloc.pk in presented[enrolment.pk]
                or bloc.pk in added
                or (enrolment.pk, bloc.pk) in decisions
            )
            and bloc.pk not in capitalised[enrolment.pk]
        }
    return due


def due_totals(blocs, due):
    """bloc_totals from due_decisions: per bloc of the frozen `blocs`."""
    totals = {
        bloc["id"]: {
            "bloc": bloc,
            "presented": 0,
            "validated": 0,
            "not_validated": 0,
            "postponed": 0,
        }
        for bloc in blocs
    }
    for decided in due.values():
        for bloc_id, decision in decided.items():
            totals[bloc_id]["presented"] += 1
            if decision:
                totals[bloc_id][decision] += 1
    return list(totals.values())


def frozen_table(deliberation, table):
    """The table as plain data (what the jury signs, stored at signature):
    blocs, one row per candidate with a cell per bloc, and the jury's members."""
    version = deliberation.jury.certification_version
    blocs = list(version.blocs.order_by("number"))
    signed_at = {s.member_id: s.signed_at for s in deliberation.signatures.all()}
    members = deliberation.jury.members.select_related("user").order_by(*JuryMember.SEATING_ORDER)
    return {
        "blocs": [
            {"id": b.pk, "number": b.number, "title": b.title, "optional": b.optional}
            for b in blocs
        ],
        "rows": [
            {
                "enrolment": row.enrolment.pk,
                "candidate": row.enrolment.candidate.full_name,
                "birth_date": (
                    row.enrolment.candidate.birth_date.isoformat()
                    if row.enrolment.candidate.birth_date
                    else ""
                ),
                "cells": [_frozen_cell(cell) for cell in row.cells],
            }
            for row in table
        ],
        "members": [
            {
                "id": member.pk,
                "name": member.user.get_full_name() or member.user.username,
                "role": member.get_role_display(),
                "external": member.external,
                "organisation": member.organisation,
                "signed_at": signed_at[member.pk].isoformat() if member.pk in signed_at else "",
            }
            for member in members
        ],
    }


def _frozen_cell(cell):
    frozen = {
        "bloc": cell.bloc.pk,
        "number": cell.bloc.number,
        "state": cell.state,
        "proposed_validated": None,
        "acquired": None,
        "competences": None,
        "complete": None,
        "decision": None,
        "decision_label": "",
        "justification": "",
    }
    if cell.result is not None:
        frozen.update(
            proposed_validated=cell.result.proposed_validated,
            acquired=cell.result.acquired_count,
            competences=cell.result.competence_count,
            complete=cell.result.complete,
        )
    if cell.decision is not None:
        frozen.update(
            decision=cell.decision.decision,
            decision_label=cell.decision.get_decision_display(),
            justification=cell.decision.justification,
        )
    return frozen


def shown_table(deliberation, *, only=None):
    """What the deliberation's page and PV show: the table as signed, frozen;
    while open, the table as it stands (only the enrolment `only`'s row, with it)."""
    if deliberation.signed_table is not None:
        table = deliberation.signed_table
        if only is not None:
            rows = [row for row in table["rows"] if row["enrolment"] == only.pk]
            table = {**table, "rows": rows}
        return table
    return frozen_table(deliberation, deliberation_table(deliberation, only=only))


def bloc_totals(table):
    """Per bloc: presented (decided here), validated, not validated, adjourned."""
    totals = {
        bloc["id"]: {
            "bloc": bloc,
            "presented": 0,
            "validated": 0,
            "not_validated": 0,
            "postponed": 0,
        }
        for bloc in table["blocs"]
    }
    for row in table["rows"]:
        for cell in row["cells"]:
            if cell["state"] == "due":
                totals[cell["bloc"]]["presented"] += 1
                if cell["decision"]:
                    totals[cell["bloc"]][cell["decision"]] += 1
    return list(totals.values())


def resit_enrolments(cohort, bloc):
    """Active enrolments that have not validated `bloc`: those a re-sit session takes."""
    enrolments = cohort.enrolments.filter(status=Enrolment.Status.ENROLLED)
    if bloc.optional:
        enrolments = enrolments.filter(optional_blocs=bloc)
    acquired = validated_blocs(enrolments)
    return [e for e in enrolments if bloc.pk not in acquired[e.pk]]


def missing_decision_counts(deliberations):
    """deliberation id -> how many decisions are still due: what
    `len(missing_decisions(deliberation))` gives, from a fixed number of narrow
    queries whatever the number of deliberations, without computing any proposal.

    The rule of `deliberation_table`: for every enrolled candidate of the
    deliberation's cohort and every bloc of the jury's version, a decision is due
    when the bloc is taken (mandatory, or an optional bloc chosen), presented (sat
    in an attempt no earlier signed PV decided on, or added by the office), and
    not capitalised (validated in a PV in force other than this one and the PV it
    rectifies); it is missing when no decision is recorded."""
    rows = list(
        deliberations.values_list(
            "pk", "cohort_id", "rectifies_id", "jury__certification_version_id"
        )
    )
    if not rows:
        return {}
    cohort_ids = {cohort_id for _, cohort_id, _, _ in rows}
    # Subqueries rather than lists of ids: hundreds of parameters cost more
    # to send than the database takes to select them again.
    enrolled = Enrolment.objects.filter(cohort_id__in=cohort_ids, status=Enrolment.Status.ENROLLED)
    enrolments = list(enrolled.values_list("pk", "cohort_id", "candidate_id"))
    by_cohort = defaultdict(list)
    for pk, cohort_id, candidate_id in enrolments:
        by_cohort[cohort_id].append((pk, candidate_id))
    chosen = defaultdict(set)
    for enrolment_id, bloc_id in Enrolment.optional_blocs.through.objects.filter(
        enrolment__in=enrolled
    ).values_list("enrolment_id", "bloc_id"):
        chosen[enrolment_id].add(bloc_id)
    blocs = defaultdict(list)
    for pk, version_id, optional in Bloc.objects.filter(
        certification_version_id__in={version_id for _, _, _, version_id in rows}
    ).values_list("pk", "certification_version_id", "optional"):
        blocs[version_id].append((pk, optional))
    # Presented: the attempts that took place, each with the signed PVs covering it.
    attempts = defaultdict(list)  # enrolment id -> [(assessment id, bloc id)]
    taken_place = Assessment.objects.filter(
        enrolment__in=enrolled,
        present=True,
        session__status__in=[ExamSession.Status.OPEN, ExamSession.Status.CLOSED],
    )
    for pk, enrolment_id, bloc_id in taken_place.values_list(
        "pk", "enrolment_id", "session__modality__bloc_id"
    ):
        attempts[enrolment_id].append((pk, bloc_id))
    covered_by = defaultdict(set)
    for assessment_id, deliberation_id in Deliberation.covered_assessments.through.objects.filter(
        assessment__in=taken_place, deliberation__status=Deliberation.Status.SIGNED
    ).values_list("assessment_id", "deliberation_id"):
        covered_by[assessment_id].add(deliberation_id)
    rectified = dict(
        Deliberation.objects.filter(rectifies__isnull=False).values_list("pk", "rectifies_id")
    )
    added = defaultdict(set)
    for deliberation_id, bloc_id in Deliberation.added_blocs.through.objects.filter(
        deliberation_id__in=[pk for pk, _, _, _ in rows]
    ).values_list("deliberation_id", "bloc_id"):
        added[deliberation_id].add(bloc_id)
    # Capitalised: validated in a PV in force, for the candidate whatever the enrolment.
    validated = defaultdict(list)  # candidate id -> [(bloc id, deliberation id)]
    for candidate_id, bloc_id, deliberation_id in BlocDecision.objects.filter(
        deliberation__in=Deliberation.objects.in_force(),
        decision=BlocDecision.Decision.VALIDATED,
        enrolment__candidate__in=enrolled.values("candidate"),
    ).values_list("enrolment__candidate_id", "bloc_id", "deliberation_id"):
        validated[candidate_id].append((bloc_id, deliberation_id))
    decided = set(
        BlocDecision.objects.filter(deliberation_id__in=[pk for pk, _, _, _ in rows]).values_list(
            "deliberation_id", "enrolment_id", "bloc_id"
        )
    )
    counts = {}
    for pk, cohort_id, rectifies_id, version_id in rows:
        chain, current = {pk}, pk
        while rectified.get(current):
            current = rectified[current]
            chain.add(current)
        count = 0
        for enrolment_id, candidate_id in by_cohort[cohort_id]:
            presented = added[pk] | {
                bloc_id
                for assessment_id, bloc_id in attempts[enrolment_id]
                if not covered_by[assessment_id] - chain
            }
            capitalised = {
                bloc_id
                for bloc_id, deliberation_id in validated[candidate_id]
                if deliberation_id not in (pk, rectifies_id)
            }
            for bloc_id, optional in blocs[version_id]:
                if (
                    (not optional or bloc_id in chosen[enrolment_id])
                    and bloc_id in presented
                    and bloc_id not in capitalised
                    and (pk, enrolment_id, bloc_id) not in decided
                ):
                    count += 1
        counts[pk] = count
    return counts
