import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from candidates.importing import SAMPLE_FILE
from candidates.models import Candidate, Cohort, Enrolment
from candidates.tests.factories import fill_cohort
from core.models import AuditEvent

pytestmark = pytest.mark.django_db

HEADER = "nom_naissance;prenoms;sexe;date_naissance;code_insee_naissance;voie_acces\n"


def upload(client, cohort, text, name="promotion.csv"):
    return client.post(
        reverse("candidates:cohort_import", args=[cohort.pk]),
        {"file": SimpleUploadedFile(name, text.encode("utf-8"))},
    )


def test_preview_writes_nothing_and_confirm_writes_everything(login, admin_user, cohort):
    client = login(admin_user)
    preview = upload(client, cohort, SAMPLE_FILE.read_text(encoding="utf-8"))
    text = preview.content.decode()
    assert "Aperçu de l" in text
    assert "12 candidat(s) à créer" in text
    assert "Contrat de professionnalisation" in text
    assert "Confirmer l'import" in text
    assert not Candidate.objects.exists()
    token = preview.context["token"]
    done = client.post(
        reverse("candidates:cohort_import", args=[cohort.pk]), {"token": token}, follow=True
    )
    assert "Import terminé : 12 candidat(s) créé(s)" in done.content.decode()
    assert Enrolment.objects.filter(cohort=cohort).count() == 12
    event = AuditEvent.objects.get(action="candidates.import.applied")
    assert event.actor == admin_user
    imported = Candidate.objects.get(email="lea.martin@example.org")
    history = AuditEvent.objects.for_object(imported).get()
    assert (history.action, history.actor, history.data) == (
        "candidates.candidate.imported",
        admin_user,
        {"file": "promotion.csv"},
    )
    assert AuditEvent.objects.filter(action="candidates.enrolment.imported").count() == 12
    # The candidate's history says it in French words, not as a code.
    page = client.get(imported.get_absolute_url()).content.decode()
    assert "candidat créé par import" in page
    assert "candidates.candidate.imported" not in page


def test_bad_rows_are_listed_with_their_line_and_nothing_is_offered(login, admin_user, cohort):
    client = login(admin_user)
    text = HEADER + "Roux;Paul;M;01/02/2003;75056;vae\nBlanc;Zoé;F;31/02/2003;75056;vae\n"
    preview = upload(client, cohort, text).content.decode()
    assert (
        "<li>ligne 3 : date de naissance invalide (« 31/02/2003 ») : "
        "JJ/MM/AAAA ou AAAA-MM-JJ attendu</li>"
    ) in preview
    assert preview.count("<li>ligne ") == 1
    assert "Confirmer l'import" not in preview
    assert 'name="token"' not in preview
    assert not Candidate.objects.exists()


def test_a_stale_or_foreign_token_writes_nothing(login, admin_user, cohort):
    client = login(admin_user)
    upload(client, cohort, HEADER + "Roux;Paul;M;01/02/2003;75056;vae\n")
    response = client.post(
        reverse("candidates:cohort_import", args=[cohort.pk]), {"token": "faux"}, follow=True
    )
    assert "Cet aperçu n&#x27;est plus valable" in response.content.decode()
    assert not Candidate.objects.exists()


def test_confirming_twice_creates_nothing_more(login, admin_user, cohort):
    client = login(admin_user)
    preview = upload(client, cohort, HEADER + "Roux;Paul;M;01/02/2003;75056;vae\n")
    url = reverse("candidates:cohort_import", args=[cohort.pk])
    client.post(url, {"token": preview.context["token"]})
    again = client.post(url, {"token": preview.context["token"]}, follow=True)
    assert "plus valable" in again.content.decode()
    assert Candidate.objects.count() == 1


def test_a_file_that_became_wrong_between_preview_and_confirm_is_refused(login, admin_user, cohort):
    client = login(admin_user)
    preview = upload(client, cohort, HEADER + "Roux;Paul;M;01/02/2003;75056;vae\n")
    cohort.certification_version.status = "archived"
    cohort.certification_version.save()
    response = client.post(
        reverse("candidates:cohort_import", args=[cohort.pk]),
        {"token": preview.context["token"]},
        follow=True,
    )
    assert "n&#x27;est plus active" in response.content.decode()
    assert not Candidate.objects.exists()


def test_preview_queries_do_not_grow_with_the_file(login, admin_user, cohort, candidate):
    """5 new people against 201 rows of every kind: new people (half of them
    choosing bloc 4), people known from another cohort, people already enrolled."""
    client = login(admin_user)
    other = Cohort.objects.create(
        name="Promotion précédente",
        certification_version=cohort.certification_version,
        start_date=cohort.start_date,
        end_date=cohort.end_date,
    )
    fill_cohort(other, 40, start=5000)
    fill_cohort(cohort, 40, start=6000)
    known = list(Candidate.objects.filter(enrolments__cohort__in=[other, cohort]))

    def rows(count):
        return "".join(
            f"Nom{n};Prénom{n};M;{1 + n % 28:02d}/01/2000;75056;vae\n" for n in range(count)
        )

    with CaptureQueriesContext(connection) as small:
        preview = upload(client, cohort, HEADER + rows(5)).content.decode()
    assert "5 candidat(s) à créer, 0 candidat(s) existant(s) à inscrire, 0 déjà inscrit(s)" in (
        preview
    )
    large_file = (
        "nom_naissance;prenoms;sexe;date_naissance;code_insee_naissance;pays_naissance;"
        "voie_acces;blocs_optionnels\n"
    )
    large_file += "".join(
        f"Nom{n};Prénom{n};M;{1 + n % 28:02d}/01/2000;75056;;vae;{'4' if n % 2 else ''}\n"
        for n in range(120)
    )
    large_file += "".join(
        f"{person.birth_name};{person.first_names};M;{person.birth_date:%d/%m/%Y};;Belgique;vae;\n"
        for person in known
    )
    with CaptureQueriesContext(connection) as large:
        preview = upload(client, cohort, large_file).content.decode()
    assert "120 candidat(s) à créer, 40 candidat(s) existant(s) à inscrire, 41 déjà inscrit(s)" in (
        preview
    )
    assert len(large) == len(small)


def test_the_preview_shows_every_value_it_will_write(login, admin_user, cohort):
    """Nothing is written that the office could not check first: each column
    of the file appears in the preview."""
    header = (
        "nom_naissance;nom_usage;prenoms;sexe;date_naissance;commune_naissance;"
        "code_insee_naissance;pays_naissance;email;telephone;voie_acces;type_vae;"
        "initiative_inscription;date_inscription;blocs_optionnels\n"
    )
    born_in_france = (
        "Roux;Martin;Paul Henri;M;01/02/2003;Lyon;69123;;paul.roux@example.org;"
        "06 12 34 56 78;vae;Congé VAE;employeur;01/09/2026;4\n"
    )
    born_abroad = "Blanc;;Zoé;F;02/02/2003;Casablanca;;Maroc;;;apprentissage;;;;\n"
    preview = upload(login(admin_user), cohort, header + born_in_france + born_abroad)
    page = preview.content.decode().replace("&#x27;", "'")
    for value in (
        "Martin Paul Henri (M), né(e) Roux",
        "01/02/2003, Lyon (69123)",
        "paul.roux@example.org · 06 12 34 56 78",
        "VAE (Congé VAE)",
        "le 01/09/2026, à l'initiative de : l'employeur",
        "bloc 4",
        "02/02/2003, Casablanca, Maroc",
        "Apprentissage",
    ):
        assert value in page, value
