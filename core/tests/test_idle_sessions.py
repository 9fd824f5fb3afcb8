"""A signed-in session ends after DJANGO_SESSION_AGE seconds without a request;
its expiry is pushed back at most once a minute, not written on every request."""

from datetime import timedelta

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from core.idle_sessions import REFRESHED_AT, STAFF_SIGNED_IN_AT

pytestmark = pytest.mark.django_db


def stored_session(client):
    return Session.objects.get(session_key=client.session.session_key)


def writes_to_sessions(queries):
    return [
        q["sql"]
        for q in queries
        if q["sql"].startswith(("UPDATE", "INSERT")) and "django_session" in q["sql"]
    ]


def go_back_in_time(client, seconds):
    """The session as if its expiry had been pushed back `seconds` ago."""
    session = client.session
    session[REFRESHED_AT] -= seconds
    session.save()
    stored = stored_session(client)
    stored.expire_date -= timedelta(seconds=seconds)
    stored.save()


@override_settings(SESSION_REFRESH_INTERVAL=60)  # production's; the tests' is a day
def test_a_request_pushes_the_expiry_back_once_a_minute_at_most(login, trainer):
    client = login(trainer)
    first_expiry = stored_session(client).expire_date
    assert first_expiry > timezone.now() + timedelta(seconds=settings.SESSION_COOKIE_AGE - 60)

    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("evaluations:sessions")).status_code == 200
    assert writes_to_sessions(queries) == []

    go_back_in_time(client, settings.SESSION_REFRESH_INTERVAL)
    pushed_back_from = stored_session(client).expire_date
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("evaluations:sessions")).status_code == 200
    assert len(writes_to_sessions(queries)) == 1
    assert stored_session(client).expire_date > pushed_back_from + timedelta(seconds=50)


def test_a_session_idle_for_its_age_is_signed_out(login, trainer):
    client = login(trainer)
    client.get(reverse("home"))
    go_back_in_time(client, settings.SESSION_COOKIE_AGE + 1)

    response = client.get(reverse("home"))

    assert response.status_code == 302
    assert response.url.startswith(reverse("login"))


def test_an_anonymous_visitor_gets_no_session(client):
    response = client.get(reverse("login"))

    assert response.status_code == 200
    assert settings.SESSION_COOKIE_NAME not in response.cookies
    assert not Session.objects.exists()


def signed_in_hours_ago(client, hours):
    session = client.session
    session[STAFF_SIGNED_IN_AT] -= hours * 60 * 60
    session.save()


@override_settings(SESSION_MAX_LIFETIME=12 * 60 * 60)
def test_a_staff_session_ends_after_its_maximum_lifetime_however_active(login, trainer):
    client = login(trainer)
    signed_in_hours_ago(client, 11)
    assert client.get(reverse("evaluations:sessions")).status_code == 200  # within 12 h

    signed_in_hours_ago(client, 1)
    response = client.get(reverse("evaluations:sessions"), follow=True)

    assert response.redirect_chain[0][0].startswith(reverse("login"))
    assert "_auth_user_id" not in client.session
    assert "Votre session a atteint sa durée maximale" in response.content.decode()


@override_settings(SESSION_MAX_LIFETIME=12 * 60 * 60)
def test_a_candidate_keeps_the_idle_timeout_alone(login, candidate_user):
    client = login(candidate_user)

    assert STAFF_SIGNED_IN_AT not in client.session
    assert client.get(reverse("home")).status_code in {200, 302}
    assert "_auth_user_id" in client.session


def test_the_maximum_lifetime_is_twelve_hours_by_default():
    assert settings.SESSION_MAX_LIFETIME == 12 * 60 * 60
