"""The session list: filters (a form), pages of 50 keeping the filters, the
user's sessions only, as many queries for 120 sessions as for 3."""

import datetime
import html

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from blocks.models import EvaluationModality
from candidates.models import Cohort
from candidates.services import enrol
from candidates.tests.factories import make_candidate
from evaluations.models import ExamSession
from evaluations.tests.factories import open_session

pytestmark = pytest.mark.django_db

URL = reverse("evaluations:sessions")


def make_sessions(cohort, count, *, code="M2.1", status="planned", start=datetime.date(2027, 1, 1)):
    modality = EvaluationModality.objects.get(
        bloc__certification_version=cohort.certification_version, code=code
    )
    return ExamSession.objects.bulk_create(
        ExamSession(
            modality=modality,
            cohort=cohort,
            date=start + datetime.timedelta(days=n),
            place="Salle Lumière",
            status=status,
        )
        for n in range(count)
    )


def another_cohort(cohort, name):
    return Cohort.objects.create(
        name=name,
        certification_version=cohort.certification_version,
        start_date=cohort.start_date,
        end_date=cohort.end_date,
    )


def shown(response):
    return [session.pk for session in response.context["page"]]


def test_the_filters_narrow_the_list(login, admin_user, cohort, trainer):
    other = another_cohort(cohort, "Promotion 2028")
    january = make_sessions(cohort, 3)
    oral = make_sessions(cohort, 1, code="M1.1", start=datetime.date(2027, 2, 1))
    closed = make_sessions(other, 2, status="closed", start=datetime.date(2027, 5, 1))
    client = login(admin_user)
    assert len(shown(client.get(URL))) == 6
    assert set(shown(client.get(URL, {"promotion": other.pk}))) == {s.pk for s in closed}
    bloc1 = oral[0].modality.bloc
    assert shown(client.get(URL, {"bloc": bloc1.pk})) == [oral[0].pk]
    assert set(shown(client.get(URL, {"statut": "closed"}))) == {s.pk for s in closed}
    between = client.get(URL, {"du": "2027-01-02", "au": "2027-02-01"})
    assert shown(between) == [oral[0].pk, january[2].pk, january[1].pk]  # newest first


def test_a_bad_filter_is_left_aside_with_a_message_never_a_500(login, admin_user, cohort):
    make_sessions(cohort, 2)
    response = login(admin_user).get(
        URL,
        {
            "du": "pas une date",
            "promotion": "²",
            "statut": "inconnu",
            "page": "-4",
            "bloc": "9" * 40,
        },
    )
    assert response.status_code == 200
    assert len(shown(response)) == 2
    assert "Saisissez une date valide." in html.unescape(response.content.decode())


def test_pages_of_50_keep_the_filters(login, admin_user, cohort):
    make_sessions(cohort, 60, status="open")
    make_sessions(cohort, 5, status="closed", start=datetime.date(2028, 1, 1))
    client = login(admin_user)
    first = client.get(URL, {"statut": "open"})
    assert len(shown(first)) == 50
    page = first.content.decode()
    assert "?statut=open&amp;page=2" in page
    second = client.get(URL, {"statut": "open", "page": 2})
    assert len(shown(second)) == 10
    assert "?statut=open&amp;page=1" in second.content.decode()
    assert not set(shown(first)) & set(shown(second))
    assert len(shown(client.get(URL, {"statut": "open", "page": 99}))) == 10  # the last page


def test_the_list_takes_as_many_queries_for_120_sessions_as_for_3(login, admin_user, cohort):
    client = login(admin_user)
    make_sessions(cohort, 3)
    client.get(URL)
    with CaptureQueriesContext(connection) as few:
        assert client.get(URL).status_code == 200
    make_sessions(cohort, 117, start=datetime.date(2026, 1, 1))
    with CaptureQueriesContext(connection) as many:
        response = client.get(URL, {"page": 2})
    assert len(shown(response)) == 50
    assert len(many) == len(few)


def test_an_assessor_sees_only_their_sessions_and_promotions(
    client, login, cohort, trainer, other_trainer, candidate, written_session
):
    other = another_cohort(cohort, "Promotion 2028")
    make_sessions(other, 2)
    response = client.get(URL)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert login(candidate.user).get(URL).status_code == 403
    response = login(trainer).get(URL)
    assert response.status_code == 200
    assert shown(response) == [written_session.pk]
    assert list(response.context["filters"].fields["promotion"].queryset) == [cohort]
    assert shown(login(trainer).get(URL, {"promotion": other.pk})) == [written_session.pk]


def test_the_session_page_lists_candidates_in_french_order(login, admin_user, cohort, trainer):
    for number, name in enumerate(["Périer", "Perrin", "Éluard", "Çelik", "Celik", "Zola"]):
        enrol(
            make_candidate(number, birth_name=name), cohort, access_route="apprentissage", by=None
        )
    session = open_session("M1.2", cohort, [trainer])
    page = html.unescape(login(admin_user).get(session.get_absolute_url()).content.decode())
    in_french_order = ("Celik", "Çelik", "Éluard", "Périer", "Perrin", "Zola")
    positions = [page.index(f"{name} Prénom") for name in in_french_order]
    assert positions == sorted(positions)
