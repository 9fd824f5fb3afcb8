"""E-mails on events: each sent once per event and address, none before the
event, failures recorded and retried, people without an address skipped,
in French (locmem backend: django.core.mail.outbox)."""

import datetime

import pytest
from django.conf import settings
from django.core import mail
from django.core.exceptions import ValidationError
from django.core.mail.backends.base import BaseEmailBackend
from django.core.management import call_command

from core.models import Action, AuditEvent, Notification
from core.notifications import (
    MAX_ATTEMPTS,
    expiring_invitations,
    notify,
    remind_expiring_invitations,
    resend_unsent,
    retry,
    send_notifications,
)
from core.people import create_person, send_invitation
from evaluations.deliberations import open_deliberation, publish_results, sign_minutes
from evaluations.models import ExamSession
from evaluations.sessions import change_session_status, create_session
from evaluations.tests.factories import decide_as_proposed, sit_bloc

pytestmark = pytest.mark.django_db

Kind = Notification.Kind
Status = Notification.Status


class BrokenBackend(BaseEmailBackend):
    """An SMTP server that refuses every message."""

    def send_messages(self, messages):
        raise ConnectionRefusedError("serveur de courrier injoignable")


def with_email(*users):
    for user in users:
        user.email = f"{user.username}@example.org"
        user.save(update_fields=["email"])
    return users


def sent_to(address):
    return [message for message in mail.outbox if address in message.to]


def planned_session(cohort, assessors, admin_user):
    from blocks.models import EvaluationModality

    return create_session(
        modality=EvaluationModality.objects.get(
            bloc__certification_version=cohort.certification_version, code="M2.1"
        ),
        cohort=cohort,
        date=datetime.date(2027, 3, 15),
        place="Salle Lumière",
        assessors=assessors,
        lead=assessors[0],
        by=admin_user,
    )


# Session opened: its assessors, once.


def test_session_opened_tells_its_assessors_once(
    cohort, candidate, trainer, admin_user, django_capture_on_commit_callbacks
):
    with_email(trainer)
    with django_capture_on_commit_callbacks(execute=True):
        session = planned_session(cohort, [trainer], admin_user)
    assert mail.outbox == []  # a planned session tells no one
    assert not Notification.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        change_session_status(session, status=ExamSession.Status.OPEN, by=admin_user)
    [message] = mail.outbox
    assert message.to == ["formateur@example.org"]
    assert message.subject == "Session d'examen ouverte à la notation : M2.1 du 15 mars 2027"
    assert "Bonjour Formateur," in message.body
    assert "est ouverte à la notation" in message.body
    assert "1 candidat à évaluer" in message.body
    assert f"{settings.PUBLIC_BASE_URL}/sessions/{session.pk}/" in message.body
    assert "&#x27;" not in message.body + message.subject  # plain text, not HTML-escaped

    # Closed and opened again: the assessors already know.
    with django_capture_on_commit_callbacks(execute=True):
        change_session_status(session, status="closed", by=admin_user, confirmed=True)
        change_session_status(session, status="open", by=admin_user)
    assert len(mail.outbox) == 1
    notification = Notification.objects.get()
    assert (notification.kind, notification.status, notification.attempts) == (
        Kind.SESSION_OPENED,
        Status.SENT,
        1,
    )
    assert notification.recipient == trainer and notification.sent_at is not None


def test_a_session_opened_at_creation_tells_its_assessors(
    cohort, candidate, trainer, admin_user, django_capture_on_commit_callbacks
):
    from blocks.models import EvaluationModality

    with_email(trainer)
    with django_capture_on_commit_callbacks(execute=True):
        create_session(
            modality=EvaluationModality.objects.get(
                bloc__certification_version=cohort.certification_version, code="M2.1"
            ),
            cohort=cohort,
            date=datetime.date(2027, 3, 15),
            place="Salle Lumière",
            assessors=[trainer],
            lead=trainer,
            open_now=True,
            by=admin_user,
        )
    assert [message.to for message in mail.outbox] == [["formateur@example.org"]]


def test_the_task_run_twice_sends_once(
    cohort, candidate, trainer, admin_user, django_capture_on_commit_callbacks
):
    with_email(trainer)
    session = planned_session(cohort, [trainer], admin_user)
    with django_capture_on_commit_callbacks(execute=True):
        change_session_status(session, status="open", by=admin_user)
    ids = list(Notification.objects.values_list("pk", flat=True))
    send_notifications.call(ids)
    send_notifications.call(ids)
    assert len(mail.outbox) == 1


# The PV awaiting signature: the members who have not signed, once.


def test_minutes_to_sign_tell_the_members_who_have_not_signed(
    deliberation,
    jury_member,
    second_jury_member,
    admin_user,
    django_capture_on_commit_callbacks,
):
    with_email(jury_member, second_jury_member)
    decide_as_proposed(deliberation, deliberation.cohort.enrolments.get(), second_jury_member)
    assert not Notification.objects.filter(kind=Kind.MINUTES_TO_SIGN).exists()

    with django_capture_on_commit_callbacks(execute=True):
        sign_minutes(deliberation, user=second_jury_member)
    [message] = mail.outbox
    assert message.to == ["jury1@example.org"]  # the president, who signs last
    assert message.subject == "Procès-verbal à signer : Jury de certification 2027"
    assert "attend votre signature" in message.body
    assert f"/deliberations/{deliberation.pk}/" in message.body

    with django_capture_on_commit_callbacks(execute=True):
        sign_minutes(deliberation, user=jury_member)
    assert len(mail.outbox) == 1  # the president's signature closes: nobody left to tell
    assert Notification.objects.filter(kind=Kind.MINUTES_TO_SIGN).count() == 1


# Results published: the candidates of the PV, never before publication.


def test_nothing_reaches_candidates_before_publication(
    scored,
    candidate_user,
    jury,
    jury_member,
    second_jury_member,
    admin_user,
    django_capture_on_commit_callbacks,
):
    with_email(candidate_user, jury_member, second_jury_member)
    with django_capture_on_commit_callbacks(execute=True):
        deliberation = open_deliberation(jury, scored.cohort, by=admin_user)
        decide_as_proposed(deliberation, scored, second_jury_member)
        sign_minutes(deliberation, user=second_jury_member)
        signed = sign_minutes(deliberation, user=jury_member)
    assert signed.is_signed and not signed.published_at
    assert not Notification.objects.filter(kind=Kind.RESULTS_PUBLISHED).exists()
    assert sent_to("candidat@example.org") == []
    assert len(mail.outbox) == 1  # the PV to sign, to the president

    with django_capture_on_commit_callbacks(execute=True):
        publish_results(signed, by=admin_user)
    [message] = sent_to("candidat@example.org")
    assert message.subject == (
        "Vos résultats sont publiés : certification « Assistant de production »"
    )
    assert "Bonjour Candidat," in message.body
    assert "Ce message ne contient aucun résultat" in message.body
    assert f"{settings.PUBLIC_BASE_URL}/mon-parcours/" in message.body

    with pytest.raises(ValidationError), django_capture_on_commit_callbacks(execute=True):
        publish_results(signed, by=admin_user)
    assert len(sent_to("candidat@example.org")) == 1


def test_candidates_without_an_account_or_an_address_are_skipped(
    mentions, cohort, candidate, candidate_user, trainer, jury, jury_member, second_jury_member
):
    """Emma's account has no e-mail address: her notification is skipped, counted."""
    from evaluations.notifications import results_published

    sit_bloc(cohort, 1, 2, trainer=trainer, jury=jury)
    deliberation = open_deliberation(jury, cohort, by=None)
    decide_as_proposed(deliberation, candidate.enrolments.get(), second_jury_member)
    assert results_published(deliberation) == (0, 1)
    assert not Notification.objects.filter(kind=Kind.RESULTS_PUBLISHED).exists()


# The mechanism: idempotence, skips, failures and retries.


def test_notify_writes_once_per_event_and_address(trainer, jury_member, outsider):
    with_email(trainer, jury_member)
    outcome = notify(Kind.SESSION_OPENED, "essai-1", [trainer, jury_member, outsider], context())
    assert outcome == (2, 1)  # the outsider has no address
    assert notify(Kind.SESSION_OPENED, "essai-1", [trainer, jury_member], context()) == (0, 0)
    assert notify(Kind.SESSION_OPENED, "essai-2", [trainer], context()) == (1, 0)
    assert Notification.objects.count() == 3


def test_an_inactive_account_is_skipped(trainer):
    with_email(trainer)
    trainer.is_active = False
    trainer.save()
    assert notify(Kind.SESSION_OPENED, "essai", [trainer], context()) == (0, 1)


def context():
    return {
        "session": {"place": "Salle A"},
        "modality": {"code": "M1.1", "title": "Oral"},
        "cohort": {"name": "Promotion 2027"},
        "date": "1er mars 2027",
        "candidates": 3,
        "url": "/sessions/1/",
    }


def test_a_failure_is_recorded_then_retried(
    trainer, settings, django_capture_on_commit_callbacks, caplog
):
    with_email(trainer)
    settings.EMAIL_BACKEND = "core.tests.test_notifications.BrokenBackend"
    with django_capture_on_commit_callbacks(execute=True):
        notify(Kind.SESSION_OPENED, "essai", [trainer], context())  # never raises
    notification = Notification.objects.get()
    assert notification.status == Status.FAILED
    assert notification.attempts == 1
    assert "serveur de courrier injoignable" in notification.error
    assert mail.outbox == []

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        assert retry(Notification.objects.all()) == 1
    notification.refresh_from_db()
    assert (notification.status, notification.attempts, notification.error) == (
        Status.SENT,
        2,
        "",
    )
    assert len(mail.outbox) == 1
    with django_capture_on_commit_callbacks(execute=True):
        assert retry(Notification.objects.all()) == 0
    assert len(mail.outbox) == 1


def test_the_daily_run_retries_failures_up_to_a_limit(
    trainer, jury_member, settings, django_capture_on_commit_callbacks
):
    with_email(trainer, jury_member)
    settings.EMAIL_BACKEND = "core.tests.test_notifications.BrokenBackend"
    with django_capture_on_commit_callbacks(execute=True):
        notify(Kind.SESSION_OPENED, "essai", [trainer, jury_member], context())
    Notification.objects.filter(email="jury1@example.org").update(attempts=MAX_ATTEMPTS)
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    with django_capture_on_commit_callbacks(execute=True):
        assert resend_unsent() == 1
    assert [message.to for message in mail.outbox] == [["formateur@example.org"]]


# Invitations about to expire: a daily command.


def test_an_invitation_is_recalled_once_before_its_link_expires(
    admin_user, settings, django_capture_on_commit_callbacks
):
    settings.PASSWORD_RESET_TIMEOUT = 3 * 86400
    person = create_person(
        first_name="Jeanne",
        last_name="Moreau",
        email="jeanne@example.org",
        roles=["membre de jury"],
        by=admin_user,
    )
    send_invitation(person, base_url="http://testserver/", by=admin_user)

    invited_at = AuditEvent.objects.get(action=Action.PERSON_INVITED).created_at
    day = datetime.timedelta(days=1)
    assert expiring_invitations(now=invited_at + day, days=1) == []  # two days left
    assert expiring_invitations(now=invited_at + 4 * day, days=1) == []  # expired
    soon = invited_at + 2 * day + datetime.timedelta(hours=6)
    assert expiring_invitations(now=soon, days=1) == [(person, invited_at)]

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert remind_expiring_invitations(now=soon, days=1) == (1, 0)
        assert remind_expiring_invitations(now=soon, days=1) == (0, 0)
    [message] = mail.outbox
    assert message.to == ["jeanne@example.org"]
    assert message.subject.startswith("Votre invitation à la plateforme de certification expire le")
    assert "Vous n'avez pas encore choisi votre mot de passe" in message.body
    assert "/mot-de-passe/" not in message.body  # no password link kept in the outbox

    # Once the password is chosen, no reminder.
    person.set_password("un-mot-de-passe-solide-42")
    person.save()
    assert expiring_invitations(now=soon, days=1) == []


def test_a_candidate_invitation_is_recalled_too(
    candidate, admin_user, settings, django_capture_on_commit_callbacks
):
    from candidates.services import invite_candidate

    candidate.user = None
    candidate.save()
    user = invite_candidate(candidate, base_url="http://testserver/", by=admin_user)
    invited_at = AuditEvent.objects.get(action=Action.CANDIDATE_INVITED).created_at
    soon = invited_at + datetime.timedelta(seconds=settings.PASSWORD_RESET_TIMEOUT - 3600)
    assert expiring_invitations(now=soon, days=1) == [(user, invited_at)]


def test_send_reminders_command(admin_user, capsys):
    call_command("send_reminders")
    assert "Rappels d'invitation : 0 envoyé(s). Courriels renvoyés : 0." in capsys.readouterr().out


def test_a_broken_template_never_undoes_the_event(
    cohort, candidate, trainer, admin_user, settings, tmp_path, caplog
):
    """The office edits the templates: a mistake is logged, the session opens."""
    (tmp_path / "emails").mkdir()
    (tmp_path / "emails" / "session_opened_subject.txt").write_text("{% if %}")
    settings.TEMPLATES = [
        {**settings.TEMPLATES[0], "DIRS": [tmp_path, *settings.TEMPLATES[0]["DIRS"]]}
    ]
    with_email(trainer)
    session = planned_session(cohort, [trainer], admin_user)
    session = change_session_status(session, status="open", by=admin_user)
    assert session.status == "open"
    assert not Notification.objects.exists()
    assert "illisible" in caplog.text


# Certificate available: its holder, once its sealed PDF is stored.


def test_the_holder_is_told_once_the_certificate_is_stored(
    decision, candidate_user, admin_user, django_capture_on_commit_callbacks
):
    from certification.notifications import certificate_available
    from certification.services import issue_bloc_certificate, store_pdf

    with_email(candidate_user)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        certificate = issue_bloc_certificate(decision, by=admin_user)
    [message] = sent_to("candidat@example.org")
    assert message.subject == (
        "Votre certificat est disponible : Certificat de bloc de compétences (bloc 1)"
    )
    assert f"n° {certificate.number}" in message.body
    assert f"{settings.PUBLIC_BASE_URL}/mes-certificats/" in message.body
    # Stored again, or told again: nothing more.
    with django_capture_on_commit_callbacks(execute=True):
        store_pdf(certificate.pk)
        certificate_available(certificate)
    assert len(sent_to("candidat@example.org")) == 1


def test_a_certificate_without_its_pdf_tells_no_one(
    decision, candidate_user, admin_user, django_capture_on_commit_callbacks
):
    from certification.notifications import certificate_available
    from certification.services import issue_bloc_certificate

    with_email(candidate_user)
    certificate = issue_bloc_certificate(decision, by=admin_user)  # PDF not stored yet
    assert certificate_available(certificate) is None
    assert not Notification.objects.filter(kind=Kind.CERTIFICATE_AVAILABLE).exists()
