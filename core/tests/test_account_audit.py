"""Accounts edited in the Django admin and refused sign-ins are audited, with
old and new values, and read in French in the history."""

import pytest
from django.contrib.auth import get_user_model
from django.urls import reverse

from candidates.tests.factories import PASSWORD, make_user
from core import roles
from core.history import describe_event
from core.models import Action, AuditEvent

pytestmark = pytest.mark.django_db

User = get_user_model()


def events(action):
    return list(AuditEvent.objects.filter(action=action).order_by("pk"))


def user_form(user, **changes):
    """The admin's change form of `user` as posted, with `changes`."""
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "groups": [group.pk for group in user.groups.all()],
        "date_joined_0": user.date_joined.strftime("%Y-%m-%d"),
        "date_joined_1": user.date_joined.strftime("%H:%M:%S"),
    }
    flags = {"is_active": user.is_active, "is_staff": user.is_staff}
    flags.update({name: changes.pop(name) for name in list(changes) if name in flags})
    data.update({name: "on" for name, value in flags.items() if value})
    data.update(changes)
    return data


def post_change(client, user, **changes):
    url = reverse("admin:auth_user_change", args=[user.pk])
    response = client.post(url, user_form(user, **changes))
    assert response.status_code == 302, response.context["adminform"].form.errors
    user.refresh_from_db()
    return user


def test_an_account_created_in_the_admin_is_audited(login, admin_user):
    response = login(admin_user).post(
        reverse("admin:auth_user_add"),
        {
            "username": "jeanne",
            "password1": "un-mot-de-passe-solide-42",
            "password2": "un-mot-de-passe-solide-42",
            "usable_password": "true",
        },
    )

    assert response.status_code == 302
    user = User.objects.get(username="jeanne")
    [event] = AuditEvent.objects.for_object(user).filter(action=Action.PERSON_CREATED)
    assert event.actor == admin_user
    assert event.data["username"] == "jeanne" and event.data["roles"] == []
    assert "un-mot-de-passe" not in str(event.data)
    assert describe_event(event) == "Compte créé : jeanne"


def test_a_change_of_roles_is_audited_with_old_and_new_roles(login, admin_user, trainer):
    client = login(admin_user)
    jury = roles.group(roles.JURY_MEMBER)

    post_change(
        client,
        trainer,
        groups=[roles.group(roles.TRAINER).pk, jury.pk],
        is_staff=True,
    )

    [event] = events(Action.ACCOUNT_ROLES_CHANGED)
    assert event.actor == admin_user and event.object_id == str(trainer.pk)
    assert event.data["old"] == ["formateur"]
    assert event.data["new"] == ["formateur", "membre de jury", "accès à l'administration"]
    assert describe_event(event) == (
        "Rôles du compte modifiés : Formateur, « formateur » → "
        "« formateur, membre de jury, accès à l'administration »"
    )
    assert not events(Action.PERSON_CHANGED)  # nothing else changed


def test_deactivation_and_reactivation_are_audited(login, admin_user, trainer):
    client = login(admin_user)

    post_change(client, trainer, is_active=False)
    assert not trainer.is_active
    post_change(client, trainer, is_active=True)

    [deactivated] = events(Action.ACCOUNT_DEACTIVATED)
    [reactivated] = events(Action.ACCOUNT_REACTIVATED)
    assert deactivated.data["active"] == [True, False]
    assert reactivated.data["active"] == [False, True]
    assert deactivated.actor == reactivated.actor == admin_user
    assert describe_event(deactivated) == "Compte désactivé : Formateur"
    assert not events(Action.ACCOUNT_ROLES_CHANGED)


def test_other_changes_of_an_account_are_audited_field_by_field(login, admin_user, trainer):
    post_change(login(admin_user), trainer, email="formateur@example.org", last_name="Roux")

    [event] = events(Action.PERSON_CHANGED)
    assert event.data["changes"] == [
        {"field": "nom", "old": "", "new": "Roux"},
        {"field": "courriel", "old": "", "new": "formateur@example.org"},
    ]
    assert describe_event(event) == (
        "Compte modifié : nom vide → « Roux » ; courriel vide → « formateur@example.org »"
    )


def test_saving_an_account_unchanged_records_nothing(login, admin_user, trainer):
    before = AuditEvent.objects.count()
    post_change(login(admin_user), trainer)
    assert AuditEvent.objects.count() == before


def test_deleting_an_account_is_audited(login, admin_user):
    user = make_user("partant", roles.TRAINER, email="partant@example.org")
    pk = user.pk

    response = login(admin_user).post(reverse("admin:auth_user_delete", args=[pk]), {"post": "yes"})

    assert response.status_code == 302
    assert not User.objects.filter(pk=pk).exists()
    [event] = events(Action.ACCOUNT_DELETED)
    assert event.actor == admin_user and event.object_id == str(pk)
    assert event.data["roles"] == ["formateur"] and event.data["username"] == "partant"
    assert describe_event(event) == (
        "Compte supprimé : Partant (formateur), identifiant : partant, "
        "courriel : partant@example.org"
    )


def test_deleting_accounts_in_bulk_is_audited(login, admin_user):
    users = [make_user(f"partant{n}") for n in range(2)]

    response = login(admin_user).post(
        reverse("admin:auth_user_changelist"),
        {
            "action": "delete_selected",
            "_selected_action": [user.pk for user in users],
            "post": "yes",
        },
    )

    assert response.status_code == 302
    assert not User.objects.filter(username__startswith="partant").exists()
    deleted = events(Action.ACCOUNT_DELETED)
    assert sorted(event.data["username"] for event in deleted) == ["partant0", "partant1"]
    assert {event.actor for event in deleted} == {admin_user}


def test_a_failed_login_is_audited_without_the_password(client, trainer):
    response = client.post(
        reverse("login"),
        {"username": "formateur", "password": "le-mauvais-mot-de-passe"},
        REMOTE_ADDR="203.0.113.7",
    )

    assert response.status_code == 200
    [event] = events(Action.LOGIN_FAILED)
    assert event.actor is None
    assert event.object_id == str(trainer.pk)
    assert event.data == {"username": "formateur", "ip": "203.0.113.7"}
    assert "mauvais" not in str(event.data)
    assert describe_event(event) == (
        "Échec de connexion : identifiant « formateur », depuis l'adresse 203.0.113.7"
    )


def test_a_failed_login_for_an_unknown_username_is_audited_too(client, db):
    client.post(reverse("login"), {"username": "personne", "password": "x"})

    [event] = events(Action.LOGIN_FAILED)
    assert event.object_id == "" and event.data["username"] == "personne"


def test_a_successful_login_records_nothing(client, trainer):
    client.post(reverse("login"), {"username": "formateur", "password": PASSWORD})
    assert not events(Action.LOGIN_FAILED)
