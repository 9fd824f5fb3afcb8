"""Juries: their composition rules, members, independence declarations, and
the conflicts of interest that keep a member from deciding on a candidate.

State changes: one transaction, locks, an audit event and a French message
when refused.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from candidates.models import Cohort
from core import roles
from core.audit import Action, record_event

from . import policies
from .models import (
    Jury,
    JuryMember,
)


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
        record_event(actor=by, action=Action.JURY_CREATED, target=jury)
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
            action=Action.JURY_MEMBER_ADDED,
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
        record_event(actor=user, action=Action.INDEPENDENCE_DECLARED, target=member)
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
    if (reason := policies.seat_refusal(member, voting=voting)) is not None:
        raise ValidationError(reason)
    return member
