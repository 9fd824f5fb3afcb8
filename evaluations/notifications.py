"""The e-mails evaluations' events send (core/notifications.py sends them):
called explicitly by the services, inside their transaction, so that
nothing leaves before the event is committed."""

from django.urls import reverse

from candidates.models import Candidate
from core.dates import french_date
from core.models import Notification
from core.notifications import notify


def session_opened(session):
    """Its assessors: the session is open to grading. Once per session, even
    if it is closed and opened again."""
    return notify(
        Notification.Kind.SESSION_OPENED,
        f"session-{session.pk}",
        session.assessors.all(),
        {
            "session": session,
            "modality": session.modality,
            "cohort": session.cohort,
            "date": french_date(session.date),
            "candidates": session.assessments.count(),
            "url": reverse("evaluations:session", args=[session.pk]),
        },
    )


def minutes_to_sign(deliberation, *, signed_by):
    """The members who have not signed yet, when a first member signs the PV
    (its decisions are then complete): the PV awaits their signature."""
    signed = set(deliberation.signatures.values_list("member_id", flat=True))
    members = [
        member.user
        for member in deliberation.jury.members.select_related("user")
        if member.pk not in signed and member.user_id != signed_by.pk
    ]
    return notify(
        Notification.Kind.MINUTES_TO_SIGN,
        f"deliberation-{deliberation.pk}",
        members,
        {
            "deliberation": deliberation,
            "jury": deliberation.jury,
            "cohort": deliberation.cohort,
            "held_on": french_date(deliberation.held_on),
            "url": reverse("evaluations:deliberation", args=[deliberation.pk]),
        },
    )


def results_published(deliberation):
    """The candidates the published PV decided on who have an account. No
    result in the e-mail: they read it on the platform."""
    candidates = (
        Candidate.objects.filter(
            enrolments__decisions__deliberation=deliberation, user__isnull=False
        )
        .select_related("user")
        .distinct()
    )
    return notify(
        Notification.Kind.RESULTS_PUBLISHED,
        f"deliberation-{deliberation.pk}",
        [candidate.user for candidate in candidates],
        {
            "deliberation": deliberation,
            "rectifying": deliberation.rectifies_id is not None,
            "published_on": french_date(deliberation.published_at),
            "url": reverse("portal:candidate_home"),
        },
    )
