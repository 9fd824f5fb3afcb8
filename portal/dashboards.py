"""What each role sees at a glance. Reads only: every number comes from a
fixed number of queries, whatever the number of candidates."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Count, Q
from django.utils import timezone

from blocks.models import Competence
from candidates.models import Cohort, Enrolment
from certification.models import Certificate
from certification.services import due_bloc_decisions
from evaluations import results
from evaluations.models import (
    Assessment,
    BlocDecision,
    Deliberation,
    ExamSession,
    Grid,
    JuryMember,
    Score,
)
from evaluations.standings import bloc_structure, missing_decisions, submitted_values, version_rules

# --- The candidate --------------------------------------------------------------


@dataclass
class BlocProgress:
    bloc: object
    state: str  # "validated", "in_progress", "to_take", "not_chosen"
    acquired: int = 0
    total: int = 0
    decision: BlocDecision | None = None
    published: list = field(default_factory=list)  # (competence, CompetenceResult, rows)

    @property
    def percent(self):
        return round(100 * self.acquired / self.total) if self.total else 0

    @property
    def state_label(self):
        return STATE_LABELS[self.state]


STATE_LABELS = {
    "validated": "Validé",
    "in_progress": "En cours",
    "to_take": "À passer",
    "not_chosen": "Non choisi (optionnel)",
}


def published_decisions(candidate):
    """bloc id -> the candidate's latest decision in a published deliberation in force."""
    decisions = (
        BlocDecision.objects.filter(
            enrolment__candidate=candidate,
            deliberation__in=Deliberation.objects.in_force(),
            deliberation__published_at__isnull=False,
        )
        .select_related("deliberation__jury", "bloc")
        .order_by("deliberation__signed_at")
    )
    return {decision.bloc_id: decision for decision in decisions}


def published_scores(candidate, decisions):
    """The scores a candidate may see: those of the blocs a published
    deliberation decided, handed in before it was signed, from the latest
    attempt of each modality (as the jury's proposal)."""
    visible = Q(pk__in=[])
    for bloc_id, decision in decisions.items():
        visible |= Q(
            grid__assessment__session__modality__bloc_id=bloc_id,
            grid__submitted_at__lte=decision.deliberation.signed_at,
        )
    scores = list(
        Score.objects.filter(
            visible,
            grid__status=Grid.Status.SUBMITTED,
            grid__assessment__enrolment__candidate=candidate,
            grid__assessment__present=True,
        )
        .select_related(
            "grid__assessor", "grid__assessment__session__modality", "criterion__competence"
        )
        .order_by("grid__assessment__session__date", "criterion__order")
    )
    latest = defaultdict(int)
    for score in scores:
        modality = score.grid.assessment.session.modality_id
        latest[modality] = max(latest[modality], score.grid.assessment.attempt)
    return [
        score
        for score in scores
        if score.grid.assessment.attempt == latest[score.grid.assessment.session.modality_id]
    ]


def candidate_progress(enrolment):
    version = enrolment.cohort.certification_version
    rules = version_rules(version)
    structure = bloc_structure(version)
    decisions = published_decisions(enrolment.candidate)
    # Only what a published deliberation decided: nothing before publication.
    acquired = {bloc_id for bloc_id, decision in decisions.items() if decision.is_validated}
    chosen = {bloc.pk for bloc in enrolment.optional_blocs.all()}
    scores = published_scores(enrolment.candidate, decisions)
    values = defaultdict(list)
    comments = defaultdict(list)
    for score in scores:
        if score.value is not None:
            values[score.criterion_id].append(score.value)
        if score.comment:
            comments[score.criterion_id].append(score)
    sat = set(
        Assessment.objects.filter(enrolment=enrolment).values_list(
            "session__modality__bloc_id", flat=True
        )
    )
    progress = []
    blocs = list(version.blocs.order_by("number").prefetch_related("competences__criteria"))
    for bloc in blocs:
        total = len(structure[bloc.pk])
        if bloc.optional and bloc.pk not in chosen:
            progress.append(BlocProgress(bloc=bloc, state="not_chosen", total=total))
            continue
        decision = decisions.get(bloc.pk)
        entry = BlocProgress(bloc=bloc, state="to_take", total=total, decision=decision)
        if bloc.pk in acquired:
            entry.state, entry.acquired = "validated", total
        elif bloc.pk in sat:
            entry.state = "in_progress"
        if decision is not None:
            outcome = results.bloc_result(bloc.pk, structure[bloc.pk], values, rules)
            if bloc.pk not in acquired:
                entry.acquired = outcome.acquired_count
            competences = {c.pk: c for c in bloc.competences.all()}
            criteria = {c.pk: c for comp in competences.values() for c in comp.criteria.all()}
            entry.published = [
                (
                    competences[result.competence_id],
                    result,
                    [
                        (criteria[c.criterion_id], c, comments.get(c.criterion_id, []))
                        for c in result.criteria
                    ],
                )
                for result in outcome.competences
            ]
        progress.append(entry)
    return progress


def upcoming_sessions(enrolment):
    return (
        ExamSession.objects.filter(
            assessments__enrolment=enrolment,
            date__gte=timezone.localdate(),
            status__in=[ExamSession.Status.PLANNED, ExamSession.Status.OPEN],
        )
        .select_related("modality__bloc")
        .order_by("date")
    )


# --- The trainer ----------------------------------------------------------------


def session_progress(sessions):
    """Sessions with how far their grading is: grids handed in out of those
    expected (present candidates times assessors)."""
    sessions = sessions.select_related("modality__bloc", "cohort").annotate(
        present_count=Count("assessments", filter=Q(assessments__present=True), distinct=True),
        assessor_count=Count("assessors", distinct=True),
        submitted_count=Count(
            "assessments__grids",
            filter=Q(assessments__grids__status=Grid.Status.SUBMITTED),
            distinct=True,
        ),
    )
    sessions = list(sessions)
    for session in sessions:
        session.expected = session.present_count * session.assessor_count
        session.percent = (
            round(100 * session.submitted_count / session.expected) if session.expected else 0
        )
    return sessions


@dataclass
class HeatmapRow:
    enrolment: Enrolment
    cells: list  # (competence, state, assessment id or None)

    @property
    def acquired(self):
        return sum(state == "acquired" for _, state, _ in self.cells)


def cohort_heatmap(cohort, *, viewer):
    """Candidates x competences: acquired, not acquired, or not yet assessed,
    from the grids handed in (the staff's working view, not the published one)."""
    version = cohort.certification_version
    rules = version_rules(version)
    structure = bloc_structure(version)
    enrolments = list(
        cohort.enrolments.filter(status=Enrolment.Status.ENROLLED).select_related("candidate")
    )
    values = submitted_values(cohort.enrolments.filter(status=Enrolment.Status.ENROLLED))
    competences = list(
        Competence.objects.filter(certification_version=version).order_by("bloc__number", "order")
    )
    # The viewer's grid for each (enrolment, competence), to link the cell to it.
    links = {}
    for enrolment_id, competence_id, assessment_id in Assessment.objects.filter(
        enrolment__in=enrolments, session__assessors=viewer
    ).values_list("enrolment_id", "session__modality__competences", "pk"):
        links[(enrolment_id, competence_id)] = assessment_id
    rows = []
    for enrolment in enrolments:
        cells = []
        for competence in competences:
            criteria = structure[competence.bloc_id][competence.pk]
            result = results.competence_result(
                competence.pk,
                [
                    results.criterion_result(c, values[enrolment.pk].get(c, []), rules)
                    for c in criteria
                ],
                rules,
            )
            state = "acquired" if result.acquired else "not_acquired" if result.assessed else "none"
            cells.append((competence, state, links.get((enrolment.pk, competence.pk))))
        rows.append(HeatmapRow(enrolment=enrolment, cells=cells))
    return competences, rows


# --- The jury member ------------------------------------------------------------


def jury_dashboard(user):
    seats = list(JuryMember.objects.filter(user=user).select_related("jury"))
    sessions = session_progress(
        ExamSession.objects.for_assessor(user).filter(status=ExamSession.Status.OPEN)
    )
    deliberations = []
    for deliberation in Deliberation.objects.filter(
        jury__members__user=user, status=Deliberation.Status.OPEN
    ).select_related("jury__certification_version", "cohort"):
        deliberations.append(
            (
                deliberation,
                len(missing_decisions(deliberation)),
                deliberation.signatures.filter(member__user=user).exists(),
            )
        )
    return {
        "seats": seats,
        "to_declare": [seat for seat in seats if not seat.has_declared],
        "sessions": sessions,
        "deliberations": deliberations,
    }


# --- The office -----------------------------------------------------------------


def office_numbers():
    enrolled = Enrolment.objects.filter(status=Enrolment.Status.ENROLLED).count()
    grids = Grid.objects.aggregate(
        submitted=Count("pk", filter=Q(status=Grid.Status.SUBMITTED)),
        draft=Count("pk", filter=Q(status=Grid.Status.DRAFT)),
    )
    open_deliberations = Deliberation.objects.filter(status=Deliberation.Status.OPEN).count()
    to_print = due_bloc_decisions().count()  # of every deliberation in force, in one query
    revoked = Certificate.objects.filter(status=Certificate.Status.REVOKED).count()
    return {
        "cohorts": Cohort.objects.count(),
        "enrolled": enrolled,
        "grids_submitted": grids["submitted"],
        "grids_draft": grids["draft"],
        "open_sessions": ExamSession.objects.filter(status=ExamSession.Status.OPEN).count(),
        "open_deliberations": open_deliberations,
        "to_publish": Deliberation.objects.signed().filter(published_at__isnull=True).count(),
        "to_print": to_print,
        "valid_certificates": Certificate.objects.valid().count(),
        "revoked": revoked,
    }


# --- The candidate's personal data (RGPD) -----------------------------------------


IDENTITY_LABELS = {
    "nom_de_naissance": "Nom de naissance",
    "nom_d_usage": "Nom d'usage",
    "prenoms": "Prénoms",
    "sexe": "Sexe",
    "date_de_naissance": "Date de naissance",
    "commune_de_naissance": "Commune de naissance",
    "code_insee_de_naissance": "Code INSEE de la commune de naissance",
    "pays_de_naissance": "Pays de naissance",
    "courriel": "Courriel",
    "telephone": "Téléphone",
    "compte": "Identifiant du compte",
}


def personal_data(candidate):
    """Everything the platform holds on the candidate, scores and comments
    included once published; nothing about anyone else."""
    enrolments = list(
        candidate.enrolments.select_related("cohort__certification_version").prefetch_related(
            "optional_blocs"
        )
    )
    data = {
        "identite": {
            "nom_de_naissance": candidate.birth_name,
            "nom_d_usage": candidate.usage_name,
            "prenoms": candidate.first_names,
            "sexe": candidate.get_sex_display(),
            "date_de_naissance": candidate.birth_date.isoformat(),
            "commune_de_naissance": candidate.birth_commune,
            "code_insee_de_naissance": candidate.birth_insee_code,
            "pays_de_naissance": candidate.birth_country,
            "courriel": candidate.email,
            "telephone": candidate.phone,
            "compte": candidate.user.username if candidate.user_id else None,
        },
        "inscriptions": [],
        "evaluations": [],
        "decisions_publiees": [],
        "certificats": [],
    }
    decisions = published_decisions(candidate)
    for decision in decisions.values():
        data["decisions_publiees"].append(
            {
                "bloc": decision.bloc.number,
                "decision": decision.get_decision_display(),
                "justification": decision.justification,
                "jury": decision.deliberation.jury.name,
                "proces_verbal": decision.deliberation.pk,
                "publie_le": decision.deliberation.published_at.isoformat(),
            }
        )
    scores_by_assessment = defaultdict(list)
    for score in published_scores(candidate, decisions):
        scores_by_assessment[score.grid.assessment_id].append(score)
    for enrolment in enrolments:
        data["inscriptions"].append(
            {
                "promotion": enrolment.cohort.name,
                "certification": str(enrolment.cohort.certification_version),
                "voie_d_acces": enrolment.get_access_route_display(),
                "blocs_optionnels": [bloc.number for bloc in enrolment.optional_blocs.all()],
                "statut": enrolment.get_status_display(),
                "inscrit_le": enrolment.created_at.isoformat(),
                "retire_le": enrolment.withdrawn_at.isoformat() if enrolment.withdrawn_at else None,
                "motif_du_retrait": enrolment.withdrawal_reason,
            }
        )
        for assessment in (
            Assessment.objects.filter(enrolment=enrolment)
            .select_related("session__modality")
            .prefetch_related("grids__assessor")
            .order_by("session__date")
        ):
            scores = scores_by_assessment.get(assessment.pk, [])
            published_grids = {score.grid_id for score in scores}
            data["evaluations"].append(
                {
                    "modalite": f"{assessment.session.modality.code} "
                    f"{assessment.session.modality.title}",
                    "date": assessment.session.date.isoformat(),
                    "lieu": assessment.session.place,
                    "tentative": assessment.attempt,
                    "present": assessment.present,
                    "notes_publiees": [
                        {
                            "competence": score.criterion.competence.code,
                            "critere": score.criterion.label,
                            "evaluateur": score.grid.assessor.get_full_name()
                            or score.grid.assessor.username,
                            "note": format(score.value.normalize(), "f")
                            if score.value is not None
                            else None,
                            "commentaire": score.comment,
                        }
                        for score in scores
                    ],
                    "commentaires_generaux_publies": [
                        grid.overall_comment
                        for grid in assessment.grids.all()
                        if grid.pk in published_grids and grid.overall_comment
                    ],
                }
            )
    for certificate in candidate.certificates.order_by("year", "sequence"):
        data["certificats"].append(
            {
                "numero": certificate.number,
                "objet": certificate.get_kind_display(),
                "bloc": certificate.mentions.get("bloc", {}).get("number"),
                "statut": certificate.get_status_display(),
                "delivre_le": certificate.issued_at.isoformat(),
                "code_de_verification": certificate.verification_code,
            }
        )
    return data
