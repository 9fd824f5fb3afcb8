"""What a candidate sees of their own certification: progress bloc by bloc,
results once published, upcoming exams, and their personal data (RGPD). Reads
only, in a fixed number of queries."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone

from blocks.models import Competence, Criterion, GradingLevel
from candidates.models import Enrolment
from certification.models import Certificate
from core.dates import french_date
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
    state: str  # "validated", "to_resit", "in_progress", "to_take", "not_chosen"
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
    "to_resit": "À repasser",
    "in_progress": "En cours",
    "to_take": "À passer",
    "not_chosen": "Non choisi (optionnel)",
}


def effective_decisions(candidate):
    """The candidate's decisions in the published PVs in force
    (Deliberation.objects.effective()), in the order they were signed."""
    return list(
        BlocDecision.objects.filter(
            enrolment__candidate=candidate,
            deliberation__in=Deliberation.objects.effective(),
        )
        .select_related("deliberation__jury", "bloc")
        .defer("deliberation__signed_table")
        .order_by("deliberation__signed_at")
    )


def latest_by_bloc(decisions):
    """bloc id -> the latest of `decisions` (effective_decisions) on it: a
    rectifying PV counts from its own publication, the PV it corrects until then."""
    return {decision.bloc_id: decision for decision in decisions}


def published_decisions(candidate):
    """bloc id -> the candidate's latest decision in a published PV in force."""
    return latest_by_bloc(effective_decisions(candidate))


def decision_letters(decisions):
    """The PVs of `decisions` (effective_decisions), latest published first: the
    candidate has one decision letter of each."""
    deliberations = {decision.deliberation_id: decision.deliberation for decision in decisions}
    return sorted(
        deliberations.values(), key=lambda deliberation: deliberation.published_at, reverse=True
    )


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


def candidate_progress(enrolment, *, decisions=None, sat=None, chosen=None):
    """The enrolment's blocs, each with its state and, once a published PV
    decided on it, its results. `decisions` (published_decisions of the
    candidate), `sat` (ids of the blocs the enrolment has an assessment in) and
    `chosen` (ids of its optional blocs chosen) when the caller has already read
    them for all its enrolments."""
    version = enrolment.cohort.certification_version
    rules = version_rules(version)
    blocs = list(version.blocs.order_by("number"))
    structure = bloc_structure(version)
    if decisions is None:
        decisions = published_decisions(enrolment.candidate)
    # Only what a published deliberation decided: nothing before publication.
    acquired = {bloc_id for bloc_id, decision in decisions.items() if decision.is_validated}
    if chosen is None:
        chosen = {bloc.pk for bloc in enrolment.optional_blocs.all()}
    values, comments = defaultdict(list), defaultdict(list)
    if decisions:
        scores = published_scores(enrolment.candidate, decisions)
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
    if sat is None:
        sat = set(
            Assessment.objects.filter(enrolment=enrolment).values_list(
                "session__modality__bloc_id", flat=True
            )
        )
    # The competences and criteria themselves are shown only in the published
    # results: read for the blocs decided on, and only when there are some.
    decided = [bloc.pk for bloc in blocs if bloc.pk in decisions]
    competences = criteria = {}
    if decided:
        competences = Competence.objects.filter(bloc_id__in=decided).in_bulk()
        criteria = Criterion.objects.filter(competence__bloc_id__in=decided).in_bulk()
    progress = []
    for bloc in blocs:
        total = len(structure[bloc.pk])
        if bloc.optional and bloc.pk not in chosen:
            progress.append(BlocProgress(bloc=bloc, state="not_chosen", total=total))
            continue
        decision = decisions.get(bloc.pk)
        entry = BlocProgress(bloc=bloc, state="to_take", total=total, decision=decision)
        if bloc.pk in acquired:
            entry.state, entry.acquired = "validated", total
        elif decision is not None:
            # Decided and not validated: what is sat since is a re-sit, until
            # a later PV decides on it.
            entry.state = "to_resit"
        elif bloc.pk in sat:
            entry.state = "in_progress"
        if decision is not None:
            outcome = results.bloc_result(bloc.pk, structure[bloc.pk], values, rules)
            if bloc.pk not in acquired:
                entry.acquired = outcome.acquired_count
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


UPCOMING = [ExamSession.Status.PLANNED, ExamSession.Status.OPEN]


def upcoming_sessions(enrolment):
    return (
        ExamSession.objects.filter(
            assessments__enrolment=enrolment,
            date__gte=timezone.localdate(),
            status__in=UPCOMING,
        )
        .select_related("modality__bloc")
        .order_by("date")
    )


def home_journeys(candidate, enrolments):
    """The candidate's home: for each enrolment, (enrolment, candidate_progress,
    upcoming sessions as upcoming_sessions gives them), then the PVs of their
    decision letters. The decisions (the letters with them), the optional blocs
    chosen and the sessions are read once for all the enrolments."""
    decisions = effective_decisions(candidate)
    latest = latest_by_bloc(decisions)
    chosen = defaultdict(set)
    for enrolment_id, bloc_id in Enrolment.optional_blocs.through.objects.filter(
        enrolment__in=enrolments
    ).values_list("enrolment_id", "bloc_id"):
        chosen[enrolment_id].add(bloc_id)
    sat, upcoming = defaultdict(set), defaultdict(dict)
    today = timezone.localdate()
    for assessment in (
        Assessment.objects.filter(enrolment__in=enrolments)
        .select_related("session__modality__bloc")
        .order_by("session__date", "session_id")
    ):
        session = assessment.session
        sat[assessment.enrolment_id].add(session.modality.bloc_id)
        if session.date >= today and session.status in UPCOMING:
            upcoming[assessment.enrolment_id][session.pk] = session
    journeys = [
        (
            enrolment,
            candidate_progress(
                enrolment, decisions=latest, sat=sat[enrolment.pk], chosen=chosen[enrolment.pk]
            ),
            list(upcoming[enrolment.pk].values()),
        )
        for enrolment in enrolments
    ]
    return journeys, decision_letters(decisions)


def _personal_records(candidate):
    """What the platform holds on the candidate, as objects, in a fixed number
    of queries: the JSON export and the page are both made from it."""
    enrolments = list(
        candidate.enrolments.select_related("cohort__certification_version").prefetch_related(
            "optional_blocs"
        )
    )
    decisions = published_decisions(candidate)
    scores_by_assessment = defaultdict(list)
    for score in published_scores(candidate, decisions):
        scores_by_assessment[score.grid.assessment_id].append(score)
    assessments = list(
        Assessment.objects.filter(enrolment__in=enrolments)
        .select_related("session__modality__bloc", "enrolment")
        .prefetch_related("grids__assessor")
        .order_by("session__date", "pk")
    )
    levels = {
        (level.certification_version_id, level.value): level.label
        for level in GradingLevel.objects.filter(
            certification_version__in={e.cohort.certification_version_id for e in enrolments}
        )
    }
    by_enrolment = defaultdict(list)
    for assessment in assessments:
        by_enrolment[assessment.enrolment_id].append(assessment)
    return {
        "enrolments": enrolments,
        "decisions": decisions,
        "scores": scores_by_assessment,
        "assessments": by_enrolment,
        "levels": levels,
        "certificates": list(own_certificates(candidate).order_by("year", "sequence")),
    }


def _level(records, assessment, value):
    """The label of a level scale's value (« Acquis »), or "" on a numeric scale."""
    if value is None or value != value.to_integral_value():
        return ""
    version = assessment.enrolment.cohort.certification_version_id
    return records["levels"].get((version, int(value)), "")


def _assessor(grid):
    return grid.assessor.get_full_name() or grid.assessor.username


def personal_data(candidate):
    """Everything the platform holds on the candidate, scores and comments
    included once published; nothing about anyone else. Dates in ISO 8601:
    this is the export (JSON)."""
    records = _personal_records(candidate)
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
    for decision in records["decisions"].values():
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
    for enrolment in records["enrolments"]:
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
        for assessment in records["assessments"][enrolment.pk]:
            scores = records["scores"].get(assessment.pk, [])
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
                            "evaluateur": _assessor(score.grid),
                            "note": format(score.value.normalize(), "f")
                            if score.value is not None
                            else None,
                            "niveau": _level(records, assessment, score.value),
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
    for certificate in records["certificates"]:
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


def french_number(value):
    """Decimal("12.50") -> « 12,5 »."""
    return format(value.normalize(), "f").replace(".", ",")


def personal_data_page(candidate):
    """The same data for the page « Mes données »: dates in French, the
    published scores grouped by modality, then by sitting, then by assessor."""
    records = _personal_records(candidate)
    birth_place = (
        ", ".join(filter(None, [candidate.birth_commune, candidate.birth_country]))
        if candidate.birth_country
        else f"{candidate.birth_commune} ({candidate.birth_insee_code})"
    )
    identity = [
        ("Nom de naissance", candidate.birth_name),
        ("Nom d'usage", candidate.usage_name),
        ("Prénoms", candidate.first_names),
        ("Sexe", candidate.get_sex_display()),
        ("Date de naissance", french_date(candidate.birth_date)),
        ("Lieu de naissance", birth_place),
        ("Courriel", candidate.email),
        ("Téléphone", candidate.phone),
        ("Identifiant du compte", candidate.user.username if candidate.user_id else ""),
    ]
    enrolments = [
        {
            "cohort": enrolment.cohort.name,
            "certification": str(enrolment.cohort.certification_version),
            "access_route": enrolment.get_access_route_display(),
            "optional_blocs": [bloc.number for bloc in enrolment.optional_blocs.all()],
            "status": enrolment.get_status_display(),
            "enrolled_on": french_date(enrolment.created_at),
            "withdrawn_on": french_date(enrolment.withdrawn_at),
            "withdrawal_reason": enrolment.withdrawal_reason,
        }
        for enrolment in records["enrolments"]
    ]
    modalities = {}
    for enrolment in records["enrolments"]:
        for assessment in records["assessments"][enrolment.pk]:
            modality = assessment.session.modality
            entry = modalities.setdefault(
                modality.pk,
                {
                    "code": modality.code,
                    "title": modality.title,
                    "bloc": modality.bloc.number,
                    "sittings": [],
                },
            )
            scores = records["scores"].get(assessment.pk, [])
            assessors = {}
            for score in scores:
                group = assessors.setdefault(
                    score.grid_id,
                    {"name": _assessor(score.grid), "scores": [], "comment": ""},
                )
                group["scores"].append(
                    {
                        "competence": score.criterion.competence.code,
                        "criterion": score.criterion.label,
                        "value": french_number(score.value) if score.value is not None else "",
                        "level": _level(records, assessment, score.value),
                        "comment": score.comment,
                    }
                )
            for grid in assessment.grids.all():
                if grid.pk in assessors:
                    assessors[grid.pk]["comment"] = grid.overall_comment
            entry["sittings"].append(
                {
                    "date": french_date(assessment.session.date),
                    "place": assessment.session.place,
                    "attempt": assessment.attempt,
                    "present": assessment.present,
                    "published": bool(scores),
                    "assessors": sorted(assessors.values(), key=lambda group: group["name"]),
                }
            )
    decisions = [
        {
            "bloc": decision.bloc.number,
            "bloc_title": decision.bloc.title,
            "decision": decision.get_decision_display(),
            "justification": decision.justification,
            "jury": decision.deliberation.jury.name,
            "published_on": french_date(decision.deliberation.published_at),
        }
        for decision in sorted(records["decisions"].values(), key=lambda d: d.bloc.number)
    ]
    certificates = [
        {
            "number": certificate.number,
            "kind": certificate.get_kind_display(),
            "bloc": certificate.mentions.get("bloc", {}).get("number"),
            "status": certificate.get_status_display(),
            "issued_on": french_date(certificate.issued_at),
        }
        for certificate in records["certificates"]
    ]
    return {
        "identity": identity,
        "enrolments": enrolments,
        "modalities": sorted(modalities.values(), key=lambda entry: (entry["bloc"], entry["code"])),
        "decisions": decisions,
        "certificates": certificates,
    }
