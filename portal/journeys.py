"""What a candidate sees of their own certification: progress bloc by bloc,
results once published, upcoming exams, and their personal data (RGPD). Reads
only, in a fixed number of queries."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone

from certification.models import Certificate
from evaluations import results
from evaluations.models import (
    AgreedScore,
    Assessment,
    BlocDecision,
    Deliberation,
    ExamSession,
    Grid,
    Score,
)
from evaluations.standings import bloc_structure, version_rules


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
    """bloc id -> the candidate's latest decision in a published PV in force
    (Deliberation.objects.effective()): a rectifying PV counts from its own
    publication, the PV it corrects until then."""
    decisions = (
        BlocDecision.objects.filter(
            enrolment__candidate=candidate,
            deliberation__in=Deliberation.objects.effective(),
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
    # Where the assessors agreed on a value after disagreeing, that value was
    # the jury's, as in the proposal (standings.submitted_values).
    for criterion_id, value in AgreedScore.objects.filter(
        assessment__in={score.grid.assessment_id for score in scores}
    ).values_list("criterion_id", "value"):
        values[criterion_id] = [value]
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


def own_certificates(candidate):
    """The candidate's certificates, of published PVs only."""
    return Certificate.objects.public().filter(candidate=candidate)


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
    for certificate in own_certificates(candidate).order_by("year", "sequence"):
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
