import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from blocks.models import AuditEvent
from candidates.importing import SAMPLE_FILE
from candidates.models import Candidate, Enrolment

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
    assert (
        "candidates.candidate.imported" in client.get(imported.get_absolute_url()).content.decode()
    )


def test_bad_rows_are_listed_with_their_line_and_nothing_is_offered(login, admin_user, cohort):
    client = login(admin_user)
    text = HEADER + "Roux;Paul;M;01/02/2003;75056;vae\nBlanc;Zoé;F;31/02/2003;75056;vae\n"
    preview = upload(client, cohort, text).content.decode()
    assert "ligne 3 : " in preview and "date de naissance" in preview
    assert "Confirmer l&#x27;import" not in preview
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


def test_preview_queries_do_not_grow_with_the_file(login, admin_user, cohort):
    client = login(admin_user)

    def rows(count):
        return "".join(
            f"Nom{n};Prénom{n};M;{1 + n % 28:02d}/01/2000;75056;vae\n" for n in range(count)
        )

    with CaptureQueriesContext(connection) as small:
        upload(client, cohort, HEADER + rows(5))
    with CaptureQueriesContext(connection) as large:
        upload(client, cohort, HEADER + rows(200))
    assert len(large) == len(small)
