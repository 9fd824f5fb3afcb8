"""Concurrent saves over real connections: only meaningful on PostgreSQL, where
rows are locked; CI runs the suite there too."""

import pytest
from django.db import connection

from evaluations.models import Grid, Score
from evaluations.sessions import CriterionEntry, StaleGrid, modality_criteria, save_grid
from evaluations.tests.factories import at_once

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks need PostgreSQL (run in CI)"
    ),
]


def saving(assessment, assessor, value, *, revision=0):
    entries = {c.pk: CriterionEntry(value) for c in modality_criteria(assessment.session.modality)}
    return lambda: save_grid(
        assessment, assessor=assessor, revision=revision, entries=entries, overall_comment=""
    )


def test_two_assessors_saving_at_the_same_moment_both_persist(
    oral_session, jury_member, second_jury_member
):
    assessment = oral_session.assessments.get()
    outcomes = at_once(
        saving(assessment, jury_member, 2), saving(assessment, second_jury_member, 3)
    )
    assert all(isinstance(outcome, Grid) for outcome in outcomes), outcomes
    stored = {
        grid.assessor_id: set(grid.scores.values_list("value", flat=True))
        for grid in Grid.objects.filter(assessment=assessment)
    }
    assert stored == {jury_member.pk: {2}, second_jury_member.pk: {3}}


@pytest.mark.parametrize("existing", [False, True], ids=["new-grid", "existing-grid"])
def test_the_same_grid_saved_twice_at_once_never_silently_overwrites(
    oral_session, jury_member, existing
):
    assessment = oral_session.assessments.get()
    revision = 0
    if existing:
        revision = saving(assessment, jury_member, 1)().revision
    outcomes = at_once(
        saving(assessment, jury_member, 2, revision=revision),
        saving(assessment, jury_member, 3, revision=revision),
    )
    winners = [outcome for outcome in outcomes if isinstance(outcome, Grid)]
    losers = [outcome for outcome in outcomes if isinstance(outcome, StaleGrid)]
    assert len(winners) == 1 and len(losers) == 1, outcomes
    grid = Grid.objects.get(assessment=assessment, assessor=jury_member)
    assert grid.revision == revision + 1
    winning_value = 2 if outcomes[0] is winners[0] else 3
    assert set(Score.objects.filter(grid=grid).values_list("value", flat=True)) == {winning_value}
