"""Deliberation writes: opening, sovereign decisions, signed minutes,
rectification and publication. One transaction each, locks, an audit event,
and a French message when refused.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from candidates.models import Cohort
from core.audit import Action, record_event

from . import notifications, policies
from .juries import (
    candidate_compositions,
    composition_problems,
    conflict_message,
    recusal_message,
    trainer_conflicts,
)
from .letters import generate_letters
from .minutes import render_minutes
from .models import (
    BlocDecision,
    Deliberation,
    Jury,
    JuryMember,
    MinutesSignature,
    Recusal,
)
from .standings import (
    deliberation_table,
    frozen_table,
    missing_decisions,
    presented_assessments,
)


def open_deliberation(jury, cohort, *, by, held_on=None, added_blocs=()):
    """Open the deliberation of `jury` on `cohort`, meeting on `held_on`
    (today by default). It decides the blocs each candidate presented, plus
    `added_blocs`, which the office adds for every candidate who takes them."""
    held_on = held_on or timezone.localdate()
    if held_on > timezone.localdate():
        raise ValidationError(
            "La date de réunion du jury ne peut pas être dans le futur : ouvrez la délibération "
            "le jour où le jury se réunit."
        )
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
        foreign = [
            bloc
            for bloc in added_blocs
            if bloc.certification_version_id != jury.certification_version_id
        ]
        if foreign:
            raise ValidationError("Un bloc ajouté n'appartient pas à la certification de ce jury.")
        deliberation = Deliberation.objects.create(jury=jury, cohort=cohort, held_on=held_on)
        deliberation.added_blocs.set(added_blocs)
        record_event(
            actor=by,
            action=Action.DELIBERATION_OPENED,
            target=deliberation,
            data={
                "held_on": held_on.isoformat(),
                "added_blocs": sorted(bloc.number for bloc in added_blocs),
            },
        )
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


UNJUSTIFIED = (
    "La décision s'écarte de la proposition issue des notes : une justification écrite est "
    "obligatoire (elle figurera au procès-verbal)."
)


def record_decision(deliberation, *, enrolment, bloc, decision, justification="", user):
    """The jury's sovereign decision on one bloc of one candidate."""
    return record_decisions(
        deliberation,
        enrolment=enrolment,
        choices={bloc.pk: (decision, justification)},
        user=user,
    )[0]


def record_decisions(deliberation, *, enrolment, choices, user):
    """One candidate's row at once: `choices` maps a bloc id to (decision,
    justification). All of it is recorded, or nothing, with every refusal."""
    with transaction.atomic():
        deliberation = _check_decider(deliberation, user)
        if enrolment.cohort_id != deliberation.cohort_id or not enrolment.is_active:
            raise ValidationError("Ce candidat n'est pas inscrit dans la promotion délibérée.")
        if enrolment.pk in recused_for(deliberation, user):
            raise ValidationError(recusal_message(enrolment))
        rows = deliberation_table(deliberation, only=enrolment)
        cells = {cell.bloc.pk: cell for cell in rows[0].cells} if rows else {}
        wanted, problems = [], []
        for bloc_id, (decision, justification) in choices.items():
            cell = cells.get(bloc_id)
            if cell is None:
                raise ValidationError("Ce bloc n'appartient pas à la certification délibérée.")
            try:
                wanted.append(_checked(cell, decision, justification))
            except ValidationError as error:
                problems.extend(f"Bloc {cell.bloc.number} : {m}" for m in error.messages)
        if problems:
            raise ValidationError(problems)
        return _store(deliberation, enrolment, wanted, user)


def adopt_proposals(deliberation, *, user, bloc=None):
    """Every bloc still undecided (of one column, with `bloc`) takes the
    proposal from the scores; decisions already taken are kept. The rows of
    the candidates `user` stands aside for are left to the other members.
    Returns how many decisions were recorded."""
    with transaction.atomic():
        deliberation = _check_decider(deliberation, user)
        recused = recused_for(deliberation, user)
        recorded = 0
        for row in deliberation_table(deliberation):
            if row.enrolment.pk in recused:
                continue
            wanted = [
                (cell, _proposal(cell), "")
                for cell in row.due_cells
                if cell.decision is None and (bloc is None or cell.bloc.pk == bloc.pk)
            ]
            recorded += len(_store(deliberation, row.enrolment, wanted, user))
    return recorded


def _check_decider(deliberation, user):
    """The deliberation, locked, once `user` may decide on it."""
    deliberation = _locked(deliberation)
    seat = deliberation.jury.members.filter(user=user).first()
    signed_by = set(deliberation.signatures.values_list("member_id", flat=True))
    _refuse(policies.decision_refusal(deliberation, seat, signed_by=signed_by))
    if trainer_conflicts([user], deliberation.cohort):
        raise ValidationError(conflict_message([user]))
    return deliberation


def recused_for(deliberation, user):
    """Ids of the enrolments of the deliberated promotion `user` stands aside for."""
    return set(
        Recusal.objects.filter(
            member__jury_id=deliberation.jury_id,
            member__user=user,
            enrolment__cohort_id=deliberation.cohort_id,
        ).values_list("enrolment_id", flat=True)
    )


def composition_refusals(deliberation, table):
    """Why the jury may not sign the PV, in French (empty when it may): its
    composition, and, for each candidate decided here, its composition without
    the members who stand aside for them."""
    members = list(deliberation.jury.members.select_related("user"))
    problems = composition_problems(members)
    if problems:
        return [
            "La composition du jury n'est plus régulière : le procès-verbal ne peut pas être "
            "signé.",
            *problems,
        ]
    recusals = Recusal.objects.filter(
        member__jury_id=deliberation.jury_id, enrolment__cohort_id=deliberation.cohort_id
    ).select_related("member__user")
    compositions = candidate_compositions(members, recusals)
    unlawful = [
        f"{row.enrolment.candidate.full_name} (sans {', '.join(names)}, déporté(e)) : "
        + " ".join(problems)
        for row in table
        if row.due_cells and row.enrolment.pk in compositions
        for names, problems in [compositions[row.enrolment.pk]]
        if problems
    ]
    if unlawful:
        return [
            "Sans les membres qui se déportent, le jury n'est pas régulièrement composé pour "
            "ces candidats : le procès-verbal ne peut pas être signé.",
            *unlawful,
        ]
    return []


def _proposal(cell):
    if cell.result.proposed_validated:
        return BlocDecision.Decision.VALIDATED
    return BlocDecision.Decision.NOT_VALIDATED


def _checked(cell, decision, justification):
    """(cell, decision, justification) once the decision may be taken on the cell."""
    justification = (justification or "").strip()
    if decision not in BlocDecision.Decision.values:
        raise ValidationError(f"Décision inconnue : {decision}.")
    if not cell.due:
        raise ValidationError(
            f"Le bloc {cell.bloc.number} est déjà validé pour ce candidat (capitalisation) : "
            "il n'est pas délibéré de nouveau."
            if cell.capitalised
            else f"Le bloc {cell.bloc.number} n'est pas présenté par ce candidat."
        )
    departs = (decision == BlocDecision.Decision.VALIDATED) != cell.result.proposed_validated
    if departs and not justification:
        raise ValidationError(UNJUSTIFIED)
    return cell, decision, justification


def _store(deliberation, enrolment, wanted, user):
    """Write the decisions of one candidate, one audit event each."""
    stored = []
    for cell, decision, justification in wanted:
        existing = cell.decision
        old = (existing.decision, existing.justification) if existing else None
        if old == (decision, justification):
            stored.append(existing)
            continue
        record = existing or BlocDecision(
            deliberation=deliberation, enrolment=enrolment, bloc=cell.bloc
        )
        record.proposed_validated = cell.result.proposed_validated
        record.decision = decision
        record.justification = justification
        record.decided_by = user
        record.save()
        record_event(
            actor=user,
            action=Action.DECISION_RECORDED,
            target=deliberation,
            data={
                "candidate": str(enrolment.candidate),
                "bloc": cell.bloc.number,
                "proposed_validated": cell.result.proposed_validated,
                "old": list(old) if old else None,
                "new": [decision, justification],
            },
        )
        stored.append(record)
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
        _refuse(composition_refusals(deliberation, table) or None)
        if member.role == JuryMember.Role.PRESIDENT:
            unsigned = [
                other
                for other in deliberation.jury.members.select_related("user")
                if other.pk != member.pk and other.pk not in signed_by
            ]
            if unsigned:
                raise ValidationError(
                    "Chaque membre du jury signe avant le président : il manque la signature de "
                    + ", ".join(str(other) for other in unsigned)
                    + "."
                )
        MinutesSignature.objects.create(deliberation=deliberation, member=member)
        record_event(actor=user, action=Action.MINUTES_SIGNED, target=deliberation)
        if member.role != JuryMember.Role.PRESIDENT:
            notifications.minutes_to_sign(deliberation, signed_by=user)
        if member.role == JuryMember.Role.PRESIDENT:
            deliberation.status = Deliberation.Status.SIGNED
            deliberation.signed_at = timezone.now()
            deliberation.signed_table = frozen_table(deliberation, table)
            deliberation.save(update_fields=["status", "signed_at", "signed_table"])
            decided = {(row.enrolment.pk, cell.bloc.pk) for row in table for cell in row.due_cells}
            enrolments = [row.enrolment for row in table]
            deliberation.covered_assessments.set(
                assessment
                for assessment in presented_assessments(deliberation, enrolments).select_related(
                    "session__modality"
                )
                if (assessment.enrolment_id, assessment.session.modality.bloc_id) in decided
            )
            record_event(actor=user, action=Action.DELIBERATION_CLOSED, target=deliberation)
            deliberation_id = deliberation.pk
            # Rendered by a background task (seconds for a large jury), never in
            # the request; a failure to queue it must not undo the signature:
            # the download queues it again.
            transaction.on_commit(lambda: produce_minutes.enqueue(deliberation_id), robust=True)
    return deliberation


def store_minutes(deliberation_id):
    """Render the signed PV once, seal it with the certifier's seal (PAdES)
    and keep the file: the stored, sealed file is the one served."""
    from django.core.files.base import ContentFile

    from core.signing import seal_pdf

    deliberation = Deliberation.objects.select_related("jury__certification_version").get(
        pk=deliberation_id
    )
    if deliberation.minutes_pdf:
        return
    jury = deliberation.jury
    sealed = seal_pdf(
        render_minutes(deliberation),
        reason=f"Procès-verbal n° {deliberation.pk} du jury « {jury.name} », "
        f"{jury.certification_version.certifier}",
        location=jury.place,
    )
    deliberation.minutes_pdf.save(f"pv-{deliberation.pk}.pdf", ContentFile(sealed), save=False)
    # Only the file: the PV may have been published while it was rendered (a
    # whole save would undo its publication: nothing would print).
    deliberation.save(update_fields=["minutes_pdf"])


@task()
def produce_minutes(deliberation_id):
    """The signed PV's rendering, queued after the president's signature: the
    deliberation page says "PV en cours de production" until the file exists."""
    store_minutes(deliberation_id)


def rectify(deliberation, *, reason, user):
    """Open a rectifying PV that references the signed original, which stays."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Indiquez le motif de la rectification.")
    with transaction.atomic():
        original = Deliberation.objects.select_for_update().get(pk=deliberation.pk)
        Cohort.objects.select_for_update().get(pk=original.cohort_id)
        _refuse(
            policies.rectification_refusal(
                user,
                original,
                president=original.jury.members.filter(role=JuryMember.Role.PRESIDENT).first(),
                in_force=Deliberation.objects.in_force().filter(pk=original.pk).exists(),
                correction_open=original.rectifications.filter(
                    status=Deliberation.Status.OPEN
                ).exists(),
                cohort_busy=Deliberation.objects.filter(
                    cohort_id=original.cohort_id, status=Deliberation.Status.OPEN
                ).exists(),
            )
        )
        correction = Deliberation.objects.create(
            jury=original.jury,
            cohort=original.cohort,
            rectifies=original,
            rectification_reason=reason,
            held_on=timezone.localdate(),
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
        notifications.results_published(deliberation)
        deliberation_id = deliberation.pk
        # Each candidate's decision letter, rendered in the background once published;
        # a failure leaves the publication standing (letters are rendered on download).
        transaction.on_commit(lambda: generate_letters.enqueue(deliberation_id), robust=True)
    return deliberation
