"""Grading a whole session: where the assessor stands ("n sur N remises"), the
previous and next candidate, and after a hand-in the next candidate still to
grade, wrapping around, then the session page once all grids are in."""

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from candidates.tests.factories import fill_cohort
from evaluations.models import Grid
from evaluations.navigation import grading_round
from evaluations.sessions import set_presence
from evaluations.tests.factories import criteria_of, fill, open_session

pytestmark = pytest.mark.django_db


def grid_url(assessment):
    return reverse("evaluations:grid", args=[assessment.pk])


def hand_in(client, assessment, value=2):
    data = {"revision": 0, "overall_comment": "", "submit": "1"}
    for criterion in criteria_of(assessment.session):
        data[f"value_{criterion.pk}"] = str(value)
        data[f"comment_{criterion.pk}"] = ""
    return client.post(grid_url(assessment), data)


def told(response):
    return [str(message) for message in get_messages(response.wsgi_request)]


@pytest.fixture
def session(cohort, candidate, trainer):
    """M2.1 (three criteria) for Emma and five more candidates, scored by the trainer."""
    fill_cohort(cohort, 5)
    return open_session("M2.1", cohort, [trainer], lead=trainer)


@pytest.fixture
def assessments(session):
    """In the session page's order (the model's ordering)."""
    return list(session.assessments.all())


class TestTheRound:
    def test_counts_and_neighbours_skip_the_absent(self, login, trainer, assessments):
        first, second, absent, fourth, fifth, sixth = assessments
        set_presence(absent, present=False, by=trainer)
        fill(first, trainer, 2, submit=True)
        fill(fifth, trainer, 3, submit=True)
        fill(fourth, trainer, 1)  # a draft is not handed in
        page = login(trainer).get(grid_url(second))
        html = page.content.decode()
        assert "Candidat 2 sur 5" in html
        assert "2 sur 5 remises" in html
        stops = page.context["round"]
        assert (stops.previous.pk, stops.next.pk, stops.next_to_grade.pk) == (
            first.pk,
            fourth.pk,
            fourth.pk,
        )
        assert f'rel="prev" href="{grid_url(first)}"' in html
        assert f'rel="next" href="{grid_url(fourth)}"' in html
        assert f"Précédent : {first.enrolment.candidate.full_name}" in html
        assert f"Suivant : {fourth.enrolment.candidate.full_name}" in html

    def test_first_and_last_have_one_neighbour(self, trainer, assessments):
        first, *_, last = assessments
        assert grading_round(first, assessor=trainer).previous is None
        assert grading_round(last, assessor=trainer).next is None
        assert grading_round(last, assessor=trainer).previous.pk == assessments[-2].pk

    def test_an_absent_candidate_sits_between_its_neighbours(self, trainer, assessments):
        set_presence(assessments[2], present=False, by=trainer)
        stops = grading_round(assessments[2], assessor=trainer)
        assert stops.position is None and stops.total == 5
        assert (stops.previous.pk, stops.next.pk) == (assessments[1].pk, assessments[3].pk)

    def test_only_the_assessors_own_grids_count(
        self, login, jury_member, second_jury_member, oral_session, cohort
    ):
        fill_cohort(cohort, 2)
        session = open_session(
            "M1.1", cohort, [jury_member, second_jury_member], jury=oral_session.jury
        )
        first, second, third = session.assessments.all()
        fill(second, second_jury_member, 2, submit=True)
        stops = grading_round(first, assessor=jury_member)
        assert stops.handed_in == 0
        assert stops.next_to_grade.pk == second.pk
        assert grading_round(first, assessor=second_jury_member).next_to_grade.pk == third.pk


class TestAfterHandingIn:
    def test_the_next_candidate_still_to_grade_opens(self, login, trainer, assessments):
        first, second, third, fourth, *_ = assessments
        fill(second, trainer, 2, submit=True)
        set_presence(third, present=False, by=trainer)
        client = login(trainer)
        response = hand_in(client, first)
        assert response.status_code == 302
        assert response.url == grid_url(fourth)  # handed in and absent ones skipped
        assert told(response) == [
            f"Grille de {first.enrolment.candidate.full_name} remise. "
            f"Candidat suivant : {fourth.enrolment.candidate.full_name}."
        ]
        assert Grid.objects.get(assessment=first, assessor=trainer).is_submitted
        page = client.get(response.url).content.decode()
        assert "2 sur 5 remises" in page

    def test_it_wraps_around_to_the_first_still_to_grade(self, login, trainer, assessments):
        first, second, *middle, last = assessments
        fill(first, trainer, 2, submit=True)
        for assessment in middle:
            fill(assessment, trainer, 2, submit=True)
        response = hand_in(login(trainer), last)
        assert response.url == grid_url(second)

    def test_the_last_one_leads_back_to_the_session(self, login, trainer, session, assessments):
        *others, last = assessments
        for assessment in others:
            fill(assessment, trainer, 2, submit=True)
        response = hand_in(login(trainer), last)
        assert response.url == session.get_absolute_url()
        assert told(response) == [
            f"Grille de {last.enrolment.candidate.full_name} remise. "
            "Toutes vos grilles sont remises."
        ]

    def test_a_draft_save_stays_on_the_grid(self, login, trainer, assessments):
        data = {"revision": 0, "overall_comment": "", "save": "1"}
        response = login(trainer).post(grid_url(assessments[0]), data)
        assert response.url == grid_url(assessments[0])

    def test_a_refused_hand_in_stays_on_the_grid(self, login, trainer, assessments):
        data = {"revision": 0, "overall_comment": "", "submit": "1"}
        response = login(trainer).post(grid_url(assessments[0]), data)
        assert response.status_code == 400
        assert "Notez tous les critères" in response.content.decode()


def test_an_autosave_refusal_names_its_field(login, trainer, assessments):
    criterion = criteria_of(assessments[0].session)[0]
    response = login(trainer).post(
        grid_url(assessments[0]),
        {"revision": 0, "overall_comment": "", f"value_{criterion.pk}": "9", "save": "1"},
        headers={"X-Requested-With": "fetch"},
    )
    assert response.status_code == 400
    body = response.json()
    assert list(body["errors"]) == [f"value_{criterion.pk}"]
    assert "9" in body["error"]


def test_the_grid_page_is_constant_as_candidates_and_criteria_grow(
    login, trainer, cohort, candidate
):
    """One candidate and three criteria, against 31 candidates (some absent,
    some handed in, some drafts) and fifteen criteria."""

    def count(assessment):
        client = login(trainer)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(grid_url(assessment)).status_code == 200
        return len(queries)

    few = open_session("M2.1", cohort, [trainer]).assessments.get()
    fill(few, trainer, 2)
    small = count(few)

    fill_cohort(cohort, 31)  # each chose bloc 4, Emma did not
    many = list(open_session("M4.3", cohort, [trainer]).assessments.all())
    assert len(many) == 31 and len(criteria_of(many[0].session)) == 15
    for assessment in many[:8]:
        fill(assessment, trainer, 3, submit=True)
    for assessment in many[8:12]:
        fill(assessment, trainer, 1)
    for assessment in many[12:16]:
        set_presence(assessment, present=False, by=trainer)
    fill(many[20], trainer, 2)  # a draft, as the small one
    page = login(trainer).get(grid_url(many[20])).content.decode()
    assert "Candidat 17 sur 27" in page and "8 sur 27 remises" in page
    assert count(many[20]) == small
