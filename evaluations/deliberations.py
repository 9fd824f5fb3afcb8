"""Deliberation writes: opening, sovereign decisions, signed minutes,
rectification and publication. One transaction each, locks, an audit event,
and a French message when refused.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from candidates.models import Cohort
from core.audit import Action, record_event

from . import policies
from .juries import composition_problems, conflict_message, trainer_conflicts
from .minutes import render_minutes
from .models import (
    BlocDecision,
    Deliberation,
    Jury,
    JuryMember,
    MinutesSignature,
)
from .standings import decision_cell, deliberation_table, missing_decisions


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
        record_event(actor=by, action=Action.DELIBERATION_OPENED, target=deliberation)
    return deliberation


def _locked(deliberation):
    return (
        Deliberation.objects.select_for_update()
        .select_related("jury__certification_version", "cohort")
        .get(pk=deliberation.pk)
    )


def _refuse(reason):
    if reason is not None:
        raise ValidationError(reason)


def record_decision(deliberation, *, enrolment, bloc, decision, justification="", user):
    """The jury's sovereign decision on one bloc of one candidate."""
    justification = (justification or "").strip()
    with transaction.atomic():
        deliberation = _locked(deliberation)
        seat = deliberation.jury.members.filter(user=user).first()
        signed_by = set(deliberation.signatures.values_list("member_id", flat=True))
        _refuse(policies.decision_refusal(deliberation, seat, signed_by=signed_by))
        if decision not in BlocDecision.Decision.values:
            raise ValidationError(f"Décision inconnue : {decision}.")
        if enrolment.cohort_id != deliberation.cohort_id or not enrolment.is_active:
            raise ValidationError("Ce candidat n'est pas inscrit dans la promotion délibérée.")
        if trainer_conflicts([user], deliberation.cohort):
            raise ValidationError(conflict_message([user]))
        cell = decision_cell(deliberation, enrolment, bloc)
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
            action=Action.DECISION_RECORDED,
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


def sign_minutes(deliberation, *, user):
    """Every member of the jury signs the minutes (experts included); the
    president signs last, which closes the deliberation, freezes its decisions
    and produces the PV."""
    with transaction.atomic():
        deliberation = _locked(deliberation)
        member = deliberation.jury.members.filter(user=user).first()
        signed_by = set(deliberation.signatures.values_list("member_id", flat=True))
        _refuse(policies.signature_refusal(deliberation, member, signed_by=signed_by))
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
        record_event(actor=user, action=Action.MINUTES_SIGNED, target=deliberation)
        if member.role == JuryMember.Role.PRESIDENT:
            deliberation.status = Deliberation.Status.SIGNED
            deliberation.signed_at = timezone.now()
            deliberation.save(update_fields=["status", "signed_at"])
            record_event(actor=user, action=Action.DELIBERATION_CLOSED, target=deliberation)
            deliberation_id = deliberation.pk
            # A rendering failure must not undo the signature: produced again on download.
            transaction.on_commit(lambda: store_minutes(deliberation_id), robust=True)
    return deliberation


def store_minutes(deliberation_id):
    """Render the signed PV once, after commit, and keep the file."""
    from django.core.files.base import ContentFile

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
        _refuse(
            policies.rectification_refusal(
                user,
                original,
                president=original.jury.members.filter(role=JuryMember.Role.PRESIDENT).first(),
                in_force=Deliberation.objects.in_force().filter(pk=original.pk).exists(),
                correction_open=original.rectifications.filter(
                    status=Deliberation.Status.OPEN
                ).exists(),
            )
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
            action=Action.RECTIFICATION_OPENED,
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
        record_event(actor=by, action=Action.RESULTS_PUBLISHED, target=deliberation)
    return deliberation
