"""Login throttling by django-axes: a username+address pair is locked out
after AXES_FAILURE_LIMIT wrong passwords. The rest of the suite runs with
axes off (its Client.login passes no request); here it is on."""

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.test import override_settings

from candidates.tests.factories import PASSWORD, make_user
from core.models import Action, AuditEvent

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("axes_on")]


@pytest.fixture
def axes_on():
    with override_settings(AXES_ENABLED=True):
        yield


def sign_in(client, username, password, address="203.0.113.10"):
    return client.post(
        "/connexion/", {"username": username, "password": password}, REMOTE_ADDR=address
    )


def signed_in(client):
    return "_auth_user_id" in client.session


def test_five_wrong_passwords_lock_the_account_out_with_a_french_page(client):
    make_user("nina")
    assert settings.AXES_FAILURE_LIMIT == 5

    wrong = [sign_in(client, "nina", "mauvais").status_code for _ in range(4)]
    fifth = sign_in(client, "nina", "mauvais")
    right = sign_in(client, "nina", PASSWORD)

    assert wrong == [200] * 4  # the login form again, with its error
    assert fifth.status_code == 429
    assert right.status_code == 429
    assert not signed_in(client)
    html = right.content.decode()
    assert "Connexion temporairement bloquée" in html
    assert "Patientez 15 minutes" in html
    assert "contactez le bureau" in html
    assert AccessAttempt.objects.get(username="nina").failures_since_start >= 5


def test_another_user_and_another_address_are_unaffected(client):
    make_user("nina")
    make_user("max")
    for _ in range(5):
        sign_in(client, "nina", "mauvais")

    assert sign_in(client, "max", PASSWORD).status_code == 302
    assert signed_in(client)
    client.logout()
    assert sign_in(client, "nina", PASSWORD, address="198.51.100.20").status_code == 302


def test_a_success_before_the_limit_forgets_the_failures(client):
    make_user("nina")
    for _ in range(4):
        sign_in(client, "nina", "mauvais")

    assert sign_in(client, "nina", PASSWORD).status_code == 302
    client.logout()
    for _ in range(4):
        sign_in(client, "nina", "mauvais")
    assert sign_in(client, "nina", PASSWORD).status_code == 302


def test_the_administration_lists_the_lockouts(client, admin_user):
    make_user("nina")
    for _ in range(5):
        sign_in(client, "nina", "mauvais")
    client.force_login(admin_user)

    page = client.get("/admin/axes/accessattempt/")
    failures = client.get("/admin/axes/accessfailurelog/")

    assert page.status_code == 200
    assert "nina" in page.content.decode()
    assert failures.status_code == 200
    assert failures.content.decode().count("nina") >= 5


def test_a_lockout_is_audited_with_the_username_and_the_address(client):
    nina = make_user("nina")
    for _ in range(4):
        sign_in(client, "nina", "mauvais")
    assert not AuditEvent.objects.filter(action=Action.LOGIN_LOCKED_OUT).exists()

    sign_in(client, "nina", "mauvais")

    lockout = AuditEvent.objects.get(action=Action.LOGIN_LOCKED_OUT)
    assert lockout.actor is None
    assert lockout.object_id == str(nina.pk)
    assert lockout.data == {"username": "nina", "ip": "203.0.113.10"}
    assert lockout.get_action_display() == "connexion bloquée après des échecs répétés"
