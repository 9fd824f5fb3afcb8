import datetime
import re

import pytest
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from blocks.models import Bloc
from candidates.models import Candidate, Cohort, Enrolment
from candidates.services import enrol, invite_cohort, withdraw
from candidates.tests.factories import PASSWORD, fill_cohort, make_candidate, make_user
from core import roles
from core.models import AuditEvent

pytestmark = pytest.mark.django_db

IDENTITY = {
    "birth_name": "Durand",
    "usage_name": "",
    "first_names": "Léa Marie",
    "sex": "F",
    "birth_date": "2002-03-04",
    "birth_commune": "Nantes",
    "birth_insee_code": "44109",
    "birth_country": "",
    "email": "lea.durand@example.org",
    "phone": "06 12 34 56 78",
}


@pytest.fixture
def other_cohort(referential, other_trainer):
    cohort = Cohort.objects.create(
        name="Promotion du soir",
        certification_version=referential,
        start_date=datetime.date(2026, 10, 1),
        end_date=datetime.date(2027, 9, 30),
    )
    cohort.trainers.add(other_trainer)
    fill_cohort(cohort, 1, start=900)
    return cohort


def admin_pages(cohort, candidate):
    enrolment = candidate.enrolments.get()
    return [
        reverse("candidates:cohort_create"),
        reverse("candidates:cohort_edit", args=[cohort.pk]),
        reverse("candidates:cohort_enrol", args=[cohort.pk]),
        reverse("candidates:cohort_new_candidate", args=[cohort.pk]),
        reverse("candidates:cohort_import", args=[cohort.pk]),
        reverse("candidates:candidate_create"),
        reverse("candidates:candidate_edit", args=[candidate.pk]),
        reverse("candidates:enrolment_withdraw", args=[enrolment.pk]),
    ]


def reading_pages(cohort, candidate):
    return [
        reverse("candidates:cohorts"),
        reverse("candidates:cohort", args=[cohort.pk]),
        reverse("candidates:candidates"),
        reverse("candidates:candidate", args=[candidate.pk]),
    ]


class TestRoleMatrix:
    def test_anonymous_is_sent_to_login(self, client, cohort, candidate):
        pages = admin_pages(cohort, candidate) + reading_pages(cohort, candidate)
        pages += [reverse("candidates:my_space"), reverse("home")]
        for url in pages:
            response = client.get(url)
            assert response.status_code == 302, url
            assert response.url == f"{reverse('login')}?next={url}", url

    @pytest.mark.parametrize("person", ["outsider", "jury_member", "candidate_user"])
    def test_people_without_the_role_get_403(self, request, login, cohort, candidate, person):
        client = login(request.getfixturevalue(person))
        pages = admin_pages(cohort, candidate) + reading_pages(cohort, candidate)[:3]
        for url in pages:
            assert client.get(url).status_code == 403, url

    def test_trainer_reads_only_their_cohorts(
        self, login, trainer, cohort, candidate, other_cohort
    ):
        client = login(trainer)
        for url in reading_pages(cohort, candidate):
            assert client.get(url).status_code == 200, url
        outsider_candidate = other_cohort.enrolments.get().candidate
        assert client.get(reverse("candidates:cohort", args=[other_cohort.pk])).status_code == 404
        assert client.get(outsider_candidate.get_absolute_url()).status_code == 404
        listing = client.get(reverse("candidates:cohorts")).content.decode()
        assert cohort.name in listing and other_cohort.name not in listing
        people = client.get(reverse("candidates:candidates")).content.decode()
        assert candidate.full_name in people and outsider_candidate.full_name not in people
        for url in admin_pages(cohort, candidate):
            assert client.get(url).status_code == 403, url

    def test_admin_reaches_every_page(self, login, admin_user, cohort, candidate, other_cohort):
        client = login(admin_user)
        for url in admin_pages(cohort, candidate) + reading_pages(cohort, candidate):
            assert client.get(url).status_code == 200, url
        assert other_cohort.name in client.get(reverse("candidates:cohorts")).content.decode()

    def test_candidate_sees_only_themselves(self, login, candidate_user, candidate, other_cohort):
        client = login(candidate_user)
        page = client.get(reverse("candidates:my_space"))
        assert page.status_code == 200
        assert "Petit Emma Louise" in page.content.decode()
        assert client.get(candidate.get_absolute_url()).status_code == 200
        someone_else = other_cohort.enrolments.get().candidate
        assert client.get(someone_else.get_absolute_url()).status_code == 404
        assert "Historique" not in page.content.decode()

    @pytest.mark.parametrize(
        ("person", "landing"),
        [
            ("admin_user", "/tableau-de-bord/"),
            ("trainer", "/tableau-de-bord/formateur/"),
            ("candidate_user", "/mon-parcours/"),
        ],
    )
    def test_each_role_lands_on_its_home(self, request, client, candidate, person, landing):

        user = request.getfixturevalue(person)
        response = client.post(
            reverse("login"), {"username": user.username, "password": PASSWORD}, follow=True
        )
        assert response.redirect_chain[-1][0] == landing
        assert response.status_code == 200

    def test_jury_member_and_outsider_homes(self, login, jury_member, outsider):
        assert login(jury_member).get(reverse("home")).url == "/tableau-de-bord/jury/"
        assert "pas encore de rôle" in login(outsider).get(reverse("home")).content.decode()


class TestCandidates:
    def test_admin_creates_and_edits_a_candidate_with_audit(self, login, admin_user):
        client = login(admin_user)
        response = client.post(reverse("candidates:candidate_create"), IDENTITY)
        candidate = Candidate.objects.get(email="lea.durand@example.org")
        assert response.url == candidate.get_absolute_url()
        edited = {**IDENTITY, "usage_name": "Martin", "phone": "07 00 00 00 00"}
        client.post(reverse("candidates:candidate_edit", args=[candidate.pk]), edited)
        candidate.refresh_from_db()
        assert candidate.usage_name == "Martin"
        change = AuditEvent.objects.for_object(candidate).get(action="candidates.candidate.changed")
        assert change.actor == admin_user
        assert change.data == {
            "usage_name": ["", "Martin"],
            "phone": ["06 12 34 56 78", "07 00 00 00 00"],
        }
        page = client.get(candidate.get_absolute_url()).content.decode()
        assert "nom d&#x27;usage vide → « Martin »" in page

    @pytest.mark.parametrize(
        ("change", "message"),
        [
            ({"birth_insee_code": ""}, "indiquez le code INSEE"),
            ({"birth_country": "Maroc"}, "l’un ou l’autre"),
            ({"birth_insee_code": "7505"}, "Un code INSEE compte 5 caractères"),
            ({"birth_date": "31/02/2001"}, "Saisissez une date valide"),
            ({"sex": "X"}, "Sélectionnez un choix valide"),
        ],
    )
    def test_bad_identity_is_refused_in_french(self, login, admin_user, change, message):
        response = login(admin_user).post(
            reverse("candidates:candidate_create"), {**IDENTITY, **change}
        )
        assert response.status_code == 200
        assert message in response.content.decode().replace("&#x27;", "’").replace("'", "’")
        assert not Candidate.objects.exists()

    def test_the_same_person_cannot_be_created_twice(self, login, admin_user, candidate):
        twin = {
            **IDENTITY,
            "birth_name": "PETIT",
            "first_names": "emma louise",
            "birth_date": "2001-04-12",
            "email": "",
        }
        response = login(admin_user).post(reverse("candidates:candidate_create"), twin)
        assert "existe déjà" in response.content.decode()
        assert Candidate.objects.count() == 1

    def test_invite_opens_an_account_and_mails_a_link(
        self, client, login, admin_user, cohort, django_capture_on_commit_callbacks
    ):
        person = make_candidate(1, email="nina@example.org")
        with django_capture_on_commit_callbacks(execute=True):
            login(admin_user).post(reverse("candidates:candidate_invite", args=[person.pk]))
        person.refresh_from_db()
        assert person.user.username == "nina@example.org"
        assert person.user.groups.filter(name="candidat").exists()
        assert not person.user.has_usable_password()
        assert len(mail.outbox) == 1
        assert mail.outbox[0].to == ["nina@example.org"]
        link = re.search(r"http://testserver(/mot-de-passe/\S+/)", mail.outbox[0].body).group(1)
        client.logout()
        form_page = client.get(link, follow=True)
        assert "Choisir votre mot de passe" in form_page.content.decode()
        client.post(
            form_page.redirect_chain[-1][0],
            {"new_password1": "Un-mot-de-passe-sur-42", "new_password2": "Un-mot-de-passe-sur-42"},
        )
        assert client.login(username="nina@example.org", password="Un-mot-de-passe-sur-42")

    def test_invite_without_email_is_refused(self, login, admin_user):
        person = make_candidate(2)
        response = login(admin_user).post(
            reverse("candidates:candidate_invite", args=[person.pk]), follow=True
        )
        assert "Renseignez l&#x27;adresse électronique" in response.content.decode()
        person.refresh_from_db()
        assert person.user is None
        assert not mail.outbox

    def test_reinvite_keeps_the_account(self, login, admin_user, candidate):
        users_before = get_user_model().objects.count()
        login(admin_user).post(reverse("candidates:candidate_invite", args=[candidate.pk]))
        assert get_user_model().objects.count() == users_before
        assert AuditEvent.objects.filter(action="candidates.candidate.invited").count() == 1


class TestCohortsAndEnrolments:
    def test_admin_creates_a_cohort_on_an_active_version_only(
        self, login, admin_user, referential, draft_version, trainer
    ):
        client = login(admin_user)
        values = {
            "name": "Promotion 2028",
            "start_date": "2027-09-01",
            "end_date": "2028-06-30",
            "trainers": [trainer.pk],
        }
        refused = client.post(
            reverse("candidates:cohort_create"),
            {**values, "certification_version": draft_version.pk},
        )
        assert "Sélectionnez un choix valide" in refused.content.decode()
        backwards = client.post(
            reverse("candidates:cohort_create"),
            {**values, "certification_version": referential.pk, "end_date": "2027-01-01"},
        )
        assert backwards.status_code == 200
        # The refusal names the date constraint (Django's message, not a French sentence).
        assert "La contrainte « cohort_ends_after_it_starts » n’est pas respectée." in (
            backwards.content.decode()
        )
        assert not Cohort.objects.exists()
        client.post(
            reverse("candidates:cohort_create"),
            {**values, "certification_version": referential.pk},
        )
        cohort = Cohort.objects.get(name="Promotion 2028")
        assert list(cohort.trainers.all()) == [trainer]

    def test_new_candidate_is_enrolled_with_an_optional_bloc(self, login, admin_user, cohort):
        bloc4 = Bloc.objects.get(certification_version=cohort.certification_version, number=4)
        data = {f"identite-{k}": v for k, v in IDENTITY.items()}
        data |= {
            "inscription-access_route": "apprentissage",
            "inscription-optional_blocs": [bloc4.pk],
        }
        login(admin_user).post(reverse("candidates:cohort_new_candidate", args=[cohort.pk]), data)
        enrolment = Enrolment.objects.get(candidate__email="lea.durand@example.org")
        assert enrolment.access_route == "apprentissage"
        assert list(enrolment.optional_blocs.all()) == [bloc4]

    def test_mandatory_bloc_cannot_be_chosen_as_optional(self, login, admin_user, cohort):
        bloc1 = Bloc.objects.get(certification_version=cohort.certification_version, number=1)
        data = {f"identite-{k}": v for k, v in IDENTITY.items()}
        data |= {"inscription-access_route": "vae", "inscription-optional_blocs": [bloc1.pk]}
        response = login(admin_user).post(
            reverse("candidates:cohort_new_candidate", args=[cohort.pk]), data
        )
        assert "Sélectionnez un choix valide" in response.content.decode()
        assert not Candidate.objects.exists()

    def test_enrol_existing_and_refuse_twice(self, login, admin_user, cohort, candidate):
        person = make_candidate(3)
        client = login(admin_user)
        url = reverse("candidates:cohort_enrol", args=[cohort.pk])
        client.post(
            url, {"candidate": person.pk, "access_route": "vae", "vae_route": "vae_classique"}
        )
        assert Enrolment.objects.filter(candidate=person, cohort=cohort).exists()
        again = client.post(url, {"candidate": candidate.pk, "access_route": "vae"})
        assert "Sélectionnez un choix valide" in again.content.decode()
        assert Enrolment.objects.filter(candidate=candidate).count() == 1

    def test_enrolment_needs_an_active_version_and_a_known_route(self, cohort, admin_user):
        from blocks.services import archive_version

        person = make_candidate(4)
        with pytest.raises(ValidationError, match="Voie d'accès inconnue"):
            enrol(person, cohort, access_route="stage", by=admin_user)
        archive_version(cohort.certification_version, by=admin_user)
        with pytest.raises(ValidationError, match="n'est plus active"):
            enrol(person, cohort, access_route="vae", by=admin_user)
        assert not Enrolment.objects.filter(candidate=person).exists()

    def test_withdrawal_keeps_the_enrolment_and_its_history(self, login, admin_user, candidate):
        enrolment = candidate.enrolments.get()
        client = login(admin_user)
        url = reverse("candidates:enrolment_withdraw", args=[enrolment.pk])
        empty = client.post(url, {"reason": "  "})
        assert "Ce champ est obligatoire" in empty.content.decode()
        client.post(url, {"reason": "Abandon de formation"})
        enrolment.refresh_from_db()
        assert enrolment.status == Enrolment.Status.WITHDRAWN
        assert enrolment.withdrawal_reason == "Abandon de formation"
        assert enrolment.withdrawn_at is not None
        event = AuditEvent.objects.for_object(enrolment).get(
            action="candidates.enrolment.withdrawn"
        )
        assert event.actor == admin_user
        page = client.get(enrolment.cohort.get_absolute_url()).content.decode()
        assert candidate.full_name in page and "Retiré le" in page
        with pytest.raises(ValidationError, match=r"Cette inscription est déjà retirée\."):
            withdraw(enrolment, reason="encore", by=admin_user)
        enrolment.refresh_from_db()
        assert enrolment.withdrawal_reason == "Abandon de formation"

    def test_enrolments_cannot_be_deleted_while_their_candidate_exists(self, candidate):
        from django.db.models import ProtectedError

        with pytest.raises(ProtectedError, match="'Enrolment.candidate'"):
            candidate.delete()
        assert Candidate.objects.filter(pk=candidate.pk).exists()
        assert candidate.enrolments.count() == 1


class TestQueryCounts:
    def count(self, client, url):
        with CaptureQueriesContext(connection) as queries:
            assert client.get(url).status_code == 200
        return len(queries)

    def grow(self, cohort, candidate, trainer, label):
        """Every dimension of these pages grows: candidates (with an optional
        bloc), cohorts, trainers per cohort, enrolments per candidate (the same
        people in a second cohort, Emma included), withdrawn enrolments, and
        Emma's history."""
        start = 1000 + 100 * len(label)
        fill_cohort(cohort, 30, start=start)
        extra_trainers = [make_user(f"formateur-{label}-{n}", roles.TRAINER) for n in range(3)]
        cohort.trainers.add(*extra_trainers)
        second = Cohort.objects.create(
            name=f"Autre {label}",
            certification_version=cohort.certification_version,
            start_date=cohort.start_date,
            end_date=cohort.end_date,
        )
        second.trainers.add(trainer, *extra_trainers)
        bloc4 = Bloc.objects.get(certification_version=cohort.certification_version, number=4)
        people = Candidate.objects.filter(enrolments__cohort=cohort).exclude(
            enrolments__cohort=second
        )
        for person in people[:10]:
            enrol(person, second, access_route="vae", optional_blocs=[bloc4], by=None)
        for enrolment in second.enrolments.exclude(candidate=candidate)[:3]:
            withdraw(enrolment, reason="Abandon", by=None)
        if not candidate.enrolments.filter(cohort=second).exists():
            enrol(candidate, second, access_route="vae", optional_blocs=[bloc4], by=None)
        return second

    def test_list_and_cohort_pages_stay_constant(self, login, admin_user, trainer, candidate):
        cohort = candidate.enrolments.get().cohort
        fill_cohort(cohort, 3)
        urls = [
            reverse("candidates:cohorts"),
            reverse("candidates:cohort", args=[cohort.pk]),
            reverse("candidates:candidates"),
            reverse("candidates:candidate", args=[candidate.pk]),
        ]
        for user, label in ((admin_user, "a"), (trainer, "bb")):
            client = login(user)
            small = [self.count(client, url) for url in urls]
            second = self.grow(cohort, candidate, trainer, label)
            page = client.get(reverse("candidates:cohort", args=[second.pk])).content.decode()
            assert page.count("Retiré le") == 3
            assert [self.count(client, url) for url in urls] == small
        assert Cohort.objects.visible_to(trainer).count() == 3
        assert cohort.trainers.count() == 7
        assert candidate.enrolments.count() == 3
        assert Enrolment.objects.filter(status=Enrolment.Status.WITHDRAWN).count() == 6


def enrol_with_emails(cohort, emails, start):
    """Candidates enrolled in `cohort`, one per address ("" for none)."""
    people = []
    for number, email in enumerate(emails, start=start):
        person = make_candidate(number, email=email)
        enrol(person, cohort, access_route="vae", by=None)
        people.append(person)
    return people


class TestCohortInvitation:
    def test_the_office_invites_every_enrolled_candidate_without_an_account(
        self,
        client,
        login,
        admin_user,
        cohort,
        candidate,
        mailoutbox,
        django_capture_on_commit_callbacks,
    ):
        lou, max_, _no_email, left = enrol_with_emails(
            cohort, ["Lou@Example.org", "max@example.org", "", "parti@example.org"], start=10
        )
        withdraw(left.enrolments.get(), reason="Abandon", by=None)
        enrol_with_emails(cohort, ["zoe@example.org"], start=20)
        elsewhere = make_candidate(30, email="ailleurs@example.org")
        office = login(admin_user)
        page = office.get(reverse("candidates:cohort", args=[cohort.pk])).content.decode()
        assert "Inviter les 3 candidats sans compte" in page
        assert "1 candidat sans adresse électronique ne peut pas être invité" in page
        with django_capture_on_commit_callbacks(execute=True):
            response = office.post(
                reverse("candidates:cohort_invite", args=[cohort.pk]), follow=True
            )
        assert "3 candidat(s) invité(s)" in response.content.decode()
        assert sorted(message.to[0] for message in mailoutbox) == [
            "Lou@Example.org",
            "max@example.org",
            "zoe@example.org",
        ]
        lou.refresh_from_db()
        assert lou.user.username == "lou@example.org"
        assert lou.user.groups.filter(name=roles.CANDIDATE).exists()
        assert not lou.user.has_usable_password()
        for person in (left, elsewhere):
            person.refresh_from_db()
            assert person.user is None
        candidate.refresh_from_db()
        assert candidate.user.username == "candidat"
        events = AuditEvent.objects.filter(action="candidates.candidate.invited")
        assert events.count() == 3
        assert {event.data["promotion"] for event in events} == {"Promotion 2027"}
        assert {event.actor for event in events} == {admin_user}
        page = response.content.decode()
        assert "candidats sans compte" not in page
        assert "1 candidat sans adresse électronique" in page
        message = next(m for m in mailoutbox if m.to == ["max@example.org"])
        assert "Bonjour Prénom11," in message.body
        link = re.search(r"http://testserver(/mot-de-passe/\S+/)", message.body).group(1)
        client.logout()
        form_page = client.get(link, follow=True)
        client.post(
            form_page.redirect_chain[-1][0],
            {"new_password1": "Un-mot-de-passe-sur-42", "new_password2": "Un-mot-de-passe-sur-42"},
        )
        assert client.login(username="max@example.org", password="Un-mot-de-passe-sur-42")
        assert client.get(reverse("candidates:my_space")).status_code == 200

    @pytest.mark.parametrize(
        ("emails", "taken", "message"),
        [
            (
                ["Lou@example.org", "lou@example.org"],
                None,
                "Nom41 Prénom41, Nom42 Prénom42 ont la même adresse électronique lou@example.org",
            ),
            (
                ["ok@example.org", "pris@example.org"],
                "Pris@Example.org",
                "L'adresse pris@example.org de Nom42 Prénom42 est déjà l'identifiant d'un compte",
            ),
        ],
    )
    def test_shared_or_taken_addresses_invite_nobody(
        self,
        admin_user,
        cohort,
        mailoutbox,
        django_capture_on_commit_callbacks,
        emails,
        taken,
        message,
    ):
        enrol_with_emails(cohort, emails, start=41)
        if taken:
            make_user(taken)
        users = get_user_model().objects.count()
        with (
            django_capture_on_commit_callbacks(execute=True),
            pytest.raises(ValidationError) as refused,
        ):
            invite_cohort(cohort, base_url="http://testserver/", by=admin_user)
        assert refused.value.messages[0].startswith("Aucun candidat n'a été invité")
        assert message in refused.value.messages[1]
        assert get_user_model().objects.count() == users
        assert not Candidate.objects.filter(user__isnull=False).exists()
        assert not AuditEvent.objects.filter(action="candidates.candidate.invited").exists()
        assert mailoutbox == []

    def test_a_refusal_is_shown_on_the_cohort_page(self, login, admin_user, cohort, mailoutbox):
        enrol_with_emails(cohort, ["a@example.org", "A@example.org"], start=50)
        response = login(admin_user).post(
            reverse("candidates:cohort_invite", args=[cohort.pk]), follow=True
        )
        page = response.content.decode()
        assert "Aucun candidat n&#x27;a été invité" in page
        assert "ont la même adresse électronique a@example.org" in page
        assert mailoutbox == []

    def test_nobody_to_invite_is_said_in_french(self, admin_user, cohort, candidate):
        enrol_with_emails(cohort, [""], start=60)
        with pytest.raises(ValidationError, match="n'attend d'invitation"):
            invite_cohort(cohort, base_url="http://testserver/", by=admin_user)

    def test_only_the_office_invites_a_cohort(
        self, client, login, admin_user, trainer, candidate_user, cohort, mailoutbox
    ):
        enrol_with_emails(cohort, ["lou@example.org"], start=70)
        url = reverse("candidates:cohort_invite", args=[cohort.pk])
        assert client.post(url).url == f"{reverse('login')}?next={url}"
        for user in (trainer, candidate_user):
            assert login(user).post(url).status_code == 403
        page = login(trainer).get(reverse("candidates:cohort", args=[cohort.pk]))
        assert "sans compte" not in page.content.decode()
        assert login(admin_user).get(url).status_code == 405
        assert mailoutbox == [] and not Candidate.objects.filter(user__isnull=False).exists()

    def test_the_bulk_invitation_costs_the_same_for_2_or_12_candidates(
        self, referential, admin_user, mailoutbox, django_capture_on_commit_callbacks
    ):
        def queries_to_invite(count, start):
            cohort = Cohort.objects.create(
                name=f"Promotion {count}",
                certification_version=referential,
                start_date=datetime.date(2026, 9, 1),
                end_date=datetime.date(2027, 6, 30),
            )
            enrol_with_emails(
                cohort, [f"c{n}@example.org" for n in range(start, start + count)], start
            )
            with (
                CaptureQueriesContext(connection) as queries,
                django_capture_on_commit_callbacks(execute=True),
            ):
                assert (
                    len(invite_cohort(cohort, base_url="http://testserver/", by=admin_user))
                    == count
                )
            return len(queries)

        ContentType.objects.get_for_model(Candidate)  # cached once per process
        assert queries_to_invite(2, start=100) == queries_to_invite(12, start=200)
        assert len(mailoutbox) == 14


def test_the_four_roles_exist_after_migrating():
    from django.contrib.auth.models import Group

    assert set(Group.objects.values_list("name", flat=True)) >= {
        "administrateur",
        "formateur",
        "membre de jury",
        "candidat",
    }
