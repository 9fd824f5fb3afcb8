import datetime
import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from candidates.models import Candidate, Enrolment
from candidates.tests.factories import bulk_enrol
from certification.tests.factories import issued
from evaluations.deliberations import publish_results
from evaluations.models import Grid, Score
from evaluations.tests.factories import fill, open_session

pytestmark = pytest.mark.django_db

PAGES = {
    "office": (reverse("certification:office_dashboard"), {"admin_user"}),
    "trainer": (reverse("certification:trainer_dashboard"), {"trainer"}),
    "jury": (reverse("certification:jury_dashboard"), {"jury_member"}),
    "candidate": (reverse("certification:candidate_home"), {"candidate_user"}),
    "data": (reverse("certification:my_data"), {"candidate_user"}),
    "data_json": (reverse("certification:my_data_json"), {"candidate_user"}),
}
PEOPLE = ["admin_user", "trainer", "jury_member", "candidate_user", "outsider"]


@pytest.mark.parametrize("page", PAGES)
def test_each_dashboard_for_every_role(request, client, login, candidate, jury, page):
    url, allowed = PAGES[page]
    assert client.get(url).url.startswith("/connexion/")
    for person in PEOPLE:
        status = login(request.getfixturevalue(person)).get(url).status_code
        assert status == (200 if person in allowed else 403), (person, status)


@pytest.mark.parametrize(
    ("person", "landing"),
    [
        ("admin_user", "certification:office_dashboard"),
        ("trainer", "certification:trainer_dashboard"),
        ("jury_member", "certification:jury_dashboard"),
        ("candidate_user", "certification:candidate_home"),
    ],
)
def test_each_role_lands_on_its_dashboard(request, login, candidate, person, landing):
    response = login(request.getfixturevalue(person)).get(reverse("home"))
    assert response.url == reverse(landing)


def test_heatmap_access(client, login, cohort, admin_user, trainer, other_trainer, jury_member):
    url = reverse("certification:heatmap", args=[cohort.pk])
    assert client.get(url).url.startswith("/connexion/")
    assert login(admin_user).get(url).status_code == 200
    assert login(trainer).get(url).status_code == 200
    assert login(other_trainer).get(url).status_code == 404
    assert login(jury_member).get(url).status_code == 403


class TestCandidateSeesOnlyPublished:
    def test_nothing_before_publication(self, login, signed, candidate_user):
        client = login(candidate_user)
        home = client.get(reverse("certification:candidate_home")).content.decode()
        assert "décision publiée" not in home
        assert "Validé" not in home
        assert "0 compétence(s) acquise(s) sur 6" in home
        assert "résultats non encore publiés" in home
        data = client.get(reverse("certification:my_data_json")).json()
        assert data["decisions_publiees"] == []
        assert all(item["notes_publiees"] == [] for item in data["evaluations"])
        assert data["evaluations"]  # the assessments themselves are hers to see

    def test_after_publication_with_scores_and_comments(
        self, login, signed, candidate_user, admin_user
    ):
        Score.objects.filter(criterion__competence__code="C1.4").update(
            comment="Dépouillement clair"
        )
        publish_results(signed, by=admin_user)
        client = login(candidate_user)
        home = client.get(reverse("certification:candidate_home")).content.decode()
        assert "décision publiée : validé" in home
        assert "6 compétence(s) acquise(s) sur 6" in home
        assert "Dépouillement clair" in home
        data = client.get(reverse("certification:my_data_json")).json()
        assert [(d["bloc"], d["decision"]) for d in data["decisions_publiees"]] == [
            (1, "Validé"),
            (2, "Non validé"),
            (3, "Validé"),
        ]
        published = [note for item in data["evaluations"] for note in item["notes_publiees"]]
        expected = Score.objects.filter(
            grid__status=Grid.Status.SUBMITTED,
            grid__assessment__enrolment__candidate__user=candidate_user,
        )
        assert len(published) == expected.count()
        assert sum(note["commentaire"] == "Dépouillement clair" for note in published) == (
            expected.filter(comment="Dépouillement clair").count()
        )

    def test_a_later_resit_stays_hidden_until_its_own_publication(
        self, login, signed, candidate_user, admin_user, cohort, trainer
    ):

        publish_results(signed, by=admin_user)
        resit = open_session("M2.1", cohort, [trainer]).assessments.get()
        fill(resit, trainer, 0, submit=True)
        data = login(candidate_user).get(reverse("certification:my_data_json")).json()
        resit_entry = [e for e in data["evaluations"] if e["tentative"] == 2][0]
        assert resit_entry["notes_publiees"] == []


def test_the_export_holds_nothing_of_anyone_else(login, signed, candidate_user, admin_user, cohort):
    other = Candidate.objects.create(
        birth_name="Autre",
        first_names="Personne",
        sex="M",
        birth_date=datetime.date(1999, 9, 9),
        birth_country="Belgique",
        email="autre@example.org",
    )
    Enrolment.objects.create(candidate=other, cohort=cohort, access_route="vae")
    publish_results(signed, by=admin_user)
    response = login(candidate_user).get(reverse("certification:my_data_json"))
    assert response["Content-Disposition"] == 'attachment; filename="mes-donnees.json"'
    text = json.dumps(response.json(), ensure_ascii=False)
    assert "Petit" in text and "emma.petit@example.org" in text
    assert "Autre" not in text and "autre@example.org" not in text and "1999" not in text


def test_candidate_downloads_a_certificate_from_home(
    login, decision, candidate_user, admin_user, django_capture_on_commit_callbacks
):
    publish_results(decision.deliberation, by=admin_user)
    certificate = issued(decision, django_capture_on_commit_callbacks)
    home = login(candidate_user).get(reverse("certification:candidate_home")).content.decode()
    assert reverse("certification:certificate_pdf", args=[certificate.number]) in home


def test_office_numbers_link_to_their_lists(login, signed, admin_user):
    page = login(admin_user).get(reverse("certification:office_dashboard"))
    numbers = page.context["numbers"]
    assert numbers["enrolled"] == 1 and numbers["to_print"] == 2 and numbers["to_publish"] == 1
    text = page.content.decode()
    for name in (
        "candidates:cohorts",
        "evaluations:sessions",
        "evaluations:juries",
        "certification:certificates",
    ):
        assert f'href="{reverse(name)}' in text


def test_dashboards_and_heatmap_queries_from_10_to_300_candidates(
    login, signed, cohort, admin_user, trainer, jury_member
):
    bulk_enrol(cohort, 9, 1000)
    pages = [
        (admin_user, reverse("certification:office_dashboard")),
        (trainer, reverse("certification:trainer_dashboard")),
        (trainer, reverse("certification:heatmap", args=[cohort.pk])),
        (jury_member, reverse("certification:jury_dashboard")),
    ]

    def counts():
        found = []
        for user, url in pages:
            client = login(user)
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            found.append(len(queries))
        return found

    with_ten = counts()
    bulk_enrol(cohort, 290, 2000)
    assert cohort.enrolments.count() == 300
    assert counts() == with_ten


def test_heatmap_states_and_links(login, signed, cohort, trainer):
    page = login(trainer).get(reverse("certification:heatmap", args=[cohort.pk]))
    row = page.context["rows"][0]
    states = {competence.code: state for competence, state, _ in row.cells}
    assert states["C1.1"] == "acquired" and states["C2.1"] == "not_acquired"
    assert states["C4.1"] == "none"
    links = {competence.code: link for competence, _, link in row.cells}
    assert links["C2.1"] and links["C1.1"] is None  # the trainer does not score the oral M1.1
    assert reverse("evaluations:grid", args=[links["C2.1"]]) in page.content.decode()
    assert "C1.1 acquise" in page.content.decode()
