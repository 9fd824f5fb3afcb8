"""The outbox page of the office, and every user's password change."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from candidates.tests.factories import PASSWORD
from core.history import describe_event
from core.models import Action, AuditEvent, Notification

pytestmark = pytest.mark.django_db

OUTBOX = reverse("core:outbox")
RETRY = reverse("core:outbox_retry")
PASSWORD_CHANGE = reverse("core:password_change")


def notification(user, number, status=Notification.Status.SENT, **extra):
    return Notification.objects.create(
        kind=Notification.Kind.SESSION_OPENED,
        event_key=f"session-{number}",
        recipient=user,
        email=f"personne{number}@example.org",
        subject=f"Session d'examen ouverte à la notation n° {number}",
        body="Bonjour,\n",
        status=status,
        **extra,
    )


# The outbox.


def test_outbox_access(client, login, trainer, jury_member, candidate_user, admin_user):
    for url in (OUTBOX,):
        response = client.get(url)
        assert (response.status_code, response.url) == (302, f"/connexion/?next={url}")
    assert client.post(RETRY).status_code == 302  # to the sign-in page
    for user in (trainer, jury_member, candidate_user):
        assert login(user).get(OUTBOX).status_code == 403
        assert client.post(RETRY).status_code == 403
    assert login(admin_user).get(OUTBOX).status_code == 200
    assert client.get(RETRY).status_code == 405


def test_outbox_lists_what_was_sent_and_what_failed(login, admin_user, trainer):
    notification(trainer, 1)
    notification(
        trainer,
        2,
        status=Notification.Status.FAILED,
        attempts=2,
        error="ConnectionRefusedError : serveur injoignable",
    )
    page = login(admin_user).get(OUTBOX).content.decode()
    assert "personne1@example.org" in page and "personne2@example.org" in page
    assert "Session ouverte à la notation" in page
    assert "serveur injoignable" in page
    assert "2 tentatives" in page
    assert "Renvoyer les échecs (1)" in page

    failed = login(admin_user).get(OUTBOX, {"status": "failed"}).content.decode()
    assert "personne2@example.org" in failed and "personne1@example.org" not in failed
    # A filter that means nothing shows everything, never an error.
    for odd in ({"status": "nimporte"}, {"page": "abc"}, {"page": "99999"}, {"kind": "\u00e9"}):
        assert login(admin_user).get(OUTBOX, odd).status_code == 200


def test_outbox_runs_the_same_queries_for_2_or_40_notifications(login, admin_user, trainer):
    client = login(admin_user)
    for number in range(2):
        notification(trainer, number)
    client.get(OUTBOX)
    with CaptureQueriesContext(connection) as few:
        client.get(OUTBOX)
    User = get_user_model()
    for number in range(2, 40):
        user = User.objects.create_user(f"personne{number}", first_name="P", last_name=f"{number}")
        notification(user, number)
    with CaptureQueriesContext(connection) as many:
        page = client.get(OUTBOX).content.decode()
    assert "personne39@example.org" in page
    assert len(many) == len(few)


def test_outbox_is_paginated(login, admin_user, trainer):
    for number in range(55):
        notification(trainer, number)
    client = login(admin_user)
    first = client.get(OUTBOX).content.decode()
    assert "Page 1 sur 2" in first and "personne54@example.org" in first
    second = client.get(OUTBOX, {"page": 2}).content.decode()
    assert "Page 2 sur 2" in second and "personne0@example.org" in second
    assert "personne54@example.org" not in second


def test_retry_sends_the_failed_ones_again(
    login, admin_user, trainer, mailoutbox, django_capture_on_commit_callbacks
):
    failed = notification(trainer, 1, status=Notification.Status.FAILED, attempts=1, error="x")
    notification(trainer, 2)  # already sent: not again
    with django_capture_on_commit_callbacks(execute=True):
        response = login(admin_user).post(RETRY, follow=True)
    assert "1 courriel en échec renvoyé" in response.content.decode()
    assert [message.to for message in mailoutbox] == [["personne1@example.org"]]
    failed.refresh_from_db()
    assert (failed.status, failed.attempts, failed.error) == ("sent", 2, "")
    with django_capture_on_commit_callbacks(execute=True):
        response = login(admin_user).post(RETRY, follow=True)
    assert "Aucun courriel en échec à renvoyer." in response.content.decode()
    assert len(mailoutbox) == 1


# Changing one's password.


def test_password_change_page_needs_a_signed_in_user(client):
    response = client.get(PASSWORD_CHANGE)
    assert (response.status_code, response.url) == (302, f"/connexion/?next={PASSWORD_CHANGE}")


@pytest.mark.parametrize("who", ["admin_user", "trainer", "jury_member", "candidate_user"])
def test_every_user_changes_their_password_audited(who, request, login, client):
    user = request.getfixturevalue(who)
    page = login(user).get(reverse("home"), follow=True).content.decode()
    assert PASSWORD_CHANGE in page  # in the account menu
    response = client.post(
        PASSWORD_CHANGE,
        {
            "old_password": PASSWORD,
            "new_password1": "Un-nouveau-mot-de-passe-42",
            "new_password2": "Un-nouveau-mot-de-passe-42",
        },
        follow=True,
    )
    assert "Mot de passe changé" in response.content.decode()
    user.refresh_from_db()
    assert user.check_password("Un-nouveau-mot-de-passe-42")
    assert client.get(reverse("home")).status_code in (200, 302)  # still signed in
    assert response.wsgi_request.user.is_authenticated
    event = AuditEvent.objects.get(action=Action.PASSWORD_CHANGED)
    assert event.actor == user and event.object_id == str(user.pk)
    assert "Un-nouveau" not in str(event.data)
    assert describe_event(event).startswith("Mot de passe changé : ")


def test_a_wrong_old_password_is_refused_in_french(login, trainer):
    response = login(trainer).post(
        PASSWORD_CHANGE,
        {
            "old_password": "pas-le-bon",
            "new_password1": "Un-nouveau-mot-de-passe-42",
            "new_password2": "Un-nouveau-mot-de-passe-42",
        },
    )
    assert response.status_code == 200
    assert "Votre ancien mot de passe est incorrect" in response.content.decode()
    trainer.refresh_from_db()
    assert trainer.check_password(PASSWORD)
    assert not AuditEvent.objects.filter(action=Action.PASSWORD_CHANGED).exists()


def test_a_weak_new_password_is_refused_in_french(login, trainer):
    response = login(trainer).post(
        PASSWORD_CHANGE,
        {"old_password": PASSWORD, "new_password1": "123", "new_password2": "123"},
    )
    assert "Ce mot de passe est trop court" in response.content.decode()
    assert not AuditEvent.objects.filter(action=Action.PASSWORD_CHANGED).exists()
