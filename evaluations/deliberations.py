"""Juries and their deliberations: composition rules, proposals from the scores,
sovereign decisions, signed minutes, rectification and publication.

State changes follow services.py: one transaction, locks, an audit event and
a French message when refused.
"""

from collections import defaultdict
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from blocks.models import Bloc, Competence
from candidates.models import Cohort, Enrolment
from core import roles
from core.audit import record_event

from . import results
from .models import (
    BlocDecision,
    Deliberation,
    Grid,
    Jury,
    JuryMember,
    MinutesSignature,
    Score,
)

# --- Juries -------------------------------------------------------------------


def composition_problems(members):
    """Why a jury may not sit, in French; empty when its composition is lawful."""
    voting = [member for member in members if member.votes]
    problems = []
    if len(voting) < 2:
        problems.append("Un jury est collégial : il compte au moins deux membres votants.")
    presidents = [member for member in members if member.role == JuryMember.Role.PRESIDENT]
    if len(presidents) != 1:
        problems.append("Un jury a un(e) président(e), et un(e) seul(e).")
    if voting and sum(member.external for member in voting) * 2 < len(voting):
        problems.append(
            "Au moins la moitié des membres votants doivent être des professionnels "
            "extérieurs au centre de formation."
        )
    return problems


def create_jury(*, name, certification_version, date, place, by):
    with transaction.atomic():
        if Jury.objects.filter(name=name).exists():
            raise ValidationError(f"Un jury s'appelle déjà « {name} ».")
        jury = Jury.objects.create(
            name=name, certification_version=certification_version, date=date, place=place
        )
        record_event(actor=by, action="evaluations.jury.created", target=jury)
    return jury


def add_member(jury, *, user, role, external, organisation="", by):
    with transaction.atomic():
        jury = Jury.objects.select_for_update().get(pk=jury.pk)
        if not roles.has_role(user, roles.JURY_MEMBER):
            raise ValidationError(
                f"{user.get_full_name() or user.username} n'a pas le rôle de membre de jury."
            )
        if jury.members.filter(user=user).exists():
            raise ValidationError("Cette personne siège déjà dans ce jury.")
        if role == JuryMember.Role.PRESIDENT and jury.members.filter(role=role).exists():
            raise ValidationError("Ce jury a déjà un(e) président(e).")
        if jury.deliberations.exists():
            raise ValidationError("Le jury a déjà délibéré : sa composition est arrêtée.")
        member = JuryMember.objects.create(
            jury=jury, user=user, role=role, external=external, organisation=organisation
        )
        record_event(
            actor=by,
            action="evaluations.jury.member_added",
            target=jury,
            data={"member": user.username, "role": role, "external": external},
        )
    return member


def declare_independence(member, *, user):
    """The member declares, dated, that they are independent of the candidates."""
    with transaction.atomic():
        member = JuryMember.objects.select_for_update().get(pk=member.pk)
        if member.user_id != user.pk:
            raise ValidationError("Chacun ne déclare que sa propre indépendance.")
        if member.has_declared:
            raise ValidationError("Votre déclaration d'indépendance est déjà enregistrée.")
        member.independence_declared_at = timezone.now()
        member.save(update_fields=["independence_declared_at"])
        record_event(actor=user, action="evaluations.jury.independence_declared", target=member)
    return member


def trainer_conflicts(users, cohort):
    """Those of `users` who train, or trained in an earlier cohort, candidates of
    this cohort: they never score nor deliberate on them."""
    trainer_ids = set(
        Cohort.objects.filter(
            enrolments__candidate__in=cohort.enrolments.values("candidate")
        ).values_list("trainers", flat=True)
    ) | set(cohort.trainers.values_list("pk", flat=True))
    return [user for user in users if user.pk in trainer_ids]


def conflict_message(conflicts):
    names = ", ".join(user.get_full_name() or user.username for user in conflicts)
    return (
        f"Conflit d'intérêts : {names} forme les candidats de cette promotion et ne peut "
        "ni les noter ni délibérer sur eux."
    )


def seat_for(jury, user, *, voting=True):
    """The user's seat in the jury, declared independent, or a French refusal."""
    member = jury.members.filter(user=user).first()
    if member is None:
        raise ValidationError("Vous ne siégez pas dans ce jury.")
    if voting and not member.votes:
        raise ValidationError("Vous ne siégez pas dans ce jury avec voix délibérative.")
    if not member.has_declared:
        raise ValidationError(
            "Déclarez votre indépendance sur la page du jury avant de noter ou de délibérer."
        )
    return member


# --- Results of a cohort ------------------------------------------------------


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


# --- Deliberations ------------------------------------------------------------


def open_deliberation(jury, cohort, *, by):
    with transaction.atomic():
        jury = Jury.objects.select_for_update().get(pk=jury.pk)
        members = list(jury.members.select_related("user"))
        problems = composition_problems(members)
        if problems:
            raise ValidationError(problems)
        if cohort.certification_version_id != jury.certification_version_id:
            raise ValidationError("Ce jury ne certifie pas la version suivie par cette promotion.")
        conflicts = trainer_conflicts([m.user for m in members], cohort)
        if conflicts:
            raise ValidationError(conflict_message(conflicts))
        cohort = Cohort.objects.select_for_update().get(pk=cohort.pk)
        if cohort.deliberations.filter(status=Deliberation.Status.OPEN).exists():
            raise ValidationError(
                "Une délibération est déjà en cours pour cette promotion : une seule à la fois."
            )
        deliberation = Deliberation.objects.create(jury=jury, cohort=cohort)
        record_event(actor=by, action="evaluations.deliberation.opened", target=deliberation)
    return deliberation


def _lock_open(deliberation):
    deliberation = (
        Deliberation.objects.select_for_update()
        .select_related("jury__certification_version", "cohort")
        .get(pk=deliberation.pk)
    )
    if deliberation.is_signed:
        raise ValidationError(
            "Le procès-verbal est signé : les décisions sont figées. Une correction passe par "
            "un PV rectificatif."
        )
    return deliberation


def record_decision(deliberation, *, enrolment, bloc, decision, justification="", user):
    """The jury's sovereign decision on one bloc of one candidate."""
    justification = (justification or "").strip()
    with transaction.atomic():
        deliberation = _lock_open(deliberation)
        seat_for(deliberation.jury, user)
        if deliberation.signatures.exists():
            raise ValidationError(
                "La signature du procès-verbal a commencé : les décisions ne changent plus."
            )
        if decision not in BlocDecision.Decision.values:
            raise ValidationError(f"Décision inconnue : {decision}.")
        if enrolment.cohort_id != deliberation.cohort_id or not enrolment.is_active:
            raise ValidationError("Ce candidat n'est pas inscrit dans la promotion délibérée.")
        if trainer_conflicts([user], deliberation.cohort):
            raise ValidationError(conflict_message([user]))
        cell = _cell(deliberation, enrolment, bloc)
        if not cell.due:
            raise ValidationError(
                f"Le bloc {bloc.number} est déjà validé pour ce candidat (capitalisation) : "
                "il n'est pas délibéré de nouveau."
                if cell.capitalised
                else f"Le bloc {bloc.number} n'est pas présenté par ce candidat."
            )
        proposed = cell.result.proposed_validated
        departs = (decision == BlocDecision.Decision.VALIDATED) != proposed
        if departs and not justification:
            raise ValidationError(
                "La décision s'écarte de la proposition issue des notes : une justification "
                "écrite est obligatoire (elle figurera au procès-verbal)."
            )
        existing = BlocDecision.objects.filter(
            deliberation=deliberation, enrolment=enrolment, bloc=bloc
        ).first()
        old = (existing.decision, existing.justification) if existing else None
        stored = existing or BlocDecision(deliberation=deliberation, enrolment=enrolment, bloc=bloc)
        stored.proposed_validated = proposed
        stored.decision = decision
        stored.justification = justification
        stored.decided_by = user
        stored.save()
        record_event(
            actor=user,
            action="evaluations.decision.recorded",
            target=deliberation,
            data={
                "candidate": str(enrolment.candidate),
                "bloc": bloc.number,
                "proposed_validated": proposed,
                "old": list(old) if old else None,
                "new": [decision, justification],
            },
        )
    return stored


def _cell(deliberation, enrolment, bloc):
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


def sign_minutes(deliberation, *, user):
    """Every member of the jury signs the minutes (experts included); the
    president signs last, which closes the deliberation, freezes its decisions
    and produces the PV."""
    with transaction.atomic():
        deliberation = _lock_open(deliberation)
        member = seat_for(deliberation.jury, user, voting=False)
        if deliberation.signatures.filter(member=member).exists():
            raise ValidationError("Vous avez déjà signé ce procès-verbal.")
        table = deliberation_table(deliberation)
        missing = missing_decisions(deliberation, table=table)
        if missing:
            raise ValidationError(
                f"{len(missing)} décision(s) de bloc manquent encore : le procès-verbal ne "
                "peut pas être signé."
            )
        stale = [
            f"{row.enrolment.candidate}, bloc {cell.bloc.number}"
            for row in table
            for cell in row.cells
            if cell.decision
            and cell.result
            and cell.result.proposed_validated != cell.decision.proposed_validated
        ]
        if stale:
            raise ValidationError(
                "Des notes ont changé depuis ces décisions : reprenez-les avant de signer ("
                + " ; ".join(stale)
                + ")."
            )
        conflicts = trainer_conflicts([user], deliberation.cohort)
        if conflicts:
            raise ValidationError(conflict_message(conflicts))
        if member.role == JuryMember.Role.PRESIDENT:
            unsigned = [
                other
                for other in deliberation.jury.members.select_related("user")
                if other.pk != member.pk
                and not deliberation.signatures.filter(member=other).exists()
            ]
            if unsigned:
                raise ValidationError(
                    "Chaque membre du jury signe avant le président : il manque la signature de "
                    + ", ".join(str(other) for other in unsigned)
                    + "."
                )
        MinutesSignature.objects.create(deliberation=deliberation, member=member)
        record_event(actor=user, action="evaluations.minutes.signed", target=deliberation)
        if member.role == JuryMember.Role.PRESIDENT:
            deliberation.status = Deliberation.Status.SIGNED
            deliberation.signed_at = timezone.now()
            deliberation.save(update_fields=["status", "signed_at"])
            record_event(actor=user, action="evaluations.deliberation.closed", target=deliberation)
            deliberation_id = deliberation.pk
            # A rendering failure must not undo the signature: produced again on download.
            transaction.on_commit(lambda: store_minutes(deliberation_id), robust=True)
    return deliberation


def store_minutes(deliberation_id):
    """Render the signed PV once, after commit, and keep the file."""
    from django.core.files.base import ContentFile

    from .minutes import render_minutes

    deliberation = Deliberation.objects.get(pk=deliberation_id)
    if deliberation.minutes_pdf:
        return
    deliberation.minutes_pdf.save(
        f"pv-{deliberation.pk}.pdf", ContentFile(render_minutes(deliberation)), save=True
    )


def rectify(deliberation, *, reason, user):
    """Open a rectifying PV that references the signed original, which stays."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Indiquez le motif de la rectification.")
    with transaction.atomic():
        original = Deliberation.objects.select_for_update().get(pk=deliberation.pk)
        if not original.is_signed:
            raise ValidationError("Seul un procès-verbal signé se rectifie.")
        if not Deliberation.objects.in_force().filter(pk=original.pk).exists():
            raise ValidationError(
                "Ce procès-verbal a déjà été rectifié : rectifiez le plus récent."
            )
        if original.rectifications.filter(status=Deliberation.Status.OPEN).exists():
            raise ValidationError("Un PV rectificatif de ce procès-verbal est déjà en cours.")
        if not roles.is_admin(user):
            president = original.jury.members.filter(role=JuryMember.Role.PRESIDENT).first()
            if president is None or president.user_id != user.pk:
                raise ValidationError(
                    "Seul(e) le/la président(e) du jury ou le bureau rectifie un PV."
                )
        correction = Deliberation.objects.create(
            jury=original.jury,
            cohort=original.cohort,
            rectifies=original,
            rectification_reason=reason,
        )
        BlocDecision.objects.bulk_create(
            BlocDecision(
                deliberation=correction,
                enrolment_id=decision.enrolment_id,
                bloc_id=decision.bloc_id,
                proposed_validated=decision.proposed_validated,
                decision=decision.decision,
                justification=decision.justification,
                decided_by_id=decision.decided_by_id,
            )
            for decision in original.decisions.all()
        )
        record_event(
            actor=user,
            action="evaluations.deliberation.rectification_opened",
            target=correction,
            data={"original": original.pk, "reason": reason},
        )
    return correction


def publish_results(deliberation, *, by):
    with transaction.atomic():
        deliberation = Deliberation.objects.select_for_update().get(pk=deliberation.pk)
        if not deliberation.is_signed:
            raise ValidationError("Seuls les résultats d'un procès-verbal signé se publient.")
        if deliberation.published_at:
            raise ValidationError("Ces résultats sont déjà publiés.")
        deliberation.published_at = timezone.now()
        deliberation.save(update_fields=["published_at"])
        record_event(actor=by, action="evaluations.results.published", target=deliberation)
    return deliberation


def resit_enrolments(cohort, bloc):
    """Active enrolments that have not validated `bloc`: those a re-sit session takes."""
    enrolments = cohort.enrolments.filter(status=Enrolment.Status.ENROLLED)
    if bloc.optional:
        enrolments = enrolments.filter(optional_blocs=bloc)
    acquired = validated_blocs(enrolments)
    return [e for e in enrolments if bloc.pk not in acquired[e.pk]]
