"""« Mes données »: French dates, the published scores grouped by modality
and by assessor; the JSON export keeps ISO dates."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.dates import french_date

pytestmark = pytest.mark.django_db

PAGE = reverse("portal:my_data")
EXPORT = reverse("portal:my_data_json")
ISO_DATE = re.compile(r"\b\d{4}-\d{2}-\d{2}\b")


def text(response):
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_the_page_reads_in_french_grouped_by_modality_and_assessor(
    published, login, candidate_user, candidate
):
    response = login(candidate_user).get(PAGE)
    assert response.status_code == 200
    page = text(response)
    assert not ISO_DATE.search(page), ISO_DATE.search(page)
    assert "Date de naissance 12 avril 2001" in page
    assert "Lieu de naissance Lyon (69123)" in page
    assert f"inscrit(e) le {french_date(candidate.enrolments.get().created_at)}" in page
    assert "Le 15 mars 2027, Salle Lumière · tentative 1" in page
    assert f"publiée le {french_date(published.published_at)}" in page
    # Modalities are headings; each assessor's scores are a group of their own.
    html = response.content.decode()
    assert re.search(r"<h3[^>]*>M1\.1 · ", html)
    m11 = html[html.index(">M1.1 · ") : html.index("</section>", html.index(">M1.1 · "))]
    assert "Évaluation de Jury1" in m11 and "Évaluation de Jury2" in m11
    assert m11.index("Évaluation de Jury1") < m11.index("Évaluation de Jury2")
    assert "2 · Acquis" in m11  # the value and its level on the scale
    m21 = html[html.index(">M2.1 · ") : html.index("</section>", html.index(">M2.1 · "))]
    assert "Évaluation de Formateur" in m21 and "1 · Partiellement acquis" in m21
    assert "Jury1" not in m21


def test_nothing_is_shown_before_publication(signed, login, candidate_user):
    page = text(login(candidate_user).get(PAGE))
    assert "Résultats non encore publiés." in page
    assert "Évaluation de" not in page
    assert "Décisions publiées Aucune." in page


def test_the_export_keeps_iso_dates(published, login, candidate_user, candidate):
    data = login(candidate_user).get(EXPORT).json()
    assert data["identite"]["date_de_naissance"] == "2001-04-12"
    assert {item["date"] for item in data["evaluations"]} == {"2027-03-15"}
    assert data["inscriptions"][0]["inscrit_le"].startswith(
        candidate.enrolments.get().created_at.isoformat()[:10]
    )
    assert data["decisions_publiees"][0]["publie_le"] == published.published_at.isoformat()
    notes = [note for item in data["evaluations"] for note in item["notes_publiees"]]
    assert notes and {note["niveau"] for note in notes} <= {
        "Partiellement acquis",
        "Acquis",
        "Maîtrisé",
    }


def test_the_page_runs_a_fixed_number_of_queries(published, login, candidate_user, trainer):
    from evaluations.tests.factories import sit_bloc

    client = login(candidate_user)
    client.get(PAGE)
    with CaptureQueriesContext(connection) as before:
        client.get(PAGE)
    # Bloc 2 sat again (more sessions, attempts and grids): not one query more.
    sit_bloc(published.cohort, 2, 2, trainer=trainer, jury=published.jury)
    with CaptureQueriesContext(connection) as after:
        page = text(client.get(PAGE))
    assert "tentative 2" in page
    assert len(after) == len(before)
