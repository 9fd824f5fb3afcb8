"""The session page in pages of 50 candidates, the presence buttons bringing
the user back to the page they were on."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from candidates.tests.factories import bulk_enrol, make_user
from core import roles
from evaluations.models import Assessment
from evaluations.sessions import replace_assessor
from evaluations.tests.factories import fill, open_session

pytestmark = pytest.mark.django_db


@pytest.fixture
def large_session(cohort, candidate, trainer):
    bulk_enrol(cohort, 60, start=1000)
    return open_session("M2.1", cohort, [trainer])


def rows(page):
    return page.content.decode().count('name="present"')


def test_the_session_page_shows_50_candidates_a_page(login, large_session, trainer):
    client = login(trainer)
    url = large_session.get_absolute_url()
    client.get(url, {"page": 2})  # the frozen structure is read once per process (blocks.frozen)

    with CaptureQueriesContext(connection) as first_queries:
        first = client.get(url)
    with CaptureQueriesContext(connection) as second_queries:
        second = client.get(url, {"page": 2})

    assert (rows(first), rows(second)) == (50, 11)
    assert "Page 1 sur 2 (61 au total)" in first.content.decode()
    assert "Masse1000 Prénom1000" in first.content.decode()
    assert "Petit Emma Louise" in second.content.decode()  # after the Masse, in French order
    assert len(first_queries) == len(second_queries)


def test_a_presence_change_comes_back_to_its_page(login, large_session, trainer):
    client = login(trainer)
    emma = large_session.assessments.get(enrolment__candidate__birth_name="Petit")

    response = client.post(reverse_presence(emma), {"present": "0", "page": "2"})

    assert response.status_code == 302
    assert response.url == f"{large_session.get_absolute_url()}?page=2"
    assert Assessment.objects.get(pk=emma.pk).present is False


@pytest.mark.parametrize("data", [{"present": "oui"}, {}, {"present": "1", "page": "²"}])
def test_a_malformed_presence_change_is_refused_and_changes_nothing(
    login, large_session, trainer, data
):
    client = login(trainer)
    emma = large_session.assessments.get(enrolment__candidate__birth_name="Petit")

    response = client.post(reverse_presence(emma), data, follow=True)

    assert response.redirect_chain == [(large_session.get_absolute_url(), 302)]
    assert "Présence non modifiée : la demande est incomplète ou erronée." in (
        response.content.decode()
    )
    assert Assessment.objects.get(pk=emma.pk).present is True


def reverse_presence(assessment):
    return reverse("evaluations:presence", args=[assessment.pk])


def test_a_lead_who_does_not_mark_a_candidate_reaches_their_synthesis(
    login, cohort, candidate, trainer, other_trainer, admin_user
):
    """The lead handed in Emma's grid, then fell ill: their replacement leads
    the session without marking Emma, and reads her synthesis at once."""
    session = open_session("M2.1", cohort, [trainer, other_trainer], lead=other_trainer)
    emma = session.assessments.get()
    fill(emma, other_trainer, 3, submit=True)
    newcomer = make_user("formateur3", roles.TRAINER)
    replace_assessor(
        session, replaced=other_trainer, replacement=newcomer, reason="Malade.", by=admin_user
    )
    client = login(newcomer)

    page = client.get(session.get_absolute_url()).content.decode()

    assert "notée par l'évaluateur remplacé" in page
    synthesis = reverse("evaluations:synthesis", args=[emma.pk])
    assert f'<a href="{synthesis}">Synthèse</a>' in page
    assert client.get(synthesis).status_code == 200
    # The other assessor marks Emma: no synthesis before their own grid is in.
    page = login(trainer).get(session.get_absolute_url()).content.decode()
    assert synthesis not in page


def test_the_rows_escape_names_and_show_each_grid_state(
    login, cohort, candidate, trainer, other_trainer
):
    """The rows written in Python (templatetags.session_rows) escape what people typed."""
    from candidates.services import enrol
    from candidates.tests.factories import make_candidate

    enrol(make_candidate(7, birth_name="<b>Gras</b>"), cohort, access_route="vae", by=None)
    session = open_session("M2.1", cohort, [trainer, other_trainer], lead=trainer)
    handed_in, drafted = session.assessments.order_by("pk")[:2]
    fill(handed_in, trainer, 2, submit=True)
    fill(drafted, other_trainer, 2)

    page = login(trainer).get(session.get_absolute_url()).content.decode()

    assert "&lt;b&gt;Gras&lt;/b&gt;" in page and "<b>Gras</b>" not in page
    assert page.count('<span class="badge text-bg-success">remise</span>') == 1
    assert page.count("3 / 3") == 1  # the colleague's draft, in their column
    assert page.count(">à noter</a>") == session.assessments.count() - 1


def test_the_plan_can_be_changed_by_the_office_until_a_grid_is_handed_in(
    login, written_session, admin_user, trainer
):
    edit = reverse("evaluations:session_edit", args=[written_session.pk])
    url = written_session.get_absolute_url()
    assert edit in login(admin_user).get(url).content.decode()
    assert edit not in login(trainer).get(url).content.decode()

    fill(written_session.assessments.get(), trainer, 2, submit=True)

    assert edit not in login(admin_user).get(url).content.decode()
