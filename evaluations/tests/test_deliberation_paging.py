"""The deliberation table in pages of 25 rows, filtered to the decisions still
missing or opened on one candidate's row: the page computes its own rows only,
in a number of queries and a size that do not grow with the cohort."""

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from blocks.models import Bloc
from candidates.models import Enrolment
from candidates.tests.factories import bulk_enrol
from evaluations.deliberations import open_deliberation
from evaluations.models import BlocDecision
from evaluations.standings import (
    deliberation_table,
    due_decisions,
    frozen_table,
    missing_decisions,
    shown_table,
)
from evaluations.tests.factories import bloc, decide_as_proposed, sign_all
from evaluations.views.deliberations import ROWS_PER_PAGE

pytestmark = pytest.mark.django_db

ROW = re.compile(r'<tr id="row-(\d+)">')


@pytest.fixture
def crowded(jury, cohort, scored):
    """Emma (scored) and `more` candidates without scores, blocs 1 to 3 added by
    the office: every row has a proposal and a decision form on each of them."""

    def make(more, *, start=500):
        bulk_enrol(cohort, more, start)
        return deliberation_of(jury, cohort)

    return make


def deliberation_of(jury, cohort):
    blocs = Bloc.objects.filter(
        certification_version=cohort.certification_version, number__in=(1, 2, 3)
    )
    return open_deliberation(jury, cohort, by=None, added_blocs=list(blocs))


def rows_of(page):
    return [int(pk) for pk in ROW.findall(page)]


def get(client, url, **params):
    response = client.get(url, params)
    assert response.status_code == 200
    return response.content.decode()


class TestPages:
    def test_the_pages_together_are_the_whole_table_in_its_order(self, login, crowded, jury_member):
        deliberation = crowded(60)
        client = login(jury_member)
        url = deliberation.get_absolute_url()
        pages = [rows_of(get(client, url, page=n)) for n in (1, 2, 3)]
        assert [len(rows) for rows in pages] == [25, 25, 11]
        whole = [row.enrolment.pk for row in deliberation_table(deliberation)]
        assert [pk for rows in pages for pk in rows] == whole
        assert "Page 2 sur 3 (61 au total)" in get(client, url, page=2)
        # Past the end: the last page; nonsense: the first.
        assert rows_of(get(client, url, page=99)) == pages[2]
        assert rows_of(get(client, url, page="²")) == pages[0]

    def test_a_page_shows_the_same_rows_as_the_whole_table(self, crowded):
        deliberation = crowded(30)
        some = [e.pk for e in deliberation.cohort.enrolments.order_by("pk")[5:12]]
        whole = shown_table(deliberation)["rows"]
        page = frozen_table(deliberation, deliberation_table(deliberation, among=some))
        assert page["rows"] == [row for row in whole if row["enrolment"] in some]

    def test_missing_only_lists_the_rows_still_to_decide(
        self, login, crowded, jury_member, second_jury_member
    ):
        deliberation = crowded(30)
        decided = list(Enrolment.objects.filter(cohort=deliberation.cohort).order_by("pk")[:4])
        for enrolment in decided:
            decide_as_proposed(deliberation, enrolment, second_jury_member)
        client = login(jury_member)
        page = get(client, deliberation.get_absolute_url(), manquantes="1")
        missing = {enrolment.pk for enrolment, _ in missing_decisions(deliberation)}
        assert set(rows_of(page)) <= missing and len(missing) == 31 - 4
        assert not {e.pk for e in decided} & set(rows_of(page))
        assert "Page 1 sur 2 (27 au total)" in page
        assert 'href="?manquantes=1&amp;page=2"' in page  # the filter kept from page to page
        assert 'name="manquantes" value="1" id="id_manquantes" checked' in page
        # The totals are the whole table's, whatever the filter.
        assert "<td>31 · " in page

    def test_due_decisions_agree_with_the_table(self, crowded, second_jury_member):
        deliberation = crowded(12)
        first = Enrolment.objects.filter(cohort=deliberation.cohort).order_by("pk").first()
        decide_as_proposed(deliberation, first, second_jury_member)
        due = due_decisions(deliberation)
        table = deliberation_table(deliberation)
        assert list(due) == [row.enrolment.pk for row in table]
        assert due == {
            row.enrolment.pk: {
                cell.bloc.pk: cell.decision.decision if cell.decision else None
                for cell in row.cells
                if cell.due
            }
            for row in table
        }

    def test_one_candidates_row_on_its_own_page(
        self, login, crowded, jury_member, scored, referential
    ):
        deliberation = crowded(30)
        client = login(jury_member)
        url = deliberation.get_absolute_url()
        # Petit sorts after the 30 Masse: on page 2.
        assert f'href="?candidat={scored.pk}"' in get(client, url, page=2)
        page = get(client, url, candidat=scored.pk)
        assert rows_of(page) == [scored.pk]
        assert f'id="row-form-{scored.pk}"' in page
        assert "Tout le tableau" in page
        other = Enrolment.objects.exclude(cohort=deliberation.cohort).values_list("pk", flat=True)
        for wrong in ["999999", *[str(pk) for pk in other][:1]]:
            assert client.get(url, {"candidat": wrong}).status_code == 404
        # Not a number: the whole table.
        assert len(rows_of(get(client, url, candidat="x"))) == 25

    def test_saving_a_row_comes_back_to_the_same_page_and_filter(
        self, login, crowded, jury_member, scored
    ):
        deliberation = crowded(30)
        client = login(jury_member)
        decide = reverse("evaluations:decide", args=[deliberation.pk])
        row = {
            "enrolment": scored.pk,
            **{f"decision_{bloc(scored, n).pk}": "validated" for n in (1, 3)},
            f"decision_{bloc(scored, 2).pk}": "not_validated",
        }
        page = get(client, deliberation.get_absolute_url(), manquantes="1", page="2")
        assert 'name="retour" value="manquantes=1&amp;page=2"' in page
        saved = client.post(decide, {**row, "retour": "manquantes=1&page=2"})
        assert saved.url == f"{deliberation.get_absolute_url()}?manquantes=1&page=2#row-{scored.pk}"
        assert deliberation.decisions.filter(enrolment=scored).count() == 3
        # Whatever else comes back is dropped: only the filters, read again.
        for junk in ("//ailleurs.example/", "page=0&x=<b>", "candidat=abc"):
            saved = client.post(decide, {**row, "retour": junk})
            assert saved.url == f"{deliberation.get_absolute_url()}#row-{scored.pk}"
        adopted = client.post(
            reverse("evaluations:adopt", args=[deliberation.pk]), {"retour": "page=2"}
        )
        assert adopted.url == f"{deliberation.get_absolute_url()}?page=2"
        assert BlocDecision.objects.filter(deliberation=deliberation).count() == 31 * 3

    def test_a_signed_table_is_paged_and_filtered_too(
        self,
        login,
        crowded,
        jury_member,
        second_jury_member,
        scored,
        django_capture_on_commit_callbacks,
    ):
        deliberation = crowded(30)
        for enrolment in Enrolment.objects.filter(cohort=deliberation.cohort):
            decide_as_proposed(deliberation, enrolment, second_jury_member)
        sign_all(deliberation, jury_member, second_jury_member, django_capture_on_commit_callbacks)
        deliberation.refresh_from_db()
        client = login(jury_member)
        url = deliberation.get_absolute_url()
        first, second = (rows_of(get(client, url, page=n)) for n in (1, 2))
        assert first + second == [row["enrolment"] for row in deliberation.signed_table["rows"]]
        assert rows_of(get(client, url, manquantes="1")) == []
        assert "Aucune décision manquante." in get(client, url, manquantes="1")
        assert rows_of(get(client, url, candidat=scored.pk)) == [scored.pk]
        assert client.get(url, {"candidat": "999999"}).status_code == 404


class TestSize:
    """10 candidates, then 60: as many queries, a page of 25 rows at most."""

    def measure(self, client, deliberation):
        client.get(deliberation.get_absolute_url())  # blocks.frozen reads first
        with CaptureQueriesContext(connection) as queries:
            response = client.get(deliberation.get_absolute_url())
        assert response.status_code == 200
        return len(queries), len(response.content), len(rows_of(response.content.decode()))

    def test_queries_and_size_do_not_grow_with_the_cohort(
        self, login, crowded, jury, cohort, jury_member, admin_user
    ):
        deliberation = crowded(9)
        few = {user: self.measure(login(user), deliberation) for user in (jury_member, admin_user)}
        bulk_enrol(cohort, 24, 600)  # 34 candidates: one full page and more
        full = {user: self.measure(login(user), deliberation) for user in (jury_member, admin_user)}
        bulk_enrol(cohort, 26, 700)  # 60 candidates
        many = {user: self.measure(login(user), deliberation) for user in (jury_member, admin_user)}
        print("measures (queries, bytes, rows)", few, full, many)
        for user in (jury_member, admin_user):
            assert few[user][2] == 10 and full[user][2] == many[user][2] == ROWS_PER_PAGE
            assert few[user][0] == full[user][0] == many[user][0], user
            # From one full page to another: only the counts of the pagination differ.
            assert abs(many[user][1] - full[user][1]) < 200, user
            # 15 rows more than with 10 candidates, each bounded, whatever the cohort.
            assert many[user][1] - few[user][1] < 15 * PER_ROW, user
            assert many[user][1] < 200_000, user


PER_ROW = 4_000  # bytes of one row with a decision form on three blocs
