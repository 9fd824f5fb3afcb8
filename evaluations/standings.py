"""The read side of deliberation: each candidate's proposals computed from the
submitted scores (through the pure results module), blocs due and decided,
capitalised blocs from PVs in force, and who re-sits what. Reads only.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Exists, FilteredRelation, OuterRef, Q, Value

from blocks.frozen import remembered
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
        passing = min(level.value for level in version.levels() if level.passing)
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
        for competence in (c for bloc in blocs for c in bloc.competences.all()):
            structure[competence.bloc_id][competence.pk] = [c.pk for c in competence.criteria.all()]
        return structure
    # Read once per process for a frozen version; each caller gets its own
    # outer dictionary, the shared inner ones are only read.
    structure.update(remembered(version, "bloc structure", lambda: _read_structure(version)))
    return structure


def _read_structure(version):
    """bloc_structure's reading: one narrow query, ids only (a competence
    without criteria comes with None)."""
    structure = defaultdict(dict)
    for bloc_id, competence_id, criterion_id in (
        Competence.objects.filter(certification_version=version)
        .order_by("bloc__number", "order", "pk", "criteria__order", "criteria__pk")
        .values_list("bloc_id", "pk", "criteria__pk")
    ):
        criteria = structure[bloc_id].setdefault(competence_id, [])
        if criterion_id is not None:
            criteria.append(criterion_id)
    return dict(structure)


def validated_blocs(enrolments, *, excluding=None):
    """enrolment id -> bloc ids validated in a signed deliberation in force
    (capitalisation: a validated bloc stays acquired)."""
    by_candidate = _validated_by_candidate(enrolments, excluding=excluding)
    return {enrolment.pk: by_candidate[enrolment.candidate_id] for enrolment in enrolments}


def _validated_by_candidate(enrolments, *, excluding=None):
    """candidate id -> bloc ids validated in a PV in force, for the candidates
    of `enrolments` (a queryset), whatever their enrolment: validated_blocs."""
    in_force = Deliberation.objects.in_force()
    if excluding is not None:
        in_force = in_force.exclude(pk=excluding.pk).exclude(pk=excluding.rectifies_id)
    decisions = (
        BlocDecision.objects.filter(
            deliberation__in=in_force,
            decision=BlocDecision.Decision.VALIDATED,
            enrolment__candidate__in=enrolments.values("candidate"),
        )
        .values_list("enrolment__candidate_id", "bloc_id")
        .order_by()
    )
    by_candidate = defaultdict(set)
    for candidate_id, bloc_id in decisions:
        by_candidate[candidate_id].add(bloc_id)
    return by_candidate


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


def is_due(taken, presented, capitalised):
    """To be decided here: taken, presented, not acquired before."""
    return taken and presented and not capitalised


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
        return is_due(self.taken, self.presented, self.capitalised)

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
        .order_by(*name_ordering("candidate__"), "pk")
    )


@dataclass
class DeliberationScope:
    """What a deliberation decides for whom, read without a score: the blocs
    of the version, and per enrolment (ids) the blocs taken, presented and
    capitalised, with the decisions recorded. The rows and their order come
    from it; the proposals, which read the scores, are computed apart, for the
    rows shown only."""

    blocs: list  # of the version, by number
    enrolments: list  # (enrolment id, candidate id), in the table's order
    chosen: dict  # enrolment id -> optional bloc ids chosen
    presented: dict  # enrolment id -> bloc ids sat in an attempt not yet deliberated
    capitalised: dict  # candidate id -> bloc ids validated in a PV in force
    added: set  # bloc ids the office added for every candidate
    decided: dict  # (enrolment id, bloc id) -> decision code

    def flags(self, enrolment_id, candidate_id, bloc_id, optional):
        """(taken, presented, capitalised) of one bloc of one row."""
        return (
            not optional or bloc_id in self.chosen[enrolment_id],
            # A decision already taken keeps its bloc in scope (a rectifying PV
            # starts from the decisions of the PV it corrects).
            bloc_id in self.presented[enrolment_id]
            or bloc_id in self.added
            or (enrolment_id, bloc_id) in self.decided,
            bloc_id in self.capitalised[candidate_id],
        )

    def cell(self, enrolment_id, candidate_id, bloc, decision=None):
        """The bloc's cell of one row, its proposal not computed yet."""
        taken, presented, capitalised = self.flags(
            enrolment_id, candidate_id, bloc.pk, bloc.optional
        )
        return BlocCell(
            bloc=bloc,
            taken=taken,
            presented=presented,
            capitalised=capitalised,
            result=None,
            decision=decision,
        )

    def due_decisions(self):
        """enrolment id -> {bloc id due -> its decision code, or None}: see
        due_decisions. Flags rather than cells: a row per candidate."""
        blocs = [(bloc.pk, bloc.optional) for bloc in self.blocs]
        return {
            enrolment_id: {
                bloc_id: self.decided.get((enrolment_id, bloc_id))
                for bloc_id, optional in blocs
                if is_due(*self.flags(enrolment_id, candidate_id, bloc_id, optional))
            }
            for enrolment_id, candidate_id in self.enrolments
        }


def deliberation_scope(deliberation, enrolments=None):
    """The DeliberationScope of the deliberated `enrolments` (by default every
    active enrolment of the cohort): a fixed number of narrow queries, no model
    instance per candidate."""
    if enrolments is None:
        enrolments = deliberated_enrolments(deliberation)
    # The rows in order with their optional blocs chosen: one row per bloc
    # chosen (None without any), those of an enrolment next to each other.
    candidates, chosen = {}, defaultdict(set)
    for enrolment_id, candidate_id, bloc_id in enrolments.values_list(
        "pk", "candidate_id", "optional_blocs"
    ):
        candidates[enrolment_id] = candidate_id
        if bloc_id is not None:
            chosen[enrolment_id].add(bloc_id)
    decided = {
        (enrolment_id, bloc_id): decision
        for enrolment_id, bloc_id, decision in deliberation.decisions.filter(
            enrolment__in=enrolments.values("pk")
        )
        .values_list("enrolment_id", "bloc_id", "decision")
        .order_by()
    }
    return DeliberationScope(
        blocs=list(deliberation.jury.certification_version.blocs.order_by("number")),
        enrolments=list(candidates.items()),
        chosen=chosen,
        presented=presented_blocs(deliberation, enrolments),
        capitalised=_validated_by_candidate(enrolments, excluding=deliberation),
        added=set(
            Deliberation.added_blocs.through.objects.filter(
                deliberation_id=deliberation.pk
            ).values_list("bloc_id", flat=True)
        ),
        decided=decided,
    )


def deliberation_table(deliberation, *, only=None, among=None, scope=None):
    """Every active candidate of the cohort (or only the enrolment `only`, or
    only those whose ids are in `among`: a page of the table), bloc by bloc:
    proposal and decision. `scope`: the deliberation's DeliberationScope when
    the caller already read it (for the whole cohort or at least these rows)."""
    version = deliberation.jury.certification_version
    enrolments = deliberated_enrolments(deliberation)
    if only is not None:
        enrolments = enrolments.filter(pk=only.pk)
    if among is not None:
        enrolments = enrolments.filter(pk__in=list(among))
    if scope is None:
        scope = deliberation_scope(deliberation, enrolments)
    rules = version_rules(version)
    structure = bloc_structure(version)
    values = submitted_values(enrolments)
    decisions = {
        (d.enrolment_id, d.bloc_id): d
        for d in deliberation.decisions.filter(enrolment__in=enrolments.values("pk")).order_by()
    }
    rows = []
    for enrolment in enrolments:
        cells = []
        for bloc in scope.blocs:
            cell = scope.cell(
                enrolment.pk,
                enrolment.candidate_id,
                bloc,
                decision=decisions.get((enrolment.pk, bloc.pk)),
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
    return deliberation_scope(deliberation).due_decisions()


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
        "blocs": frozen_blocs(blocs),
        "rows": frozen_rows(table),
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


def frozen_blocs(blocs):
    """The blocs of frozen_table."""
    return [
        {"id": b.pk, "number": b.number, "title": b.title, "optional": b.optional} for b in blocs
    ]


def frozen_rows(table):
    """The rows of frozen_table, from deliberation_table's rows."""
    return [
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
    ]


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
    # The deliberations, with the blocs the office added: a row per bloc added.
    rows, added = {}, defaultdict(set)
    for pk, cohort_id, rectifies_id, version_id, bloc_id in deliberations.values_list(
        "pk", "cohort_id", "rectifies_id", "jury__certification_version_id", "added_blocs"
    ):
        rows[pk] = (cohort_id, rectifies_id, version_id)
        if bloc_id is not None:
            added[pk].add(bloc_id)
    if not rows:
        return {}
    cohort_ids = {cohort_id for cohort_id, _, _ in rows.values()}
    # Subqueries rather than lists of ids: hundreds of parameters cost more
    # to send than the database takes to select them again.
    enrolled = Enrolment.objects.filter(cohort_id__in=cohort_ids, status=Enrolment.Status.ENROLLED)
    # The enrolments with their optional blocs chosen: a row per bloc chosen.
    by_cohort, chosen = defaultdict(dict), defaultdict(set)
    for pk, cohort_id, candidate_id, bloc_id in enrolled.values_list(
        "pk", "cohort_id", "candidate_id", "optional_blocs"
    ).order_by():
        by_cohort[cohort_id][pk] = candidate_id
        if bloc_id is not None:
            chosen[pk].add(bloc_id)
    blocs = defaultdict(list)
    for pk, version_id, optional in Bloc.objects.filter(
        certification_version_id__in={version_id for _, _, version_id in rows.values()}
    ).values_list("pk", "certification_version_id", "optional"):
        blocs[version_id].append((pk, optional))
    # Presented: the attempts that took place, each with the signed PVs
    # covering it (a row per PV).
    attempts = defaultdict(dict)  # enrolment id -> {assessment id: bloc id}
    covered_by = defaultdict(set)
    for pk, enrolment_id, bloc_id, deliberation_id in (
        Assessment.objects.filter(
            enrolment__in=enrolled,
            present=True,
            session__status__in=[ExamSession.Status.OPEN, ExamSession.Status.CLOSED],
        )
        .annotate(
            signed=FilteredRelation(
                "deliberations", condition=Q(deliberations__status=Deliberation.Status.SIGNED)
            )
        )
        .values_list("pk", "enrolment_id", "session__modality__bloc_id", "signed__id")
        .order_by()
    ):
        attempts[enrolment_id][pk] = bloc_id
        if deliberation_id is not None:
            covered_by[pk].add(deliberation_id)
    rectified = dict(
        Deliberation.objects.filter(rectifies__isnull=False).values_list("pk", "rectifies_id")
    )
    # In one query: the blocs validated in a PV in force, for the candidate
    # whatever the enrolment (capitalised), and the decisions of these deliberations.
    validated = defaultdict(list)  # candidate id -> [(bloc id, deliberation id)]
    decided = set()
    columns = ("kind", "enrolment__candidate_id", "enrolment_id", "bloc_id", "deliberation_id")
    capitalising = BlocDecision.objects.filter(
        deliberation__in=Deliberation.objects.in_force(),
        decision=BlocDecision.Decision.VALIDATED,
        enrolment__candidate__in=enrolled.values("candidate"),
    ).annotate(kind=Value(CAPITALISING))
    recorded = BlocDecision.objects.filter(deliberation_id__in=list(rows)).annotate(
        kind=Value(RECORDED)
    )
    for kind, candidate_id, enrolment_id, bloc_id, deliberation_id in (
        capitalising.values_list(*columns)
        .order_by()
        .union(recorded.values_list(*columns).order_by(), all=True)
    ):
        if kind == CAPITALISING:
            validated[candidate_id].append((bloc_id, deliberation_id))
        else:
            decided.add((deliberation_id, enrolment_id, bloc_id))
    counts = {}
    for pk, (cohort_id, rectifies_id, version_id) in rows.items():
        chain, current = {pk}, pk
        while rectified.get(current):
            current = rectified[current]
            chain.add(current)
        count = 0
        for enrolment_id, candidate_id in by_cohort[cohort_id].items():
            presented = added[pk] | {
                bloc_id
                for assessment_id, bloc_id in attempts[enrolment_id].items()
                if not covered_by[assessment_id] - chain
            }
            capitalised = {
                bloc_id
                for bloc_id, deliberation_id in validated[candidate_id]
                if deliberation_id not in (pk, rectifies_id)
            }
            for bloc_id, optional in blocs[version_id]:
                taken = not optional or bloc_id in chosen[enrolment_id]
                if (
                    is_due(taken, bloc_id in presented, bloc_id in capitalised)
                    and (pk, enrolment_id, bloc_id) not in decided
                ):
                    count += 1
        counts[pk] = count
    return counts


# The two kinds of decision read together by missing_decision_counts.
CAPITALISING, RECORDED = 1, 2
