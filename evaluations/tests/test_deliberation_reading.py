"""How the deliberation table is read: the scope of every row without a score
(DeliberationScope), the version's structure in one query, and the exact
comparison of a mean with the passing mark, fast for a score's few digits and
still exact beyond them."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from blocks.models import Bloc
from candidates.models import Enrolment
from candidates.services import enrol
from candidates.tests.factories import make_candidate
from evaluations.deliberations import open_deliberation
from evaluations.results import Rules, criterion_result
from evaluations.standings import (
    bloc_structure,
    deliberation_scope,
    deliberation_table,
    due_decisions,
)
from evaluations.tests.factories import decide_as_proposed

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_optional_blocs(referential):
    """Blocs 3 and 4 optional: a candidate may choose none, one or both."""
    Bloc.objects.filter(certification_version=referential, number=3).update(optional=True)
    return {b.number: b for b in referential.blocs.all()}


def test_the_scope_agrees_with_the_table_whatever_the_optional_blocs_chosen(
    two_optional_blocs, jury, cohort, scored, second_jury_member
):
    blocs = two_optional_blocs
    for number, chosen in ((300, []), (301, [blocs[3]]), (302, [blocs[3], blocs[4]])):
        enrol(
            make_candidate(number),
            cohort,
            access_route=Enrolment.AccessRoute.VAE,
            optional_blocs=chosen,
            by=None,
        )
    deliberation = open_deliberation(jury, cohort, by=None, added_blocs=[blocs[2], blocs[4]])
    decide_as_proposed(deliberation, scored, second_jury_member)

    table = deliberation_table(deliberation)
    scope = deliberation_scope(deliberation)
    assert [enrolment_id for enrolment_id, _ in scope.enrolments] == [
        row.enrolment.pk for row in table
    ]
    assert due_decisions(deliberation) == {
        row.enrolment.pk: {
            cell.bloc.pk: cell.decision.decision if cell.decision else None
            for cell in row.cells
            if cell.due
        }
        for row in table
    }
    both = next(row for row in table if row.enrolment.candidate.birth_name == "Nom302")
    assert [cell.state for cell in both.cells] == ["not_presented", "due", "not_presented", "due"]
    # A page's rows, read with the scope already known, are the table's rows.
    some = [row.enrolment.pk for row in table[1:3]]
    page = deliberation_table(deliberation, among=some, scope=scope)
    assert [(row.enrolment, row.cells) for row in page] == [
        (row.enrolment, row.cells) for row in table[1:3]
    ]


def test_the_scope_is_read_in_as_many_queries_for_more_candidates(
    two_optional_blocs, jury, cohort, scored
):
    def queries():
        deliberation = open_deliberation(jury, cohort, by=None)
        with CaptureQueriesContext(connection) as captured:
            deliberation_scope(deliberation).due_decisions()
        deliberation.delete()
        return len(captured)

    few = queries()
    for number in range(300, 306):
        enrol(
            make_candidate(number),
            cohort,
            access_route=Enrolment.AccessRoute.VAE,
            optional_blocs=[two_optional_blocs[3], two_optional_blocs[4]][: number % 3],
            by=None,
        )
    assert queries() == few


def test_the_structure_in_one_query_is_the_structure_of_the_blocs(draft_version):
    """In the blocs' order, each competence's criteria in their order, a
    competence without criteria kept (empty): it keeps its bloc from validation."""
    bloc = draft_version.blocs.get(number=2)
    competence = bloc.competences.order_by("order").first()
    bloc.competences.create(
        code="C2.99", order=99, activity=competence.activity, statement="Sans critère"
    )
    blocs = draft_version.blocs.order_by("number").prefetch_related("competences__criteria")
    with CaptureQueriesContext(connection) as captured:
        structure = bloc_structure(draft_version)
    assert len(captured) == 1
    expected = bloc_structure(draft_version, blocs=blocs)
    assert [(b, list(c.items())) for b, c in structure.items()] == [
        (b, list(c.items())) for b, c in expected.items()
    ]
    assert [] in structure[bloc.pk].values()


@pytest.mark.parametrize(
    "values, mark, met",
    [
        # A score's few digits: exact in Decimal arithmetic.
        ([Decimal("1"), Decimal("2"), Decimal("2")], Decimal("1.66"), True),
        ([Decimal("1"), Decimal("2"), Decimal("2")], Decimal("1.67"), False),
        # Beyond what Decimal arithmetic holds exactly: still exact, in fractions.
        ([1, 2, 2], Decimal("1." + "6" * 80), True),
        ([1, 2, 2], Decimal("1." + "6" * 79 + "7"), False),
        ([Decimal("1E+80"), Decimal("-1E+80"), Decimal("1E-80")], Decimal("3E-81"), True),
        ([Decimal("1E+80"), Decimal("-1E+80"), Decimal("1E-80")], Decimal("4E-81"), False),
    ],
)
def test_the_exact_mean_decides_whatever_the_digits(values, mark, met):
    assert criterion_result(1, values, Rules(passing_mark=mark)).met is met
