"""Issue 15: an enrolment's registration data (access route, type of VAE,
initiative, date of registration), edited by the office, given at enrolment
and read from an import file."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from candidates.models import Enrolment
from candidates.services import change_registration, enrol
from candidates.tests.factories import make_candidate
from core.history import describe_event
from core.models import Action, AuditEvent

pytestmark = pytest.mark.django_db


def url(enrolment):
    return reverse("candidates:enrolment_registration", args=[enrolment.pk])


class TestEdit:
    def test_access(self, client, login, candidate, admin_user, trainer, candidate_user):
        enrolment = candidate.enrolments.get()
        response = client.get(url(enrolment))
        assert response.url == f"{reverse('login')}?next={url(enrolment)}"
        assert login(trainer).get(url(enrolment)).status_code == 403
        assert login(candidate_user).get(url(enrolment)).status_code == 403
        assert login(admin_user).get(url(enrolment)).status_code == 200
        assert (
            login(admin_user).get(url(enrolment).replace(str(enrolment.pk), "999999")).status_code
            == 404
        )
        page = login(admin_user).get(candidate.get_absolute_url()).content.decode()
        assert url(enrolment) in page
        assert (
            url(enrolment) not in login(trainer).get(candidate.get_absolute_url()).content.decode()
        )

    def test_office_changes_the_registration(self, login, candidate, admin_user):
        enrolment = candidate.enrolments.get()
        old_route = enrolment.access_route
        assert old_route != "vae"
        client = login(admin_user)
        response = client.post(
            url(enrolment),
            {
                "access_route": "vae",
                "vae_route": "conge_vae",
                "registration_initiative": "employeur",
                "registration_date": "2026-09-01",
            },
        )
        assert response.url == candidate.get_absolute_url()
        enrolment.refresh_from_db()
        assert (enrolment.access_route, enrolment.vae_route) == ("vae", "conge_vae")
        assert enrolment.registration_initiative == "employeur"
        assert enrolment.registration_date == datetime.date(2026, 9, 1)
        event = AuditEvent.objects.for_object(enrolment).get(
            action=Action.ENROLMENT_REGISTRATION_CHANGED
        )
        assert event.actor == admin_user
        assert event.data["changes"]["access_route"] == [old_route, "vae"]
        sentence = describe_event(event)
        assert "→ « VAE »" in sentence and "type de VAE vide → « Congé VAE »" in sentence
        assert "« 01/09/2026 »" in sentence
        page = client.get(candidate.get_absolute_url()).content.decode()
        assert "VAE (Congé VAE)" in page and "le 01/09/2026" in page
        assert "Modalités d&#x27;inscription modifiées" in page  # the candidate's history
        # The same values again: nothing recorded.
        change_registration(
            enrolment,
            access_route="vae",
            vae_route="conge_vae",
            registration_initiative="employeur",
            registration_date=datetime.date(2026, 9, 1),
            by=admin_user,
        )
        assert AuditEvent.objects.filter(action=Action.ENROLMENT_REGISTRATION_CHANGED).count() == 1

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            ({"access_route": "vae"}, "Pour une inscription par la VAE, précisez le type de VAE."),
            (
                {"access_route": "apprentissage", "vae_route": "conge_vae"},
                "Le type de VAE ne se renseigne que pour une inscription par la VAE.",
            ),
            ({"access_route": "stage"}, "Sélectionnez un choix valide"),
            ({"access_route": "vae", "vae_route": "autre"}, "Sélectionnez un choix valide"),
            (
                {"access_route": "apprentissage", "registration_initiative": "x"},
                "Sélectionnez un choix valide",
            ),
            (
                {"access_route": "apprentissage", "registration_date": "31/02/2026"},
                "Saisissez une date valide.",
            ),
        ],
    )
    def test_bad_input_changes_nothing(self, login, candidate, admin_user, data, message):
        enrolment = candidate.enrolments.get()
        before = Enrolment.objects.filter(pk=enrolment.pk).values().get()
        response = login(admin_user).post(url(enrolment), data)
        assert response.status_code == 200
        assert message in response.content.decode().replace("&#x27;", "'")
        assert Enrolment.objects.filter(pk=enrolment.pk).values().get() == before
        assert not AuditEvent.objects.filter(action=Action.ENROLMENT_REGISTRATION_CHANGED).exists()

    def test_service_refuses_in_french(self, candidate, admin_user):
        enrolment = candidate.enrolments.get()
        with pytest.raises(ValidationError, match="précisez le type de VAE"):
            change_registration(enrolment, access_route="vae", by=admin_user)
        with pytest.raises(ValidationError, match="ne se renseigne que"):
            change_registration(
                enrolment, access_route="apprentissage", vae_route="conge_vae", by=admin_user
            )
        with pytest.raises(ValidationError, match="Initiative d'inscription inconnue"):
            change_registration(
                enrolment, access_route="apprentissage", registration_initiative="x", by=admin_user
            )


class TestEnrolment:
    def test_enrol_form_takes_the_new_fields(self, login, admin_user, cohort):
        person = make_candidate(7)
        client = login(admin_user)
        form_url = reverse("candidates:cohort_enrol", args=[cohort.pk])
        page = client.get(form_url).content.decode()
        assert "Équivalence de diplôme étranger" in page and 'name="vae_route"' in page
        refused = client.post(form_url, {"candidate": person.pk, "access_route": "vae"})
        assert "précisez le type de VAE" in refused.content.decode()
        assert not Enrolment.objects.filter(candidate=person).exists()
        client.post(
            form_url,
            {
                "candidate": person.pk,
                "access_route": "equivalence_diplome_etranger",
                "registration_initiative": "france_travail",
                "registration_date": "2026-10-05",
            },
        )
        enrolment = Enrolment.objects.get(candidate=person)
        assert enrolment.access_route == "equivalence_diplome_etranger"
        assert enrolment.registration_initiative == "france_travail"
        assert enrolment.registration_date == datetime.date(2026, 10, 5)
        event = AuditEvent.objects.for_object(enrolment).get(action=Action.ENROLMENT_CREATED)
        assert event.data["registration_date"] == "2026-10-05"

    def test_service_refuses_a_vae_type_without_vae(self, cohort):
        with pytest.raises(ValidationError, match="ne se renseigne que"):
            enrol(
                make_candidate(8),
                cohort,
                access_route="apprentissage",
                vae_route="conge_vae",
                by=None,
            )


HEADER = (
    "nom_naissance;prenoms;sexe;date_naissance;code_insee_naissance;voie_acces;"
    "type_vae;initiative_inscription;date_inscription\n"
)


def upload(client, cohort, text):
    return client.post(
        reverse("candidates:cohort_import", args=[cohort.pk]),
        {"file": SimpleUploadedFile("promotion.csv", text.encode("utf-8"))},
    )


class TestImport:
    def test_import_reads_and_previews_the_registration_columns(self, login, admin_user, cohort):
        client = login(admin_user)
        text = HEADER + (
            "Roux;Paul;M;01/02/2003;75056;vae;Congé VAE;employeur;01/09/2026\n"
            "Blanc;Zoé;F;02/02/2003;75056;Équivalence de diplôme étranger;;candidat;\n"
            "Noir;Léo;M;03/02/2003;75056;vae;;;\n"
        )
        preview = upload(client, cohort, text)
        page = preview.content.decode().replace("&#x27;", "'")
        assert "VAE (Congé VAE)" in page
        assert "le 01/09/2026, à l'initiative de : l'employeur" in page
        assert "Équivalence de diplôme étranger" in page
        assert "à l'initiative de : le candidat lui-même" in page
        client.post(
            reverse("candidates:cohort_import", args=[cohort.pk]),
            {"token": preview.context["token"]},
        )
        paul = Enrolment.objects.get(candidate__birth_name="Roux")
        assert (paul.access_route, paul.vae_route, paul.registration_initiative) == (
            "vae",
            "conge_vae",
            "employeur",
        )
        assert paul.registration_date == datetime.date(2026, 9, 1)
        zoe = Enrolment.objects.get(candidate__birth_name="Blanc")
        assert zoe.access_route == "equivalence_diplome_etranger" and zoe.vae_route == ""
        # A VAE without its type is imported; the office gives the type later.
        assert Enrolment.objects.get(candidate__birth_name="Noir").vae_route == ""

    def test_bad_registration_cells_are_listed(self, login, admin_user, cohort):
        text = HEADER + (
            "Roux;Paul;M;01/02/2003;75056;apprentissage;conge_vae;;\n"
            "Blanc;Zoé;F;02/02/2003;75056;vae;stage;voisin;2026-13-01\n"
        )
        page = upload(login(admin_user), cohort, text).content.decode().replace("&#x27;", "'")
        assert (
            "ligne 2 : type de VAE (« conge_vae ») pour une voie d'accès autre que la VAE" in page
        )
        assert "ligne 3 : type de VAE inconnu (« stage »)" in page
        assert "ligne 3 : initiative d'inscription inconnue (« voisin »)" in page
        assert "ligne 3 : date d'inscription invalide (« 2026-13-01 »)" in page
        assert (
            not Enrolment.objects.filter(cohort=cohort)
            .exclude(candidate__birth_name="Petit")
            .exists()
        )
