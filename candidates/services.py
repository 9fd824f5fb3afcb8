"""State changes of candidates, cohorts and enrolments: one transaction, one
audit event, a French message when refused."""

import datetime
import secrets

from django.contrib.auth import get_user_model
from django.contrib.auth.tokens import default_token_generator
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from blocks.models import CertificationVersion
from core import roles
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


def enrol(candidate, cohort, *, access_route, optional_blocs=(), by):
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
        if access_route not in Enrolment.AccessRoute.values:
            raise ValidationError(f"Voie d'accès inconnue : {access_route}.")
        check_optional_blocs(cohort, optional_blocs)
        if Enrolment.objects.filter(candidate=candidate, cohort=cohort).exists():
            raise ValidationError(f"{candidate} est déjà inscrit(e) dans la promotion {cohort}.")
        enrolment = Enrolment.objects.create(
            candidate=candidate, cohort=cohort, access_route=access_route
        )
        enrolment.optional_blocs.set(optional_blocs)
        record_event(
            actor=by,
            action=Action.ENROLMENT_CREATED,
            target=enrolment,
            data={
                "access_route": access_route,
                "optional_blocs": [bloc.number for bloc in optional_blocs],
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
            User = get_user_model()
            if User.objects.filter(username__iexact=candidate.email).exists():
                raise ValidationError(f"Un compte utilise déjà l'identifiant {candidate.email}.")
            user = User(
                username=candidate.email,
                email=candidate.email,
                first_name=candidate.first_names.split()[0],
                last_name=candidate.usage_name or candidate.birth_name,
            )
            user.set_unusable_password()
            user.save()
            user.groups.add(roles.group(roles.CANDIDATE))
            candidate.user = user
            candidate.save(update_fields=["user"])
        link = base_url.rstrip("/") + reverse(
            "password_reset_confirm",
            kwargs={
                "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
                "token": default_token_generator.make_token(user),
            },
        )
        record_event(actor=by, action=Action.CANDIDATE_INVITED, target=candidate)
        transaction.on_commit(
            lambda: send_mail(
                "Votre accès à la plateforme de certification",
                f"Bonjour {candidate.first_names},\n\n"
                "Un compte vous a été ouvert sur la plateforme de certification "
                "« Assistant de production ».\n"
                f"Votre identifiant : {user.username}\n"
                f"Choisissez votre mot de passe en suivant ce lien :\n{link}\n\n"
                "Ce lien ne sert qu'une fois.\n",
                None,
                [candidate.email],
            )
        )
    return user


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
                    access_route=row.access_route,
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
