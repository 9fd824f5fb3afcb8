"""What the office (and a cohort's trainers, or a jury's members) export as a
spreadsheet: a cohort's results, a deliberation's table. Each function gives
the French header row and the rows as a generator (core.exports writes them),
in a constant number of queries whatever the number of candidates.
"""

import datetime
from collections import defaultdict

from blocks.models import Competence
from candidates.models import name_ordering
from core import roles

from . import results
from .models import BlocDecision, Deliberation
from .standings import bloc_structure, shown_table, submitted_values, version_rules

COMPETENCE_STATES = {
    "acquired": "Acquise",
    "not_acquired": "Non acquise",
    "in_progress": "En cours",
    "none": "Non évaluée",
}


def competence_state(result):
    if result.acquired:
        return "acquired"
    if result.complete:
        return "not_acquired"
    return "in_progress" if result.assessed else "none"


def bloc_proposal(result):
    if result.proposed_validated:
        return "Proposé validé"
    if result.complete:
        return "Non proposé"
    return "En cours" if any(c.assessed for c in result.competences) else "Non évalué"


def cohort_results(cohort, *, viewer):
    """One line per candidate of the cohort: each criterion's mean, each
    competence's and bloc's state (from the submitted grids: the staff's
    working view) and the jury's decision on each bloc (the latest signed PV
    in force deciding it). A trainer sees no oral before the PV that decides
    on it is published, and only published decisions (as on the competence
    map). -> (header, rows)."""
    for_trainers = not roles.is_admin(viewer)
    version = cohort.certification_version
    rules = version_rules(version)
    structure = bloc_structure(version)
    competences = list(
        Competence.objects.filter(certification_version=version)
        .select_related("bloc")
        .order_by("bloc__number", "order")
    )
    blocs = list(dict.fromkeys(competence.bloc for competence in competences))
    enrolments = (
        cohort.enrolments.select_related("candidate")
        .prefetch_related("optional_blocs")
        .order_by(*name_ordering("candidate__"), "pk")
    )
    values = submitted_values(cohort.enrolments.all(), for_trainers=for_trainers)
    pvs = Deliberation.objects.effective() if for_trainers else Deliberation.objects.in_force()
    decisions = {}
    for enrolment_id, bloc_id, label in (
        BlocDecision.objects.filter(deliberation__in=pvs, enrolment__cohort=cohort)
        .order_by("deliberation__signed_at")
        .values_list("enrolment_id", "bloc_id", "decision")
    ):
        decisions[(enrolment_id, bloc_id)] = BlocDecision.Decision(label).label

    by_bloc = defaultdict(list)
    for competence in competences:
        by_bloc[competence.bloc_id].append(competence)
    header = ["Nom", "Prénoms", "Date de naissance", "Inscription"]
    for bloc in blocs:
        for competence in by_bloc[bloc.pk]:
            header += [
                f"{competence.code} critère {n}"
                for n in range(1, len(structure[bloc.pk][competence.pk]) + 1)
            ]
            header.append(f"{competence.code} compétence")
        header += [f"Bloc {bloc.number} proposition", f"Bloc {bloc.number} décision du jury"]

    def rows():
        for enrolment in enrolments.iterator(chunk_size=500):
            candidate = enrolment.candidate
            chosen = {bloc.pk for bloc in enrolment.optional_blocs.all()}
            row = [
                candidate.usage_name or candidate.birth_name,
                candidate.first_names,
                candidate.birth_date,
                enrolment.get_status_display(),
            ]
            for bloc in blocs:
                result = results.bloc_result(
                    bloc.pk, structure[bloc.pk], values[enrolment.pk], rules
                )
                taken = not bloc.optional or bloc.pk in chosen
                for competence_result in result.competences:
                    row += [criterion.mean for criterion in competence_result.criteria]
                    row.append(
                        COMPETENCE_STATES[competence_state(competence_result)] if taken else ""
                    )
                row.append(bloc_proposal(result) if taken else "Non choisi")
                row.append(decisions.get((enrolment.pk, bloc.pk), ""))
            yield row

    return header, rows()


def deliberation_export(deliberation):
    """The deliberation's table as the page shows it (as signed, once signed):
    one line per candidate, per bloc its state, the proposal, the decision and
    its justification. -> (header, rows)."""
    table = shown_table(deliberation)
    header = ["Candidat", "Date de naissance"]
    for bloc in table["blocs"]:
        number = bloc["number"]
        header += [
            f"Bloc {number} situation",
            f"Bloc {number} compétences acquises",
            f"Bloc {number} proposition",
            f"Bloc {number} décision",
            f"Bloc {number} justification",
        ]
    situations = {
        "due": "Présenté",
        "capitalised": "Capitalisé",
        "not_presented": "Non présenté",
        "not_taken": "Non choisi",
    }

    def rows():
        for row in table["rows"]:
            line = [row["candidate"], _date(row["birth_date"])]
            for cell in row["cells"]:
                proposal = cell["proposed_validated"]
                line += [
                    situations[cell["state"]],
                    # "3 sur 4", not "3/4", which a spreadsheet reads as a date.
                    f"{cell['acquired']} sur {cell['competences']}" if cell["competences"] else "",
                    "" if proposal is None else "Validé" if proposal else "Non validé",
                    cell["decision_label"],
                    cell["justification"],
                ]
            yield line

    return header, rows()


def _date(iso):
    return datetime.date.fromisoformat(iso) if iso else None
