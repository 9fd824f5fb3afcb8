"""Trainers and jury members without the Django admin: the office creates
their accounts, edits them and invites them by e-mail to choose a password.

The invitation itself (an account without a password, a link to choose one,
the French e-mail sent after commit) is shared with the candidates' app.

A trainer's open sessions and a jury member's seats are read through the
user model's reverse relations by name: core never imports the apps above it.
"""

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.validators import EmailValidator
from django.db import models, transaction
from django.db.models.functions import Cast, Coalesce, Lower
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from .audit import record_event
from .dates import french_date
from .models import Action, AuditEvent, Profile
from .roles import JURY_MEMBER, TRAINER, group

# The roles the office gives from the platform; the office's own stays in the admin.
STAFF_ROLES = [TRAINER, JURY_MEMBER]
# The ExamSession status (evaluations) of a session being scored.
OPEN_SESSION = "open"


# Accounts and invitations, shared with the candidates' app.


def account_name(email):
    """The username of an account opened from an e-mail address: the address
    itself, trimmed and in lower case, so that signing in ignores the case."""
    return email.strip().lower()


def check_email_free(email, *, exclude=None):
    """Refuse an address already used by another account, as username or e-mail."""
    others = get_user_model().objects.all()
    if exclude is not None:
        others = others.exclude(pk=exclude.pk)
    name = account_name(email)
    if others.filter(models.Q(username__iexact=name) | models.Q(email__iexact=name)).exists():
        raise ValidationError(f"Un compte utilise déjà l'identifiant {name}.")


def new_account(*, email, first_name, last_name):
    """An unsaved account for `email`, without a password until its owner
    chooses one from the invitation."""
    user = get_user_model()(
        username=account_name(email),
        email=email.strip(),
        first_name=first_name.strip(),
        last_name=last_name.strip(),
    )
    user.set_unusable_password()
    return user


def invitation_link(user, *, base_url):
    """A fresh link to choose a password, valid once and for
    PASSWORD_RESET_TIMEOUT; the token changes with the password and the e-mail."""
    return base_url.rstrip("/") + reverse(
        "password_reset_confirm",
        kwargs={
            "uidb64": urlsafe_base64_encode(force_bytes(user.pk)),
            "token": default_token_generator.make_token(user),
        },
    )


def invitation_email(user, *, base_url, first_name=""):
    """The French invitation e-mail of `user`, not sent yet."""
    days = max(1, round(settings.PASSWORD_RESET_TIMEOUT / 86400))
    validity = "un jour" if days == 1 else f"{days} jours"
    return EmailMessage(
        "Votre accès à la plateforme de certification",
        f"Bonjour {first_name or user.first_name},\n\n"
        "Un compte vous est ouvert sur la plateforme de certification "
        "« Assistant de production ».\n"
        f"Votre identifiant : {user.username}\n"
        f"Choisissez votre mot de passe en suivant ce lien :\n"
        f"{invitation_link(user, base_url=base_url)}\n\n"
        f"Ce lien ne sert qu'une fois et reste valable {validity} ; passé ce délai, "
        "demandez une nouvelle invitation au bureau de la certification.\n",
        to=[user.email],
    )


def send_after_commit(messages):
    """Send the e-mails once the transaction that decided them is committed,
    over one connection however many there are."""
    messages = list(messages)
    if messages:
        transaction.on_commit(lambda: get_connection().send_messages(messages))


# Trainers and jury members.


def staff_people():
    """Everyone holding a staff role the office gives, with their organisation
    and phone, their staff groups (`staff_groups`) and the date of their last
    invitation (`invited_at`), in a constant number of queries."""
    User = get_user_model()
    last_invitation = (
        AuditEvent.objects.filter(
            action=Action.PERSON_INVITED,
            content_type=ContentType.objects.get_for_model(User),
            object_id=Cast(models.OuterRef("pk"), models.CharField()),
        )
        .order_by("-created_at")
        .values("created_at")[:1]
    )
    return (
        User.objects.filter(
            pk__in=User.groups.through.objects.filter(group__name__in=STAFF_ROLES).values("user")
        )
        .annotate(
            organisation=Coalesce("profile__organisation", models.Value("")),
            phone=Coalesce("profile__phone", models.Value("")),
            invited_at=models.Subquery(last_invitation),
        )
        .prefetch_related(
            models.Prefetch(
                "groups",
                queryset=Group.objects.filter(name__in=STAFF_ROLES).order_by("name"),
                to_attr="staff_groups",
            )
        )
        .order_by(Lower("last_name"), Lower("first_name"), "pk")
    )


def display_name(user):
    """A person as the platform names them: full name, else the username."""
    return user.get_full_name() or user.username


def _clean_roles(chosen):
    chosen = [role for role in STAFF_ROLES if role in set(chosen)]
    if not chosen:
        raise ValidationError("Choisissez au moins un rôle : formateur ou membre de jury.")
    return chosen


def _check_names(first_name, last_name, email):
    if not first_name.strip() or not last_name.strip():
        raise ValidationError("Indiquez le prénom et le nom de la personne.")
    if not email.strip():
        raise ValidationError("Indiquez l'adresse électronique de la personne.")
    EmailValidator(f"L'adresse électronique {email.strip()} n'est pas valable.")(email.strip())


def create_person(*, first_name, last_name, email, roles, organisation="", phone="", by):
    """Open the account of a trainer or jury member, without a password: the
    invitation lets them choose it."""
    _check_names(first_name, last_name, email)
    chosen = _clean_roles(roles)
    with transaction.atomic():
        check_email_free(email)
        user = new_account(email=email, first_name=first_name, last_name=last_name)
        user.save()
        user.groups.add(*(group(role) for role in chosen))
        Profile.objects.create(user=user, organisation=organisation.strip(), phone=phone.strip())
        record_event(
            actor=by,
            action=Action.PERSON_CREATED,
            target=user,
            data={
                "name": display_name(user),
                "roles": chosen,
                "organisation": organisation.strip(),
                "email": user.email,
            },
        )
    return user


def update_person(user, *, first_name, last_name, email, roles, organisation, phone, by):
    """Change a trainer's or jury member's name, e-mail, organisation, phone or
    roles. A role still in use cannot be taken away: a jury member who sits in
    a jury, a trainer who assesses a session open to scoring."""
    _check_names(first_name, last_name, email)
    chosen = _clean_roles(roles)
    User = get_user_model()
    with transaction.atomic():
        user = User.objects.select_for_update().get(pk=user.pk)
        profile, _ = Profile.objects.select_for_update().get_or_create(user=user)
        held = set(user.groups.filter(name__in=STAFF_ROLES).values_list("name", flat=True))
        removed = held - set(chosen)
        if JURY_MEMBER in removed and user.jury_seats.exists():
            raise ValidationError(
                f"{display_name(user)} siège dans un jury : retirez-le/la du jury avant de "
                "lui ôter le rôle de membre de jury."
            )
        if TRAINER in removed and user.exam_sessions.filter(status=OPEN_SESSION).exists():
            raise ValidationError(
                f"{display_name(user)} évalue une session d'examen ouverte à la notation : "
                "remplacez-le/la comme évaluateur avant de lui ôter le rôle de formateur."
            )
        email = email.strip()
        if email.lower() != user.email.lower():
            check_email_free(email, exclude=user)
        changes = []

        def change(label, old, new):
            if old != new:
                changes.append({"field": label, "old": old, "new": new})

        change("prénom", user.first_name, first_name.strip())
        change("nom", user.last_name, last_name.strip())
        change("adresse électronique", user.email, email)
        change("organisme", profile.organisation, organisation.strip())
        change("téléphone", profile.phone, phone.strip())
        change(
            "rôles",
            ", ".join(role for role in STAFF_ROLES if role in held),
            ", ".join(chosen),
        )
        if not changes:
            return user
        # The username follows the address for accounts opened from it.
        if user.username == account_name(user.email) or not user.username:
            user.username = account_name(email)
        user.first_name, user.last_name, user.email = first_name.strip(), last_name.strip(), email
        user.save(update_fields=["username", "first_name", "last_name", "email"])
        profile.organisation, profile.phone = organisation.strip(), phone.strip()
        profile.save(update_fields=["organisation", "phone"])
        if removed:
            user.groups.remove(*Group.objects.filter(name__in=removed))
        if added := set(chosen) - held:
            user.groups.add(*(group(role) for role in added))
        record_event(actor=by, action=Action.PERSON_CHANGED, target=user, data={"changes": changes})
    return user


def send_invitation(user, *, base_url, by):
    """E-mail a trainer or jury member a fresh link to choose their password,
    after commit. Inviting again sends a new link."""
    with transaction.atomic():
        user = get_user_model().objects.select_for_update().get(pk=user.pk)
        if not user.groups.filter(name__in=STAFF_ROLES).exists():
            raise ValidationError(
                "Seuls les formateurs et les membres de jury sont invités depuis cette page."
            )
        if not user.email:
            raise ValidationError(
                f"Renseignez l'adresse électronique de {display_name(user)} avant de l'inviter."
            )
        record_event(
            actor=by,
            action=Action.PERSON_INVITED,
            target=user,
            data={"name": display_name(user), "email": user.email},
        )
        send_after_commit([invitation_email(user, base_url=base_url)])
    return user


def account_state(user):
    """What the office reads of an account: password chosen, invited, or neither."""
    if user.has_usable_password():
        return "mot de passe choisi"
    invited_at = getattr(user, "invited_at", None)
    if invited_at:
        return f"invitation envoyée le {french_date(invited_at)}"
    return "jamais invité"
