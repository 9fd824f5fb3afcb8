"""State changes of candidates, cohorts and enrolments: one transaction, one
audit event, a French message when refused."""

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
from core.audit import record_event

from .models import Candidate, Cohort, Enrolment

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
            record_event(actor=by, action="candidates.candidate.created", target=candidate)
        elif changes:
            record_event(
                actor=by, action="candidates.candidate.changed", target=candidate, data=changes
            )
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
            action="candidates.cohort.created" if created else "candidates.cohort.changed",
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
            action="candidates.enrolment.created",
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
            action="candidates.enrolment.withdrawn",
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
        record_event(actor=by, action="candidates.candidate.invited", target=candidate)
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
