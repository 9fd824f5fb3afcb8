"""The candidate list and the people list: French order, pages of 50 keeping
the search, a constant number of queries per page."""

import pytest
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from candidates.tests.factories import bulk_enrol, make_candidate, make_user
from core import roles

pytestmark = pytest.mark.django_db

CANDIDATES = reverse("candidates:candidates")
PEOPLE = reverse("core:people")
FRENCH_ORDER = ["Celik", "Çelik", "Écuyer", "Eddy", "Périer", "Perrin"]


def names(response):
    return [c.birth_name for c in response.context["page"]]


def test_candidates_in_french_order(login, admin_user):
    for number, name in enumerate(reversed(FRENCH_ORDER)):
        make_candidate(number, birth_name=name)
    assert names(login(admin_user).get(CANDIDATES)) == FRENCH_ORDER


def test_candidate_pages_keep_the_search_in_constant_queries(login, admin_user, cohort):
    client = login(admin_user)
    bulk_enrol(cohort, 3, start=1)
    client.get(CANDIDATES, {"q": "Masse"})
    with CaptureQueriesContext(connection) as few:
        assert client.get(CANDIDATES, {"q": "Masse"}).status_code == 200
    bulk_enrol(cohort, 120, start=100)
    with CaptureQueriesContext(connection) as many:
        second = client.get(CANDIDATES, {"q": "Masse", "page": 2})
    assert len(many) == len(few)
    assert len(second.context["page"]) == 50
    assert "?q=Masse&amp;page=3" in second.content.decode()


def test_people_in_french_order_and_pages(login, admin_user):
    User = get_user_model()
    for n, name in enumerate(FRENCH_ORDER):
        make_user(f"p{n}", roles.TRAINER, last_name=name)
    client = login(admin_user)
    assert [p.last_name for p in client.get(PEOPLE).context["page"]] == FRENCH_ORDER
    with CaptureQueriesContext(connection) as few:
        client.get(PEOPLE)
    for n in range(60):
        make_user(f"j{n:02d}", roles.JURY_MEMBER, last_name=f"Zz{n:02d}")
    with CaptureQueriesContext(connection) as many:
        second = client.get(PEOPLE, {"page": 2})
    assert [p.last_name for p in second.context["page"]] == [f"Zz{n:02d}" for n in range(44, 60)]
    assert len(many) == len(few)
    assert User.objects.count() == 67


def test_who_may_read_the_lists(login, admin_user, trainer, candidate):
    for url in (CANDIDATES, PEOPLE):
        response = Client().get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))
        assert login(admin_user).get(url, {"page": "x²"}).status_code == 200
    assert login(candidate.user).get(PEOPLE).status_code == 403
    assert login(trainer).get(PEOPLE).status_code == 403
    assert names(login(trainer).get(CANDIDATES)) == ["Petit"]  # their promotion only
