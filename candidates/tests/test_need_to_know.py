"""Need to know: a trainer sees the enrolments of the cohorts they teach, not
those a shared candidate has elsewhere (their cohort, withdrawal reason); the
office and the candidate see them all."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from candidates.models import Cohort, Enrolment
from candidates.services import enrol, withdraw

pytestmark = pytest.mark.django_db

ELSEWHERE = "Promotion du soir"
REASON = "Raison médicale confidentielle"


def another_cohort_of(trainer, version, name, *, start=datetime.date(2026, 10, 1)):
    other = Cohort.objects.create(
        name=name, certification_version=version, start_date=start, end_date=start.replace(2027)
    )
    other.trainers.add(trainer)
    return other


@pytest.fixture
def shared(candidate, cohort, other_trainer):
    """Emma, enrolled in `cohort` (taught by `trainer`) and, withdrawn since,
    in another cohort taught by `other_trainer` only."""
    evening = another_cohort_of(other_trainer, cohort.certification_version, ELSEWHERE)
    enrolment = enrol(candidate, evening, access_route=Enrolment.AccessRoute.VAE, by=None)
    withdraw(enrolment, reason=REASON, by=None)
    return candidate


def page(client, url):
    response = client.get(url)
    assert response.status_code == 200
    return response.content.decode()


def test_a_trainer_sees_only_the_enrolments_of_the_cohorts_they_teach(
    login, shared, trainer, other_trainer
):
    url = reverse("candidates:candidate", args=[shared.pk])
    mine = page(login(trainer), url)
    assert "Promotion 2027" in mine
    assert ELSEWHERE not in mine
    assert REASON not in mine
    assert "Retiré le" not in mine
    theirs = page(login(other_trainer), url)
    assert ELSEWHERE in theirs and REASON in theirs
    assert "Promotion 2027" not in theirs


def test_the_candidate_list_of_a_trainer_names_only_their_cohorts(login, shared, trainer):
    listing = page(login(trainer), reverse("candidates:candidates"))
    assert shared.birth_name in listing
    assert "Promotion 2027" in listing
    assert ELSEWHERE not in listing


def test_the_office_and_the_candidate_see_every_enrolment(
    login, shared, admin_user, candidate_user
):
    for user, url in (
        (admin_user, reverse("candidates:candidate", args=[shared.pk])),
        (candidate_user, reverse("candidates:my_space")),
    ):
        seen = page(login(user), url)
        assert "Promotion 2027" in seen
        assert ELSEWHERE in seen and REASON in seen


def test_the_trainer_pages_cost_the_same_queries_however_many_cohorts_elsewhere(
    login, shared, trainer, other_trainer, cohort
):
    client = login(trainer)
    urls = (reverse("candidates:candidate", args=[shared.pk]), reverse("candidates:candidates"))

    def counts():
        result = []
        for url in urls:
            with CaptureQueriesContext(connection) as queries:
                page(client, url)
            result.append(len(queries))
        return result

    before = counts()
    for number in range(3):
        more = another_cohort_of(
            other_trainer, cohort.certification_version, f"Promotion annexe {number}"
        )
        enrol(shared, more, access_route=Enrolment.AccessRoute.VAE, by=None)
    assert counts() == before
    assert "Promotion annexe" not in page(client, urls[0])
