"""State changes of candidates, cohorts and enrolments: one transaction, one
audit event, a French message when refused."""

import datetime
import secrets

from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils import timezone

from blocks.models import CertificationVersion
from core import people, roles
from core.audit import Action, record_event, record_events

from .importing import ImportRefused, plan_import
from .models import Candidate, Cohort, Enrolment, PendingImport

# Rows per insert of an import: SQLite refuses more than 999 parameters in one query.
INSERT_BATCH = 500
# How long a previewed import file waits for its confirmation.
PENDING_IMPORT_LIFETIME = datetime.timedelta(hours=1)
STALE_PREVIEW = (
    "Cet aperçu n'est plus valable : déposez de nouveau le fichier (un aperçu se confirme "
    "une seule fois, dans l'heure, par la personne qui a déposé le fichier)."
)

IDENTITY_FIELDS = [
    "birth_name",
    "usage_name",
    "first_names",
    "sex",
    "birth_date",
    "birth_commune",
    "birth_insee_code",
    "birth_country",
    "email",
    "phone",
]


def _changes(instance, values):
    return {
        field: [str(getattr(instance, field)), str(value)]
        for field, value in values.items()
        if getattr(instance, field) != value
    }


def save_candidate(candidate, *, values, by):
    """Create (candidate without pk) or update an identity record, auditing each change."""
    with transaction.atomic():
        if candidate.pk:
            candidate = Candidate.objects.select_for_update().get(pk=candidate.pk)
        changes = _changes(candidate, values) if candidate.pk else {}
        created = candidate.pk is None
        for field, value in values.items():
            setattr(candidate, field, value)
        candidate.full_clean(exclude=["user"])
        candidate.save()
        if created:
            record_event(actor=by, action=Action.CANDIDATE_CREATED, target=candidate)
        elif changes:
            record_event(actor=by, action=Action.CANDIDATE_CHANGED, target=candidate, data=changes)
    return candidate


def save_cohort(cohort, *, values, trainers, by):
    with transaction.atomic():
        version = values["certification_version"]
        if version.status != CertificationVersion.Status.ACTIVE:
            raise ValidationError(
                "Une promotion suit une version active de la certification "
                f"(« {version} » est {version.get_status_display().lower()})."
            )
        if cohort.pk:
            cohort = Cohort.objects.select_for_update().get(pk=cohort.pk)
            if cohort.certification_version_id != version.pk and cohort.enrolments.exists():
                raise ValidationError(
                    "La promotion a des inscrits : sa version de certification ne change plus."
                )
        created = cohort.pk is None
        changes = {} if created else _changes(cohort, values)
        for field, value in values.items():
            setattr(cohort, field, value)
        cohort.full_clean()
        cohort.save()
        cohort.trainers.set(trainers)
        record_event(
            actor=by,
            action=Action.COHORT_CREATED if created else Action.COHORT_CHANGED,
            target=cohort,
            data={**changes, "trainers": sorted(t.username for t in trainers)},
        )
    return cohort


def check_optional_blocs(cohort, optional_blocs):
    wrong = [
        bloc
        for bloc in optional_blocs
        if not bloc.optional or bloc.certification_version_id != cohort.certification_version_id
    ]
    if wrong:
        raise ValidationError(
            "Seuls les blocs optionnels de la certification de la promotion peuvent être "
            "choisis : " + ", ".join(f"bloc {bloc.number}" for bloc in wrong) + "."
        )


REGISTRATION_FIELDS = ("access_route", "vae_route", "registration_initiative", "registration_date")


def registration_problems(
    *, access_route, vae_route, registration_initiative, vae_route_required=True
):
    """What is wrong with an enrolment's registration data, in French. An
    enrolment created by an older caller or an import without the column may
    leave the type of VAE to be given later (`vae_route_required=False`): the
    office's edit then asks for it."""
    problems = []
    if access_route not in Enrolment.AccessRoute.values:
        problems.append(f"Voie d'accès inconnue : {access_route}.")
    if vae_route and vae_route not in Enrolment.VaeRoute.values:
        problems.append(f"Type de VAE inconnu : {vae_route}.")
    if vae_route_required and access_route == Enrolment.AccessRoute.VAE and not vae_route:
        problems.append("Pour une inscription par la VAE, précisez le type de VAE.")
    if access_route != Enrolment.AccessRoute.VAE and vae_route:
        problems.append("Le type de VAE ne se renseigne que pour une inscription par la VAE.")
    if registration_initiative and registration_initiative not in Enrolment.Initiative.values:
        problems.append(f"Initiative d'inscription inconnue : {registration_initiative}.")
    return problems


def _stored(value):
    """A registration value as the audit log keeps it (a date in ISO)."""
    return value.isoformat() if hasattr(value, "isoformat") else (value or "")


def change_registration(
    enrolment, *, access_route, vae_route="", registration_initiative="", registration_date=None, by
):
    """The office corrects an enrolment's registration data (access route,
    type of VAE, initiative, date of registration to the certification),
    audited with the old and new values."""
    values = {
        "access_route": access_route,
        "vae_route": vae_route or "",
        "registration_initiative": registration_initiative or "",
        "registration_date": registration_date,
    }
    problems = registration_problems(
        access_route=access_route,
        vae_route=values["vae_route"],
        registration_initiative=values["registration_initiative"],
    )
    if problems:
        raise ValidationError(problems)
    with transaction.atomic():
        enrolment = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
        changes = {
            field: [_stored(getattr(enrolment, field)), _stored(value)]
            for field, value in values.items()
            if _stored(getattr(enrolment, field)) != _stored(value)
        }
        if not changes:
            return enrolment
        for field in changes:
            setattr(enrolment, field, values[field])
        enrolment.save(update_fields=list(changes))
        record_event(
            actor=by,
            action=Action.ENROLMENT_REGISTRATION_CHANGED,
            target=enrolment,
            data={"changes": changes},
        )
    return enrolment


def enrol(
    candidate,
    cohort,
    *,
    access_route,
    optional_blocs=(),
    vae_route="",
    registration_initiative="",
    registration_date=None,
    by,
):
    with transaction.atomic():
        cohort = (
            Cohort.objects.select_for_update()
            .select_related("certification_version")
            .get(pk=cohort.pk)
        )
        if cohort.certification_version.status != CertificationVersion.Status.ACTIVE:
            raise ValidationError(
                "La version de certification de cette promotion n'est plus active."
            )
        problems = registration_problems(
            access_route=access_route,
            vae_route=vae_route or "",
            registration_initiative=registration_initiative or "",
            vae_route_required=False,
        )
        if problems:
            raise ValidationError(problems)
        check_optional_blocs(cohort, optional_blocs)
        if Enrolment.objects.filter(candidate=candidate, cohort=cohort).exists():
            raise ValidationError(f"{candidate} est déjà inscrit(e) dans la promotion {cohort}.")
        enrolment = Enrolment.objects.create(
            candidate=candidate,
            cohort=cohort,
            access_route=access_route,
            vae_route=vae_route or "",
            registration_initiative=registration_initiative or "",
            registration_date=registration_date,
        )
        enrolment.optional_blocs.set(optional_blocs)
        record_event(
            actor=by,
            action=Action.ENROLMENT_CREATED,
            target=enrolment,
            data={
                "access_route": access_route,
                "optional_blocs": [bloc.number for bloc in optional_blocs],
                **{
                    field: _stored(value)
                    for field, value in (
                        ("vae_route", vae_route),
                        ("registration_initiative", registration_initiative),
                        ("registration_date", registration_date),
                    )
                    if value
                },
            },
        )
    return enrolment


def withdraw(enrolment, *, reason, by):
    """Withdraw a candidate from a cohort; the enrolment and its history stay."""
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Indiquez le motif du retrait.")
    with transaction.atomic():
        enrolment = Enrolment.objects.select_for_update().get(pk=enrolment.pk)
        if enrolment.status == Enrolment.Status.WITHDRAWN:
            raise ValidationError("Cette inscription est déjà retirée.")
        enrolment.status = Enrolment.Status.WITHDRAWN
        enrolment.withdrawn_at = timezone.now()
        enrolment.withdrawal_reason = reason
        enrolment.save(update_fields=["status", "withdrawn_at", "withdrawal_reason"])
        record_event(
            actor=by,
            action=Action.ENROLMENT_WITHDRAWN,
            target=enrolment,
            data={"reason": reason},
        )
    return enrolment


def _account_for(candidate):
    return people.new_account(
        email=candidate.email,
        first_name=candidate.first_names.split()[0],
        last_name=candidate.usage_name or candidate.birth_name,
    )


def invite_candidate(candidate, *, base_url, by):
    """Give the candidate an account and email a link to choose a password.

    Inviting again re-sends a fresh link to the same account."""
    with transaction.atomic():
        candidate = Candidate.objects.select_for_update().get(pk=candidate.pk)
        if not candidate.email:
            raise ValidationError(
                "Renseignez l'adresse électronique du candidat avant de l'inviter."
            )
        user = candidate.user
        if user is None:
            people.check_email_free(candidate.email)
            user = _account_for(candidate)
            user.save()
            user.groups.add(roles.group(roles.CANDIDATE))
            candidate.user = user
            candidate.save(update_fields=["user"])
        record_event(actor=by, action=Action.CANDIDATE_INVITED, target=candidate)
        people.send_after_commit(
            [people.invitation_email(user, base_url=base_url, first_name=candidate.first_names)]
        )
    return user


def candidates_without_account(cohort):
    """The cohort's enrolled candidates who have no account yet, with or
    without an e-mail address."""
    return Candidate.objects.filter(
        enrolments__cohort=cohort,
        enrolments__status=Enrolment.Status.ENROLLED,
        user__isnull=True,
    )


def invite_cohort(cohort, *, base_url, by):
    """Invite at once every enrolled candidate of the cohort who has an e-mail
    address and no account: all or none, in a constant number of queries; the
    e-mails leave after commit. Returns the candidates invited."""
    User = get_user_model()
    with transaction.atomic():
        Cohort.objects.select_for_update().get(pk=cohort.pk)
        candidates = list(
            candidates_without_account(cohort)
            .exclude(email="")
            .select_for_update(of=("self",))
            .order_by(*Candidate._meta.ordering, "pk")
        )
        if not candidates:
            raise ValidationError(
                "Aucun candidat inscrit de cette promotion n'attend d'invitation."
            )
        check_invitable(candidates)
        users = User.objects.bulk_create(_account_for(candidate) for candidate in candidates)
        group = roles.group(roles.CANDIDATE)
        User.groups.through.objects.bulk_create(
            User.groups.through(user_id=user.pk, group_id=group.pk) for user in users
        )
        for candidate, user in zip(candidates, users, strict=True):
            candidate.user = user
        Candidate.objects.bulk_update(candidates, ["user"])
        record_events(
            actor=by,
            action=Action.CANDIDATE_INVITED,
            targets=candidates,
            data={"promotion": cohort.name},
        )
        people.send_after_commit(
            people.invitation_email(user, base_url=base_url, first_name=candidate.first_names)
            for candidate, user in zip(candidates, users, strict=True)
        )
    return candidates


def check_invitable(candidates):
    """Refuse, naming each, addresses two candidates share or an account already uses."""
    problems = []
    by_name = {}
    for candidate in candidates:
        by_name.setdefault(people.account_name(candidate.email), []).append(candidate)
    for name, sharing in by_name.items():
        if len(sharing) > 1:
            who = ", ".join(candidate.full_name for candidate in sharing)
            problems.append(f"{who} ont la même adresse électronique {name}.")
    taken = set()
    for username, email in (
        get_user_model()
        .objects.annotate(lower_username=Lower("username"), lower_email=Lower("email"))
        .filter(Q(lower_username__in=by_name) | Q(lower_email__in=by_name))
        .values_list("lower_username", "lower_email")
    ):
        taken.update({username, email} & by_name.keys())
    for name in sorted(taken):
        who = ", ".join(candidate.full_name for candidate in by_name[name])
        problems.append(f"L'adresse {name} de {who} est déjà l'identifiant d'un compte.")
    if problems:
        raise ValidationError(
            ["Aucun candidat n'a été invité : corrigez d'abord ces adresses."] + problems
        )


def apply_import(cohort, filename, content, *, by):
    """Import the file into the cohort, entirely, or raise ImportRefused and write nothing.

    The file is planned again under the cohort's lock: what was previewed may
    have changed since (another import, a version archived)."""
    with transaction.atomic():
        cohort = (
            Cohort.objects.select_for_update()
            .select_related("certification_version")
            .get(pk=cohort.pk)
        )
        plan = plan_import(cohort, filename, content)
        if not plan.is_valid:
            raise ImportRefused(plan.problems)
        created = Candidate.objects.bulk_create(
            [Candidate(**row.values) for row in plan.to_create], batch_size=INSERT_BATCH
        )
        to_enrol = list(zip(created, plan.to_create, strict=True)) + [
            (row.candidate, row) for row in plan.to_enrol_existing
        ]
        enrolments = Enrolment.objects.bulk_create(
            [
                Enrolment(
                    candidate=candidate,
                    cohort=cohort,
                    **row.registration(),
                    status=Enrolment.Status.ENROLLED,
                )
                for candidate, row in to_enrol
            ],
            batch_size=INSERT_BATCH,
        )
        Choice = Enrolment.optional_blocs.through
        Choice.objects.bulk_create(
            [
                Choice(enrolment_id=enrolment.pk, bloc_id=bloc.pk)
                for enrolment, (_, row) in zip(enrolments, to_enrol, strict=True)
                for bloc in row.optional_blocs
            ],
            batch_size=INSERT_BATCH,
        )
        record_events(
            actor=by,
            action=Action.CANDIDATE_IMPORTED,
            targets=created,
            data={"file": filename},
        )
        record_events(
            actor=by,
            action=Action.ENROLMENT_IMPORTED,
            targets=enrolments,
            data={"file": filename},
        )
        record_event(
            actor=by,
            action=Action.IMPORT_APPLIED,
            target=cohort,
            data={
                "file": filename,
                "created": len(plan.to_create),
                "enrolled_existing": len(plan.to_enrol_existing),
                "already_enrolled": len(plan.already_enrolled),
            },
        )
    return plan


def hold_import(cohort, *, filename, content, by):
    """Keep a previewed file until its owner confirms it, under an unguessable token.

    A transient working file, not a record: no audit event (applying it records
    one). The expired files of everyone are purged on the way."""
    with transaction.atomic():
        now = timezone.now()
        PendingImport.objects.expired(now).delete()
        return PendingImport.objects.create(
            cohort=cohort,
            owner=by,
            filename=filename,
            content=content,
            token=secrets.token_urlsafe(32),
            expires_at=now + PENDING_IMPORT_LIFETIME,
        )


def confirm_import(cohort, *, token, by):
    """Apply the file `by` previewed for this cohort under `token`, then forget it.

    Anyone else's token, an unknown or expired one, raises ValidationError;
    a file that became wrong since its preview raises ImportRefused and stays
    held until it expires. Either way nothing is written."""
    with transaction.atomic():
        pending = (
            PendingImport.objects.select_for_update()
            .awaiting(token=token, owner=by, cohort=cohort)
            .first()
        )
        if pending is None:
            raise ValidationError(STALE_PREVIEW)
        plan = apply_import(cohort, pending.filename, bytes(pending.content), by=by)
        pending.delete()
    return plan


# Errors in a candidate's civil status, reported by the candidate to the office.

# Reports a candidate may have waiting at once: enough for any real error.
MAX_OPEN_REPORTS = 3


def report_civil_status_error(candidate, *, message, by):
    """The candidate `by` tells the office that their own civil status (a
    name, a birth date or place) is wrong. The office reads it on the
    candidate's page, corrects the record itself and answers."""
    message = (message or "").strip()
    if not message:
        raise ValidationError("Décrivez l'erreur et la bonne information.")
    with transaction.atomic():
        candidate = Candidate.objects.select_for_update().get(pk=candidate.pk)
        if by is None or candidate.user_id is None or candidate.user_id != by.pk:
            raise ValidationError("Seul le candidat signale une erreur de son propre état civil.")
        waiting = candidate.civil_status_reports.filter(closed_at__isnull=True).count()
        if waiting >= MAX_OPEN_REPORTS:
            raise ValidationError(
                f"Vous avez déjà {waiting} signalements en attente : le bureau de la "
                "certification y répond avant d'en recevoir d'autres."
            )
        report = candidate.civil_status_reports.create(message=message, reported_by=by)
        record_event(
            actor=by,
            action=Action.CIVIL_STATUS_REPORTED,
            target=candidate,
            data={"report": report.pk, "message": message},
        )
    return report


def close_civil_status_report(report, *, answer, by):
    """The office answers a report (the correction made, or why nothing
    changes) and closes it; the candidate reads the answer on their page."""
    answer = (answer or "").strip()
    if not answer:
        raise ValidationError(
            "Indiquez la réponse au candidat : la correction faite, ou pourquoi rien ne change."
        )
    with transaction.atomic():
        report = (
            type(report).objects.select_for_update().select_related("candidate").get(pk=report.pk)
        )
        if report.closed_at is not None:
            raise ValidationError("Ce signalement est déjà traité.")
        report.closed_at = timezone.now()
        report.closed_by = by
        report.answer = answer
        report.save(update_fields=["closed_at", "closed_by", "answer"])
        record_event(
            actor=by,
            action=Action.CIVIL_STATUS_REPORT_CLOSED,
            target=report.candidate,
            data={"report": report.pk, "answer": answer},
        )
    return report
