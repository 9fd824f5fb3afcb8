"""Trainers and jury members managed by the office without the Django admin:
accounts, roles, invitations by e-mail, and their pages."""

import re

import pytest
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from candidates.tests.factories import make_user
from core import roles
from core.dates import french_date
from core.models import Action, AuditEvent, Profile
from core.people import create_person, send_invitation, update_person

pytestmark = pytest.mark.django_db

BASE_URL = "http://testserver/"
CLAIRE = {
    "first_name": "Claire",
    "last_name": "Dubois",
    "email": "Claire.Dubois@Studio-Nord.fr",
    "roles": [roles.JURY_MEMBER],
    "organisation": "Studio Nord",
    "phone": "06 11 22 33 44",
}


def claire(by=None, **changes):
    return create_person(**{**CLAIRE, **changes}, by=by)


def edit(user, by=None, **changes):
    values = {
        "first_name": user.first_name,
        "last_name": user.last_name or "Testeur",
        "email": user.email or f"{user.username}@example.org",
        "roles": list(user.groups.values_list("name", flat=True)),
        "organisation": Profile.objects.get_or_create(user=user)[0].organisation,
        "phone": "",
        **changes,
    }
    return update_person(user, **values, by=by)


def password_link(message):
    return re.search(r"http://testserver(/mot-de-passe/\S+/)", message.body).group(1)


def choose_password(client, link, password="Un-mot-de-passe-sur-42"):
    """Follow an invitation link as its recipient and choose a password."""
    client.logout()
    page = client.get(link, follow=True)
    assert "Choisir votre mot de passe" in page.content.decode()
    if "Enregistrer le mot de passe" not in page.content.decode():
        return False
    done = client.post(
        page.redirect_chain[-1][0], {"new_password1": password, "new_password2": password}
    )
    return done.status_code == 302


class TestServices:
    def test_create_opens_an_account_without_password_and_audits_it(self, admin_user):
        user = claire(by=admin_user)
        assert user.username == "claire.dubois@studio-nord.fr"
        assert user.email == "Claire.Dubois@Studio-Nord.fr"
        assert user.get_full_name() == "Claire Dubois"
        assert not user.has_usable_password()
        assert list(user.groups.values_list("name", flat=True)) == ["membre de jury"]
        assert (user.profile.organisation, user.profile.phone) == ("Studio Nord", "06 11 22 33 44")
        event = AuditEvent.objects.for_object(user).get()
        assert event.action == Action.PERSON_CREATED
        assert event.actor == admin_user
        assert event.data == {
            "name": "Claire Dubois",
            "roles": ["membre de jury"],
            "organisation": "Studio Nord",
            "email": "Claire.Dubois@Studio-Nord.fr",
        }

    @pytest.mark.parametrize(
        "taken", ["claire.dubois@studio-nord.fr", "CLAIRE.DUBOIS@studio-nord.FR"]
    )
    def test_an_address_already_used_is_refused_in_french(self, admin_user, taken):
        claire()
        users = get_user_model().objects.count()
        with pytest.raises(ValidationError, match="Un compte utilise déjà l'identifiant"):
            claire(email=taken, first_name="Autre")
        assert get_user_model().objects.count() == users

    def test_the_address_of_an_existing_account_is_refused(self, trainer):
        trainer.email = "formateur@centre.fr"
        trainer.save()
        with pytest.raises(ValidationError, match="déjà l'identifiant formateur@centre.fr"):
            claire(email="Formateur@centre.fr")

    @pytest.mark.parametrize(
        ("changes", "message"),
        [
            ({"roles": []}, "Choisissez au moins un rôle"),
            ({"roles": [roles.ADMIN]}, "Choisissez au moins un rôle"),
            ({"last_name": " "}, "Indiquez le prénom et le nom"),
            ({"email": "pas-une-adresse"}, "n'est pas valable"),
        ],
    )
    def test_incomplete_people_are_refused(self, changes, message):
        with pytest.raises(ValidationError, match=message):
            claire(**changes)
        assert not get_user_model().objects.filter(last_name="Dubois").exists()

    def test_edit_records_each_change_in_words(self, admin_user):
        user = claire()
        user = edit(
            user,
            by=admin_user,
            email="claire@lendemain.fr",
            organisation="Les Films du Lendemain",
            roles=[roles.JURY_MEMBER, roles.TRAINER],
        )
        assert user.username == "claire@lendemain.fr"
        assert user.profile.organisation == "Les Films du Lendemain"
        assert set(user.groups.values_list("name", flat=True)) == {"formateur", "membre de jury"}
        event = AuditEvent.objects.filter(action=Action.PERSON_CHANGED).get()
        assert event.data == {
            "changes": [
                {
                    "field": "adresse électronique",
                    "old": "Claire.Dubois@Studio-Nord.fr",
                    "new": "claire@lendemain.fr",
                },
                {"field": "organisme", "old": "Studio Nord", "new": "Les Films du Lendemain"},
                {"field": "téléphone", "old": "06 11 22 33 44", "new": ""},
                {"field": "rôles", "old": "membre de jury", "new": "formateur, membre de jury"},
            ]
        }

    def test_an_account_keeps_a_username_that_is_not_its_address(self, trainer):
        edit(trainer, email="f@centre.fr")
        trainer.refresh_from_db()
        assert (trainer.username, trainer.email) == ("formateur", "f@centre.fr")
        assert trainer.profile.organisation == ""

    def test_an_unchanged_edit_records_nothing(self):
        user = claire()
        edit(user, phone="06 11 22 33 44")
        assert not AuditEvent.objects.filter(action=Action.PERSON_CHANGED).exists()

    def test_edit_refuses_another_accounts_address(self, trainer):
        trainer.email = "formateur@centre.fr"
        trainer.save()
        user = claire()
        with pytest.raises(ValidationError, match="Un compte utilise déjà"):
            edit(user, email="formateur@centre.fr")

    def test_a_jury_member_sitting_in_a_jury_keeps_the_role(self, jury, second_jury_member):
        with pytest.raises(ValidationError, match="siège dans un jury"):
            edit(second_jury_member, roles=[roles.TRAINER])
        assert second_jury_member.groups.filter(name=roles.JURY_MEMBER).exists()
        edit(second_jury_member, roles=[roles.TRAINER, roles.JURY_MEMBER])
        assert second_jury_member.groups.filter(name=roles.TRAINER).exists()

    def test_a_trainer_assessing_an_open_session_keeps_the_role(self, written_session, trainer):
        with pytest.raises(ValidationError, match="évalue une session d'examen ouverte"):
            edit(trainer, roles=[roles.JURY_MEMBER])
        assert trainer.groups.filter(name=roles.TRAINER).exists()

    def test_a_role_no_longer_used_is_taken_away(self, other_trainer):
        edit(other_trainer, roles=[roles.JURY_MEMBER])
        assert list(other_trainer.groups.values_list("name", flat=True)) == ["membre de jury"]

    def test_invite_mails_a_link_that_lets_the_person_sign_in(
        self, client, admin_user, mailoutbox, django_capture_on_commit_callbacks
    ):
        user = claire()
        with django_capture_on_commit_callbacks(execute=True):
            send_invitation(user, base_url=BASE_URL, by=admin_user)
            assert mailoutbox == []  # not before the commit
        assert len(mailoutbox) == 1
        message = mailoutbox[0]
        assert message.to == ["Claire.Dubois@Studio-Nord.fr"]
        assert message.subject == "Votre accès à la plateforme de certification"
        assert "Bonjour Claire," in message.body
        assert "Votre identifiant : claire.dubois@studio-nord.fr" in message.body
        assert "valable 3 jours" in message.body
        event = AuditEvent.objects.filter(action=Action.PERSON_INVITED).get()
        assert event.data == {"name": "Claire Dubois", "email": "Claire.Dubois@Studio-Nord.fr"}
        assert choose_password(client, password_link(message))
        assert client.login(
            username="claire.dubois@studio-nord.fr", password="Un-mot-de-passe-sur-42"
        )
        assert client.get(reverse("home")).url == "/tableau-de-bord/jury/"

    def test_inviting_again_sends_a_fresh_link_and_the_first_one_dies_with_use(
        self, client, mailoutbox, django_capture_on_commit_callbacks
    ):
        user = claire()
        for _ in range(2):
            with django_capture_on_commit_callbacks(execute=True):
                send_invitation(user, base_url=BASE_URL, by=None)
        first, second = (password_link(message) for message in mailoutbox)
        assert AuditEvent.objects.filter(action=Action.PERSON_INVITED).count() == 2
        assert choose_password(client, second)
        assert not choose_password(client, first)

    def test_no_mail_leaves_after_a_rollback(self, mailoutbox, django_capture_on_commit_callbacks):
        user = claire()
        with (
            django_capture_on_commit_callbacks(execute=True) as callbacks,
            pytest.raises(RuntimeError),
            transaction.atomic(),
        ):
            send_invitation(user, base_url=BASE_URL, by=None)
            raise RuntimeError("annulé")
        assert callbacks == [] and mailoutbox == []
        assert not AuditEvent.objects.filter(action=Action.PERSON_INVITED).exists()

    def test_only_trainers_and_jury_members_are_invited_here(self, candidate_user):
        candidate_user.email = "candidat@example.org"
        candidate_user.save()
        with pytest.raises(ValidationError, match="Seuls les formateurs"):
            send_invitation(candidate_user, base_url=BASE_URL, by=None)


def person_pages(person):
    return [
        reverse("core:people"),
        reverse("core:person_create"),
        reverse("core:person", args=[person.pk]),
        reverse("core:person_edit", args=[person.pk]),
    ]


class TestPages:
    def test_anonymous_is_sent_to_login(self, client, jury_member):
        for url in person_pages(jury_member):
            response = client.get(url)
            assert response.status_code == 302, url
            assert response.url == f"{reverse('login')}?next={url}", url
        invite = reverse("core:person_invite", args=[jury_member.pk])
        assert client.post(invite).url == f"{reverse('login')}?next={invite}"

    @pytest.mark.parametrize("person", ["trainer", "jury_member", "candidate_user", "outsider"])
    def test_other_roles_get_403(self, request, login, mailoutbox, person):
        user = request.getfixturevalue(person)
        client = login(user)
        target = make_user("jury9", roles.JURY_MEMBER, email="jury9@example.org")
        for url in person_pages(target):
            assert client.get(url).status_code == 403, url
        assert client.post(reverse("core:person_create"), {**CLAIRE}).status_code == 403
        invite = reverse("core:person_invite", args=[target.pk])
        assert client.post(invite).status_code == 403
        assert mailoutbox == []
        assert not get_user_model().objects.filter(last_name="Dubois").exists()

    def test_the_office_reaches_every_page(self, login, admin_user, jury_member):
        client = login(admin_user)
        for url in person_pages(jury_member):
            assert client.get(url).status_code == 200, url
        invite = reverse("core:person_invite", args=[jury_member.pk])
        assert client.get(invite).status_code == 405

    def test_only_trainers_and_jury_members_have_a_page(self, login, admin_user, candidate_user):
        client = login(admin_user)
        for url in person_pages(candidate_user)[2:]:
            assert client.get(url).status_code == 404, url
        invite = reverse("core:person_invite", args=[candidate_user.pk])
        assert client.post(invite).status_code == 404

    def test_the_office_creates_and_invites_in_one_step(
        self, client, login, admin_user, mailoutbox, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            response = login(admin_user).post(
                reverse("core:person_create"), {**CLAIRE, "invite": "on"}, follow=True
            )
        user = get_user_model().objects.get(username="claire.dubois@studio-nord.fr")
        assert response.redirect_chain[-1][0] == reverse("core:person", args=[user.pk])
        page = response.content.decode()
        assert "Compte de Claire Dubois créé ; invitation envoyée" in page
        assert "Compte créé : Claire Dubois (membre de jury), organisme : Studio Nord" in page
        assert "Invitation envoyée à Claire Dubois (Claire.Dubois@Studio-Nord.fr)" in page
        assert len(mailoutbox) == 1
        assert choose_password(client, password_link(mailoutbox[0]))

    def test_creating_without_inviting_sends_nothing(
        self, login, admin_user, mailoutbox, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            login(admin_user).post(reverse("core:person_create"), CLAIRE)
        assert get_user_model().objects.filter(last_name="Dubois").exists()
        assert mailoutbox == []

    def test_a_refused_creation_shows_the_french_message_and_invites_nobody(
        self, login, admin_user, trainer, mailoutbox, django_capture_on_commit_callbacks
    ):
        trainer.email = "claire.dubois@studio-nord.fr"
        trainer.save()
        with django_capture_on_commit_callbacks(execute=True):
            response = login(admin_user).post(
                reverse("core:person_create"), {**CLAIRE, "invite": "on"}
            )
        assert response.status_code == 200
        assert "Un compte utilise déjà l&#x27;identifiant" in response.content.decode()
        assert mailoutbox == []

    def test_the_office_edits_and_a_refusal_is_shown(self, login, admin_user, jury, jury_member):
        client = login(admin_user)
        url = reverse("core:person_edit", args=[jury_member.pk])
        form = client.get(url).content.decode()
        assert re.search(r'value="membre de jury"\s+id="id_roles_1" checked', form)
        assert not re.search(r'value="formateur"\s+id="id_roles_0" checked', form)
        values = {
            "first_name": "Jeanne",
            "last_name": "Martin",
            "email": "jeanne.martin@centre.fr",
            "roles": [roles.JURY_MEMBER],
            "organisation": "CEFPF",
            "phone": "",
        }
        assert client.post(url, values).url == reverse("core:person", args=[jury_member.pk])
        jury_member.refresh_from_db()
        assert jury_member.get_full_name() == "Jeanne Martin"
        refused = client.post(url, {**values, "roles": [roles.TRAINER]})
        assert "siège dans un jury" in refused.content.decode()
        assert jury_member.groups.filter(name=roles.JURY_MEMBER).exists()

    def test_invite_from_the_list_comes_back_to_it(
        self, login, admin_user, mailoutbox, django_capture_on_commit_callbacks
    ):
        user = claire()
        client = login(admin_user)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(
                reverse("core:person_invite", args=[user.pk]), {"back": "list"}, follow=True
            )
        assert response.redirect_chain[-1][0] == reverse("core:people")
        assert "Invitation envoyée à Claire.Dubois@Studio-Nord.fr" in response.content.decode()
        assert len(mailoutbox) == 1

    def test_the_list_shows_each_account_state(self, login, admin_user, trainer, candidate_user):
        invited = claire()
        claire(email="paul@x.fr", first_name="Paul", last_name="Roy")
        send_invitation(invited, base_url=BASE_URL, by=admin_user)
        page = login(admin_user).get(reverse("core:people")).content.decode()
        rows = {
            name: re.search(rf"{name}</a>.*?</tr>", page, re.S).group(0)
            for name in ("Claire Dubois", "Paul Roy", "Formateur")
        }
        today = french_date(timezone.now())
        assert f"invitation envoyée le {today}" in rows["Claire Dubois"]
        assert "Studio Nord" in rows["Claire Dubois"] and "membre de jury" in rows["Claire Dubois"]
        assert "Renvoyer l'invitation" in rows["Claire Dubois"]
        assert "jamais invité" in rows["Paul Roy"] and ">Inviter<" in rows["Paul Roy"]
        assert "mot de passe choisi" in rows["Formateur"] and "Inviter" not in rows["Formateur"]
        assert ">Candidat</a>" not in page
        assert 'href="/personnes/"' in page  # the navigation link of the office

    def test_the_list_costs_the_same_for_many_people(self, login, admin_user):
        client = login(admin_user)
        claire()

        def count():
            with CaptureQueriesContext(connection) as queries:
                assert client.get(reverse("core:people")).status_code == 200
            return len(queries)

        few = count()
        for number in range(8):
            person = claire(email=f"p{number}@x.fr", roles=[roles.TRAINER, roles.JURY_MEMBER])
            send_invitation(person, base_url=BASE_URL, by=None)
        assert count() == few
