"""Juries: their composition rules, members, independence declarations,
recusals, and the conflicts of interest that keep a member from deciding on a
candidate.

A jury's composition changes (members added, replaced, removed) until its
first PV is signed; once a deliberation is open, each change needs a written
reason. A member who stands aside for a candidate (a recusal) neither marks
nor decides on them, and the composition rules hold for that candidate
without them.

State changes: one transaction, locks, an audit event and a French message
when refused.
"""

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from candidates.models import Cohort, Enrolment, name_ordering
from core import roles
from core.audit import Action, record_event
from core.people import display_name

from . import policies
from .models import (
    Deliberation,
    ExamSession,
    Jury,
    JuryMember,
    MinutesSignature,
    Recusal,
)

FROZEN = (
    "Le jury a signé un procès-verbal : sa composition est arrêtée. Pour une autre "
    "composition, créez un autre jury."
)
REASON_NEEDED = (
    "Le jury a déjà ouvert une délibération : indiquez le motif de ce changement de "
    "composition (il est conservé au journal)."
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


def composition_problems_for(members, recused_member_ids):
    """The composition rules for one candidate: the jury without the members
    who stand aside for them."""
    return composition_problems([m for m in members if m.pk not in recused_member_ids])


def candidate_compositions(members, recusals):
    """enrolment id -> (names of the members who stand aside, problems of the
    jury without them), for each candidate someone stands aside for. From the
    members and the recusals (their member's user read with them) already
    loaded: no query."""
    recused, names = {}, {}
    for recusal in recusals:
        recused.setdefault(recusal.enrolment_id, set()).add(recusal.member_id)
        names.setdefault(recusal.enrolment_id, []).append(display_name(recusal.member.user))
    return {
        enrolment_id: (names[enrolment_id], composition_problems_for(members, member_ids))
        for enrolment_id, member_ids in recused.items()
    }


def create_jury(*, name, certification_version, date, place, by):
    with transaction.atomic():
        if Jury.objects.filter(name=name).exists():
            raise ValidationError(name_taken(name))
        try:
            with transaction.atomic():
                jury = Jury.objects.create(
                    name=name, certification_version=certification_version, date=date, place=place
                )
        except IntegrityError:
            _refuse_if_name_taken(name)
            raise
        record_event(actor=by, action=Action.JURY_CREATED, target=jury)
    return jury


def name_taken(name):
    return f"Un jury s'appelle déjà « {name} »."


def _refuse_if_name_taken(name, *, exclude=None):
    """After an IntegrityError: the name was taken by another jury committed
    since the check (two office clicks at once), refused in French."""
    others = Jury.objects.filter(name=name)
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    if others.exists():
        raise ValidationError(name_taken(name))


def edit_jury(jury, *, name, certification_version, date, place, by):
    """Change the jury's name, date, place, and its certification version as
    long as no session nor deliberation uses it. A jury whose PV is signed is
    cited by that PV and its letters (name, place): it no longer changes."""
    name, place = name.strip(), place.strip()
    with transaction.atomic():
        jury = (
            Jury.objects.select_for_update(of=("self",))
            .select_related("certification_version")
            .get(pk=jury.pk)
        )
        if jury.deliberations.filter(status=Deliberation.Status.SIGNED).exists():
            raise ValidationError(
                "Le jury a signé un procès-verbal, qui cite son nom et son lieu : il ne se "
                "modifie plus."
            )
        if not name or not place:
            raise ValidationError("Le nom et le lieu du jury sont obligatoires.")
        if Jury.objects.filter(name=name).exclude(pk=jury.pk).exists():
            raise ValidationError(name_taken(name))
        if certification_version.pk != jury.certification_version_id and (
            jury.sessions.exists() or jury.deliberations.exists()
        ):
            raise ValidationError(
                "Ce jury a déjà des sessions d'examen ou des délibérations : sa version de la "
                "certification ne change plus."
            )
        changes = [
            {"field": label, "old": shown(old), "new": shown(new)}
            for label, old, new in (
                ("nom", jury.name, name),
                ("version de la certification", jury.certification_version, certification_version),
                ("date", jury.date, date),
                ("lieu", jury.place, place),
            )
            if old != new
        ]
        if not changes:
            return jury
        jury.name, jury.certification_version = name, certification_version
        jury.date, jury.place = date, place
        try:
            with transaction.atomic():
                jury.save(update_fields=["name", "certification_version", "date", "place"])
        except IntegrityError:
            _refuse_if_name_taken(name, exclude=jury)
            raise
        record_event(actor=by, action=Action.JURY_CHANGED, target=jury, data={"changes": changes})
    return jury


def shown(value):
    """A value as the audit log shows it to people."""
    return value.strftime("%d/%m/%Y") if hasattr(value, "strftime") else str(value)


def _composition_may_change(jury, reason):
    """The reason, once the locked jury's composition may still change with it."""
    reason = (reason or "").strip()
    statuses = set(jury.deliberations.values_list("status", flat=True))
    if Deliberation.Status.SIGNED in statuses:
        raise ValidationError(FROZEN)
    if statuses and not reason:
        raise ValidationError(REASON_NEEDED)
    return reason


def _may_sit(jury, user):
    """Refuse a newcomer who cannot sit: not a jury member, seated already, or
    the trainer of a promotion the jury is deliberating on."""
    if not roles.has_role(user, roles.JURY_MEMBER):
        raise ValidationError(f"{display_name(user)} n'a pas le rôle de membre de jury.")
    if jury.members.filter(user=user).exists():
        raise ValidationError(f"{display_name(user)} siège déjà dans ce jury.")
    for deliberation in jury.deliberations.filter(status=Deliberation.Status.OPEN).select_related(
        "cohort"
    ):
        if trainer_conflicts([user], deliberation.cohort):
            raise ValidationError(conflict_message([user]))


def _may_leave(member):
    """Refuse to take away a seat still needed: a signature of an open PV, or an
    assessor's place in a session of this jury not yet closed."""
    signed = MinutesSignature.objects.filter(
        member=member, deliberation__status=Deliberation.Status.OPEN
    ).first()
    if signed is not None:
        raise ValidationError(
            f"{display_name(member.user)} a signé le procès-verbal de la délibération n° "
            f"{signed.deliberation_id}, en cours de signature : son siège ne change plus "
            "jusqu'à la clôture."
        )
    sessions = list(
        member.jury.sessions.filter(
            assessors=member.user,
            status__in=[ExamSession.Status.PLANNED, ExamSession.Status.OPEN],
        ).select_related("modality", "cohort")
    )
    if sessions:
        raise ValidationError(
            f"{display_name(member.user)} évalue encore "
            + ", ".join(str(session) for session in sessions)
            + " (session planifiée ou ouverte de ce jury) : remplacez d'abord cet évaluateur "
            "dans la session, ou attendez sa clôture."
        )


def _locked_member(member):
    """The member, read again under the lock of their jury (locked first)."""
    jury = Jury.objects.select_for_update().get(pk=member.jury_id)
    locked = (
        JuryMember.objects.select_for_update(of=("self",))
        .select_related("user")
        .filter(pk=member.pk, jury=jury)
        .first()
    )
    if locked is None:
        raise ValidationError("Cette personne ne siège plus dans ce jury.")
    locked.jury = jury
    return locked


def add_member(jury, *, user, role, external, organisation="", reason="", by):
    """Seat `user` in the jury, until its first PV is signed; with a reason once
    a deliberation is open. The newcomer declares independence before deciding."""
    with transaction.atomic():
        jury = Jury.objects.select_for_update().get(pk=jury.pk)
        reason = _composition_may_change(jury, reason)
        _may_sit(jury, user)
        if role == JuryMember.Role.PRESIDENT and jury.members.filter(role=role).exists():
            raise ValidationError(
                "Ce jury a déjà un(e) président(e) : remplacez-le/la pour changer de présidence."
            )
        member = JuryMember.objects.create(
            jury=jury, user=user, role=role, external=external, organisation=organisation
        )
        record_event(
            actor=by,
            action=Action.JURY_MEMBER_ADDED,
            target=jury,
            data={
                "member": display_name(user),
                "role": member.get_role_display(),
                "external": external,
                **({"reason": reason} if reason else {}),
            },
        )
    return member


def replace_member(member, *, user, external, organisation="", reason="", by):
    """`user` takes `member`'s seat and role (the presidency too); the newcomer
    declares independence before marking or deciding. The replaced member's
    recusals leave with their seat (the journal keeps them)."""
    with transaction.atomic():
        member = _locked_member(member)
        jury = member.jury
        reason = _composition_may_change(jury, reason)
        _may_leave(member)
        _may_sit(jury, user)
        role, replaced = member.role, display_name(member.user)
        recusals = _leave(member)
        newcomer = JuryMember.objects.create(
            jury=jury, user=user, role=role, external=external, organisation=organisation
        )
        record_event(
            actor=by,
            action=Action.JURY_MEMBER_REPLACED,
            target=jury,
            data={
                "replaced": replaced,
                "replacement": display_name(user),
                "role": newcomer.get_role_display(),
                "external": external,
                "reason": reason,
                **({"recusals_ended": recusals} if recusals else {}),
            },
        )
    return newcomer


def remove_member(member, *, reason="", by):
    """Take a member off the jury. The president is replaced, never removed:
    a jury always has one."""
    with transaction.atomic():
        member = _locked_member(member)
        jury = member.jury
        reason = _composition_may_change(jury, reason)
        if member.role == JuryMember.Role.PRESIDENT:
            raise ValidationError(
                "Le/la président(e) ne se retire pas seul(e) : remplacez-le/la (la personne "
                "qui le/la remplace prend la présidence)."
            )
        _may_leave(member)
        name, role = display_name(member.user), member.get_role_display()
        recusals = _leave(member)
        record_event(
            actor=by,
            action=Action.JURY_MEMBER_REMOVED,
            target=jury,
            data={
                "member": name,
                "role": role,
                "reason": reason,
                **({"recusals_ended": recusals} if recusals else {}),
            },
        )
    return jury


def _leave(member):
    """Delete the seat and its recusals; the candidates' names, for the journal."""
    recusals = [
        recusal.enrolment.candidate.full_name
        for recusal in member.recusals.select_related("enrolment__candidate")
    ]
    member.recusals.all().delete()
    member.delete()
    return recusals


def recusal_enrolments(jury):
    """The enrolments a member of `jury` may stand aside for: the enrolled
    candidates of the promotions on the jury's certification version."""
    return (
        Enrolment.objects.filter(
            cohort__certification_version_id=jury.certification_version_id,
            status=Enrolment.Status.ENROLLED,
        )
        .select_related("candidate", "cohort")
        .order_by(*name_ordering("candidate__"), "cohort__name")
    )


def record_recusal(member, *, enrolment, reason, by):
    """`member` stands aside for the candidate of `enrolment`: they will neither
    mark nor decide on them. Recorded by the office or by the member themself."""
    reason = (reason or "").strip()
    with transaction.atomic():
        member = _locked_member(member)
        if not roles.is_admin(by) and member.user_id != by.pk:
            raise ValidationError("Seuls le bureau et le membre concerné enregistrent un déport.")
        if not reason:
            raise ValidationError("Indiquez le motif du déport.")
        if not recusal_enrolments(member.jury).filter(pk=enrolment.pk).exists():
            raise ValidationError(
                "Ce candidat n'est pas inscrit dans une promotion de la certification de ce jury."
            )
        candidate = enrolment.candidate.full_name
        if member.recusals.filter(enrolment=enrolment).exists():
            raise ValidationError(
                f"{display_name(member.user)} est déjà déporté(e) pour {candidate}."
            )
        recusal = Recusal.objects.create(
            member=member, enrolment=enrolment, reason=reason, recorded_by=by
        )
        record_event(
            actor=by,
            action=Action.RECUSAL_RECORDED,
            target=member,
            data={"member": display_name(member.user), "candidate": candidate, "reason": reason},
        )
    return recusal


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
            Q(pk=cohort.pk) | Q(enrolments__candidate__in=cohort.enrolments.values("candidate"))
        ).values_list("trainers", flat=True)
    )
    return [user for user in users if user.pk in trainer_ids]


def conflict_message(conflicts):
    names = ", ".join(display_name(user) for user in conflicts)
    return (
        f"Conflit d'intérêts : {names} forme les candidats de cette promotion et ne peut "
        "ni les noter ni délibérer sur eux."
    )


def recusal_message(enrolment):
    return (
        f"Vous vous êtes déporté(e) pour {enrolment.candidate.full_name} : vous ne notez ni ne "
        "décidez pour ce candidat."
    )


def seat_for(jury, user, *, voting=True, enrolment=None):
    """The user's seat in the jury, declared independent, or a French refusal;
    with `enrolment`, refused too when the member stands aside for that candidate."""
    members = jury.members.filter(user=user)
    if enrolment is not None:
        members = members.annotate(
            recused=Exists(Recusal.objects.filter(member=OuterRef("pk"), enrolment=enrolment))
        )
    member = members.first()
    if (reason := policies.seat_refusal(member, voting=voting)) is not None:
        raise ValidationError(reason)
    if enrolment is not None and member.recused:
        raise ValidationError(recusal_message(enrolment))
    return member
