"""The statistics France Compétences asks for, on a known data set: four
candidates on two access routes, one absent from every exam, blocs validated
or not, one title."""

import csv
import datetime
import io
import zoneinfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from openpyxl import load_workbook

from blocks.models import EvaluationModality
from candidates.models import Enrolment
from candidates.services import enrol
from candidates.tests.factories import bulk_enrol, make_candidate
from certification.models import Certificate
from certification.services import issue_title_certificate, revoke_certificate
from evaluations.deliberations import open_deliberation, publish_results
from evaluations.models import Deliberation
from evaluations.sessions import set_presence
from evaluations.tests.factories import decide_as_proposed, fill, open_session, sign_all
from portal import statistics
from portal.tests.test_accessibility import check

pytestmark = pytest.mark.django_db

PARIS = zoneinfo.ZoneInfo("Europe/Paris")
# Signed on the evening of 31 December 2026 in UTC: already 2027 in Paris.
SIGNED_AT = datetime.datetime(2026, 12, 31, 23, 30, tzinfo=datetime.UTC)
EMMA_REGISTERED = datetime.date(2025, 9, 1)
# Each candidate's mark on every criterion of blocs 1, 2 and 3 (2 passes, 1 fails);
# None: absent from every exam.
MARKS = {
    "Petit": {1: 2, 2: 2, 3: 2},  # Emma, formation initiale: the title
    "Martin": {1: 2, 2: 1, 3: 1},  # Léo, formation initiale: bloc 1 only
    "Bernard": {1: 1, 2: 2, 3: 2},  # Chloé, VAE: blocs 2 and 3
    "Durand": None,  # Hugo, VAE: absent, not presented
}


def enrol_others(cohort):
    for number, (name, route) in enumerate(
        (
            ("Martin", Enrolment.AccessRoute.INITIAL),
            ("Bernard", Enrolment.AccessRoute.VAE),
            ("Durand", Enrolment.AccessRoute.VAE),
        )
    ):
        enrol(make_candidate(500 + number, birth_name=name), cohort, access_route=route, by=None)


def sit(cohort, trainer, jury):
    """Every modality of blocs 1 to 3, each candidate marked as in MARKS."""
    for modality in EvaluationModality.objects.filter(
        bloc__certification_version=cohort.certification_version, bloc__number__in=[1, 2, 3]
    ).select_related("bloc"):
        oral = modality.assessed_by == EvaluationModality.AssessedBy.JURY
        assessors = [member.user for member in jury.members.all()] if oral else [trainer]
        session = open_session(modality.code, cohort, assessors, jury=jury if oral else None)
        for assessment in session.assessments.select_related("enrolment__candidate"):
            marks = MARKS[assessment.enrolment.candidate.birth_name]
            if marks is None:
                set_presence(assessment, present=False, by=None)
                continue
            for assessor in assessors:
                fill(assessment, assessor, marks[modality.bloc.number], submit=True)


@pytest.fixture
def untitled(
    mentions,
    cohort,
    candidate,
    trainer,
    jury,
    jury_member,
    second_jury_member,
    admin_user,
    django_capture_on_commit_callbacks,
):
    """The PV of the four candidates, signed (in 2027, Paris time) and published;
    Emma's title due, not issued yet."""
    Enrolment.objects.filter(candidate=candidate).update(registration_date=EMMA_REGISTERED)
    enrol_others(cohort)
    sit(cohort, trainer, jury)
    deliberation = open_deliberation(jury, cohort, by=None)
    for enrolment in cohort.enrolments.all():
        decide_as_proposed(deliberation, enrolment, second_jury_member)
    signed = sign_all(
        deliberation, jury_member, second_jury_member, django_capture_on_commit_callbacks
    )
    Deliberation.objects.filter(pk=signed.pk).update(signed_at=SIGNED_AT)
    return publish_results(signed, by=admin_user)


@pytest.fixture
def world(untitled, candidate, admin_user, django_capture_on_commit_callbacks):
    """The same, Emma's title issued."""
    with django_capture_on_commit_callbacks(execute=False):
        title = issue_title_certificate(candidate.enrolments.get(), by=admin_user)
    return untitled, title


def test_a_title_due_but_not_issued_is_shown_apart(untitled, referential, login, admin_user):
    figures = statistics.figures(referential, 2027)
    assert (figures.titles, figures.titles_to_issue, figures.durations) == (0, 1, [])
    page = login(admin_user).get(reverse("portal:statistics")).content.decode()
    assert "et 1 titre(s) obtenu(s) dont le parchemin n'est pas encore délivré" in page


def test_the_figures_of_a_known_data_set(world, referential):
    figures = statistics.figures(referential, 2027)
    assert figures.presented == 3  # Hugo was absent from every exam
    assert [
        (each.bloc.number, each.presented, each.validated, each.rate) for each in figures.blocs
    ] == [(1, 3, 2, 66.7), (2, 3, 2, 66.7), (3, 3, 2, 66.7), (4, 0, 0, None)]
    assert (figures.titles, figures.titles_to_issue) == (1, 0)
    assert figures.title_rate == 33.3
    assert [(r.label, r.presented, r.titles, r.rate) for r in figures.routes] == [
        ("Formation initiale hors apprentissage", 2, 1, 50.0),
        ("VAE", 1, 0, 0.0),
    ]
    days = (datetime.date(2027, 1, 1) - EMMA_REGISTERED).days  # 487
    assert figures.durations == [days]
    assert (figures.median_days, figures.mean_days) == (days, days)
    assert figures.median_months == 16.0
    assert figures.duration_bands == [
        ("0 à 6 mois", 0),
        ("6 à 12 mois", 0),
        ("12 à 18 mois", 1),
        ("18 à 24 mois", 0),
        ("24 mois et plus", 0),
    ]


def test_the_year_is_that_of_the_signature_in_paris(world, referential):
    assert statistics.years_with_results() == [2027]
    empty = statistics.figures(referential, 2026)
    assert (empty.presented, empty.titles, empty.routes, empty.durations) == (0, 0, [], [])
    assert {each.rate for each in empty.blocs} == {None}
    published, _ = world
    Deliberation.objects.filter(pk=published.pk).update(
        signed_at=datetime.datetime(2026, 12, 31, 22, 30, tzinfo=datetime.UTC)  # 23:30 in Paris
    )
    assert statistics.figures(referential, 2027).presented == 0
    assert statistics.figures(referential, 2026).presented == 3
    assert statistics.figures(referential, 2026).titles == 1


def test_only_published_pvs_and_valid_titles_count(world, referential, admin_user):
    published, title = world
    revoke_certificate(title, reason="Fraude établie", by=admin_user)
    figures = statistics.figures(referential, 2027)
    assert (figures.presented, figures.titles, figures.durations) == (3, 0, [])
    Deliberation.objects.filter(pk=published.pk).update(published_at=None)
    assert statistics.figures(referential, 2027).presented == 0


def test_the_page_shows_the_figures_with_their_charts(world, login, admin_user, referential):
    page = login(admin_user).get(reverse("portal:statistics"))
    assert page.status_code == 200
    # Without a choice: the active version and the latest year with results.
    assert page.context["figures"].year == 2027
    assert page.context["figures"].version == referential
    text = page.content.decode()
    check(text)  # every control labelled, every image described
    assert '<dd class="display-6 mb-0" id="figure-presented">3</dd>' in text
    assert '<dd class="display-6 mb-0" id="figure-title-rate">33,3 %</dd>' in text
    assert text.count('role="img"') == 4
    for chart in ("chart-blocs", "chart-bloc-rates", "chart-routes", "chart-durations"):
        assert f'<title id="{chart}-title">' in text
    assert "66,7 %" in text and "50 %" in text
    assert "signature du procès-verbal" in text  # the rule is stated
    assert 'viewBox="0 0 640 ' in text and "," not in text.split('viewBox="')[1].split('"')[0]


def test_the_year_and_version_are_chosen_by_a_form(world, login, admin_user, referential):
    client = login(admin_user)
    url = reverse("portal:statistics")
    page = client.get(url, {"version": referential.pk, "annee": 2026})
    assert page.status_code == 200 and page.context["figures"].presented == 0
    assert "Aucun candidat présenté cette année-là." in page.content.decode()
    for bad in (
        {"version": "x", "annee": 2027},
        {"version": 999999, "annee": 2027},
        {"version": referential.pk, "annee": "1900"},
        {"version": referential.pk},
    ):
        page = client.get(url, bad)
        assert page.status_code == 200, bad
        assert page.context["figures"] is None
        assert 'class="alert alert-danger' in page.content.decode()
        export = client.get(reverse("portal:statistics_export", args=["csv"]), bad)
        assert export.status_code == 404


def test_the_exports(world, login, admin_user, referential):
    client = login(admin_user)
    query = {"version": referential.pk, "annee": 2027}
    response = client.get(reverse("portal:statistics_export", args=["csv"]), query)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith('attachment; filename="statistiques-2027-')
    content = b"".join(response.streaming_content).decode("utf-8-sig")
    rows = list(csv.reader(io.StringIO(content), delimiter=";"))
    assert rows[0] == ["Rubrique", "Élément", "Valeur"]
    assert ["Candidats présentés", "Ensemble", "3"] in rows
    assert ["Titres délivrés", "Ensemble", "1"] in rows
    assert ["Taux d'obtention du titre (%)", "Ensemble", "33,3"] in rows
    bloc1 = [row for row in rows if row[1].startswith("Bloc 1 ")]
    assert [row[2] for row in bloc1] == ["3", "2", "66,7"]
    assert ["Voie d'accès : taux d'obtention du titre (%)", "VAE", "0,0"] in rows
    response = client.get(reverse("portal:statistics_export", args=["xlsx"]), query)
    assert response.status_code == 200
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = {(row[0], row[1]): row[2] for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert values[("Candidats présentés", "Ensemble")] == 3
    assert values[("Délai de l'inscription au titre", "Médiane (jours)")] == 487
    assert client.get(reverse("portal:statistics_export", args=["pdf"]), query).status_code == 404


@pytest.mark.parametrize("name", ["portal:statistics", "portal:statistics_export"])
def test_only_the_office_sees_the_statistics(
    request, client, login, name, referential, trainer, jury_member, candidate_user, outsider
):
    url = reverse(name, args=["csv"] if name.endswith("export") else [])
    anonymous = client.get(url)
    assert (anonymous.status_code, anonymous.url) == (302, f"/connexion/?next={url}")
    for person in (trainer, jury_member, candidate_user, outsider):
        assert login(person).get(url).status_code == 403
    assert login(request.getfixturevalue("admin_user")).get(url).status_code == 200


def test_the_statistics_take_a_fixed_number_of_queries(
    world, login, admin_user, referential, cohort, django_capture_on_commit_callbacks
):
    client = login(admin_user)
    url = reverse("portal:statistics")
    query = {"version": referential.pk, "annee": 2027}
    with CaptureQueriesContext(connection) as few:
        assert client.get(url, query).status_code == 200
    with CaptureQueriesContext(connection) as few_csv:
        response = client.get(reverse("portal:statistics_export", args=["csv"]), query)
        b"".join(response.streaming_content)
    # More candidates, more decisions, more titles: the same number of queries.
    bulk_enrol(cohort, 50, 3000)
    published, _ = world
    decisions = list(published.decisions.filter(enrolment__candidate__birth_name="Petit"))
    for enrolment in cohort.enrolments.filter(candidate__birth_name__startswith="Masse"):
        for decision in decisions:
            decision.pk = None
            decision.enrolment = enrolment
            decision.save()
    more = Certificate.objects.get()
    for enrolment in list(cohort.enrolments.filter(candidate__birth_name__startswith="Masse"))[:5]:
        more.pk = None
        more.enrolment, more.candidate = enrolment, enrolment.candidate
        more.number = more.verification_code = f"X-{enrolment.pk}"
        more.sequence += 1000 + enrolment.pk
        more.save()
    assert statistics.figures(referential, 2027).titles == 6
    with CaptureQueriesContext(connection) as many:
        assert client.get(url, query).status_code == 200
    with CaptureQueriesContext(connection) as many_csv:
        response = client.get(reverse("portal:statistics_export", args=["csv"]), query)
        b"".join(response.streaming_content)
    assert len(many) == len(few)
    assert len(many_csv) == len(few_csv)
