"""E-mails the platform sends on an event, kept as an outbox.

`notify(kind, event_key, recipients, context)` writes one `Notification` per
address, its subject and body rendered from the French plain-text templates
`templates/emails/<kind>_subject.txt` and `<kind>.txt` (which the office can
read and adapt), then queues, after the transaction commits, the background
task that sends them. The database's unique constraint (kind, event, address)
makes an event notify each address once, however many times its service or
the task runs: a second call writes nothing and sends nothing.

The task sends each message under a lock on its row and records the outcome:
sent, or failed with the error (retried by a later run: `send_reminders`,
or the office's « Renvoyer les échecs » on the outbox page). Nothing here
raises into the request that caused the event.

The services that cause the events call `notify` explicitly (never a signal):
evaluations (session opened, PV to sign, results published), certification
(certificate available), and the daily `send_reminders` command (invitation
about to expire). core imports none of them.
"""

import logging
from typing import NamedTuple

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import UNUSABLE_PASSWORD_PREFIX
from django.contrib.contenttypes.models import ContentType
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import F
from django.template import Context, engines
from django.utils import timezone
from django_tasks import task

from .dates import french_date
from .models import Action, AuditEvent, Notification
from .people import display_name

logger = logging.getLogger(__name__)

# A failed message is tried again by the daily run up to this many attempts;
# the office can still retry it by hand from the outbox.
MAX_ATTEMPTS = 5
# A message still pending after this long lost its task (a worker stopped,
# a queue unreachable): the daily run sends it.
STALE_PENDING = timezone.timedelta(minutes=30)


class Notified(NamedTuple):
    """What `notify` did: new messages queued, people without an address skipped."""

    queued: int
    skipped: int


def render_message(kind, context):
    """(subject, body) of `kind` from its templates, as plain text: nothing
    is HTML-escaped, the subject is one line."""
    engine = engines["django"].engine
    context = Context(
        {"base_url": settings.PUBLIC_BASE_URL, **context}, autoescape=False, use_l10n=True
    )
    subject = engine.get_template(f"emails/{kind}_subject.txt").render(context)
    body = engine.get_template(f"emails/{kind}.txt").render(context)
    subject = " ".join(subject.split())
    field = Notification._meta.get_field("subject")
    if len(subject) > field.max_length:
        subject = subject[: field.max_length - 1] + "…"
    return subject, body.strip() + "\n"


def notify(kind, event_key, recipients, context=None):
    """Write the notification of `event_key` to each of `recipients` (users)
    who has an active account and an e-mail address, and send them after
    commit. Idempotent: an address already notified of this event is left
    alone. Returns `Notified(queued, skipped)`."""
    kind = Notification.Kind(kind)  # an unknown kind is a programming error
    context = context or {}
    skipped = 0
    wanted = {}
    for user in recipients:
        email = (user.email or "").strip()
        if not email or not user.is_active:
            skipped += 1
            continue
        wanted.setdefault(email.lower(), (email, user))
    if skipped:
        logger.info("Notification %s %s : %d personne(s) sans adresse.", kind, event_key, skipped)
    if not wanted:
        return Notified(0, skipped)
    with transaction.atomic():
        already = {
            email.lower()
            for email in Notification.objects.filter(kind=kind, event_key=event_key).values_list(
                "email", flat=True
            )
        }
        new = [(email, user) for key, (email, user) in wanted.items() if key not in already]
        rows = []
        for email, user in new:
            try:
                subject, body = render_message(
                    kind, {**context, "recipient": user, "name": display_name(user)}
                )
            except Exception:
                # A template the office broke must not undo the event itself:
                # the error goes to the log (and the administrators' mail).
                logger.exception("Modèle de courriel « %s » illisible : rien n'est envoyé.", kind)
                return Notified(0, skipped)
            rows.append(
                Notification(
                    kind=kind,
                    event_key=event_key,
                    recipient=user,
                    email=email,
                    subject=subject,
                    body=body,
                )
            )
        # Two runs of the same event at once: the constraint keeps one row per address.
        Notification.objects.bulk_create(rows, ignore_conflicts=True)
        ids = list(
            Notification.objects.filter(
                kind=kind,
                event_key=event_key,
                email__in=[email for email, _ in new],
                status=Notification.Status.PENDING,
            ).values_list("pk", flat=True)
        )
        send_after_commit(ids)
    return Notified(len(ids), skipped)


def send_after_commit(ids):
    """Queue the sending of notifications `ids` once the transaction commits;
    a queue that fails leaves them pending for the next run, and the request
    unharmed."""
    ids = sorted(ids)
    if ids:
        transaction.on_commit(lambda: send_notifications.enqueue(ids), robust=True)


@task()
def send_notifications(ids):
    """Send the notifications `ids` still to send (pending or failed), each
    once: under a lock on its row, skipped if another run holds it or sent it."""
    connection = get_connection()
    try:
        connection.open()
    except Exception:  # each message records the failure below
        logger.warning("Connexion au serveur de courrier impossible.", exc_info=True)
    sent = 0
    try:
        for pk in ids:
            sent += _send_one(pk, connection)
    finally:
        try:
            connection.close()
        except Exception:
            logger.warning("Fermeture de la connexion au serveur de courrier.", exc_info=True)
    return sent


def _send_one(pk, connection):
    with transaction.atomic():
        notification = (
            Notification.objects.select_for_update(skip_locked=True)
            .filter(pk=pk, status__in=[Notification.Status.PENDING, Notification.Status.FAILED])
            .first()
        )
        if notification is None:
            return 0
        message = EmailMessage(
            notification.subject,
            notification.body,
            to=[notification.email],
            connection=connection,
        )
        try:
            message.send()
        except Exception as error:
            logger.warning("Échec de l'envoi de la notification %s.", pk, exc_info=True)
            Notification.objects.filter(pk=pk).update(
                status=Notification.Status.FAILED,
                attempts=F("attempts") + 1,
                error=f"{type(error).__name__} : {error}"[:2000],
            )
            return 0
        Notification.objects.filter(pk=pk).update(
            status=Notification.Status.SENT,
            attempts=F("attempts") + 1,
            error="",
            sent_at=timezone.now(),
        )
        return 1


def retry(notifications):
    """Send again, after commit, the failed ones among `notifications`
    (a queryset). Returns how many."""
    ids = list(notifications.filter(status=Notification.Status.FAILED).values_list("pk", flat=True))
    send_after_commit(ids)
    return len(ids)


def unsent_due():
    """What the daily run sends again: failed messages under MAX_ATTEMPTS and
    pending ones whose task never ran."""
    return Notification.objects.filter(
        status=Notification.Status.FAILED, attempts__lt=MAX_ATTEMPTS
    ) | Notification.objects.filter(
        status=Notification.Status.PENDING, created_at__lt=timezone.now() - STALE_PENDING
    )


def resend_unsent():
    """Queue every message `unsent_due()` names; returns how many."""
    ids = list(unsent_due().values_list("pk", flat=True))
    with transaction.atomic():
        send_after_commit(ids)
    return len(ids)


# Invitations about to expire, found by the daily run (a task cannot
# schedule itself: `manage.py send_reminders`, from a timer).


def reminder_days():
    """How many days before its link expires an invitation is recalled."""
    return int(getattr(settings, "INVITATION_REMINDER_DAYS", 1))


def expiring_invitations(*, now=None, days=None):
    """[(user, invited_at)] of the accounts invited who never chose a
    password and whose latest invitation link expires within `days` days
    (PASSWORD_RESET_TIMEOUT after the invitation), not yet expired.

    An invitation is a PERSON_INVITED event on the account (trainers, jury
    members) or a CANDIDATE_INVITED event on the candidate who holds it; the
    candidate is read through the account's reverse relation by name, core
    importing nothing above it."""
    now = now or timezone.now()
    days = reminder_days() if days is None else days
    validity = timezone.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
    since = now - validity
    User = get_user_model()
    invited_at = {}

    def note(user_id, moment):
        if user_id is not None and (user_id not in invited_at or moment > invited_at[user_id]):
            invited_at[user_id] = moment

    for object_id, moment in AuditEvent.objects.filter(
        action=Action.PERSON_INVITED,
        content_type=ContentType.objects.get_for_model(User),
        created_at__gt=since,
    ).values_list("object_id", "created_at"):
        note(int(object_id), moment)
    candidate_field = next(
        (field for field in User._meta.related_objects if field.name == "candidate"), None
    )
    if candidate_field is not None:
        Candidate = candidate_field.related_model
        invited = dict(
            AuditEvent.objects.filter(
                action=Action.CANDIDATE_INVITED,
                content_type=ContentType.objects.get_for_model(Candidate),
                created_at__gt=since,
            )
            .values_list("object_id", "created_at")
            .order_by("created_at")
        )
        for candidate_id, user_id in Candidate.objects.filter(
            pk__in=[int(pk) for pk in invited], user__isnull=False
        ).values_list("pk", "user_id"):
            note(user_id, invited[str(candidate_id)])
    users = User.objects.filter(
        pk__in=list(invited_at), is_active=True, password__startswith=UNUSABLE_PASSWORD_PREFIX
    ).order_by("pk")
    horizon = timezone.timedelta(days=days)
    return [
        (user, invited_at[user.pk])
        for user in users
        if invited_at[user.pk] + validity - horizon <= now < invited_at[user.pk] + validity
    ]


def remind_expiring_invitations(*, now=None, days=None):
    """Recall each invitation about to expire to its addressee, once per
    invitation (a new invitation is a new event). Returns `Notified`."""
    validity = timezone.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT)
    queued = skipped = 0
    for user, invited_at in expiring_invitations(now=now, days=days):
        expires = timezone.localtime(invited_at + validity)
        outcome = notify(
            Notification.Kind.INVITATION_EXPIRING,
            f"user-{user.pk}-{invited_at:%Y%m%d%H%M%S%f}",
            [user],
            {
                "invited_on": french_date(invited_at),
                "expires_on": french_date(expires),
                "expires_at": f"{expires:%H h %M}",
            },
        )
        queued += outcome.queued
        skipped += outcome.skipped
    return Notified(queued, skipped)
