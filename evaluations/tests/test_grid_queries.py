"""One autosave of a grid (a fetch POST to the grid view) stays within a fixed,
small number of queries, written or oral, and writes what it always wrote."""

from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.audit import Action
from core.models import AuditEvent
from evaluations.models import Grid, Score
from evaluations.tests.factories import criteria_of

pytestmark = pytest.mark.django_db

# Measured before issue 17: 27 to 31 (written), 32 to 37 (oral). Counted as in
# production: the savepoints of the test's transaction are left out (there,
# BEGIN and COMMIT, which Django does not count).
AUTOSAVE_QUERIES = 15


def round_trips(queries):
    return [q["sql"] for q in queries if "SAVEPOINT" not in q["sql"]]


def autosave(client, assessment, values, *, revision, comments=None, overall=""):
    data = {"revision": revision, "overall_comment": overall, "save": "1"}
    for criterion in criteria_of(assessment.session):
        value = values.get(criterion.pk)
        if value is not None:
            data[f"value_{criterion.pk}"] = str(value)
        data[f"comment_{criterion.pk}"] = (comments or {}).get(criterion.pk, "")
    with CaptureQueriesContext(connection) as queries:
        response = client.post(
            reverse("evaluations:grid", args=[assessment.pk]),
            data,
            headers={"X-Requested-With": "fetch"},
        )
    return response, queries


def events(grid):
    return list(
        AuditEvent.objects.filter(object_id=str(grid.pk), content_type__model="grid")
        .order_by("pk")
        .values_list("action", "object_repr", "data")
    )


@pytest.mark.parametrize("kind", ["written", "oral"])
def test_an_autosave_stays_within_its_queries_and_writes_the_same(
    request, login, kind, trainer, jury_member
):
    session = request.getfixturevalue(f"{kind}_session")
    assessor = trainer if kind == "written" else jury_member
    assessment = session.assessments.select_related("enrolment__candidate").get()
    first, second, *_ = criteria_of(session)
    client = login(assessor)
    client.get(reverse("evaluations:grid", args=[assessment.pk]))

    # The first keystroke creates the grid; the next ones change one value each.
    response, created = autosave(client, assessment, {first.pk: 2}, revision=0)
    assert response.json() == {"revision": 1, "status": "draft"}, response.content
    response, changed = autosave(
        client,
        assessment,
        {first.pk: 2, second.pk: 1},
        revision=1,
        comments={second.pk: " Hésite encore "},
    )
    assert response.json() == {"revision": 2, "status": "draft"}
    response, commented = autosave(
        client,
        assessment,
        {first.pk: 3, second.pk: 1},
        revision=2,
        comments={second.pk: "Hésite encore"},
        overall="À revoir",
    )
    assert response.json() == {"revision": 3, "status": "draft"}
    counts = [len(round_trips(q)) for q in (created, changed, commented)]
    assert max(counts) <= AUTOSAVE_QUERIES, counts

    grid = Grid.objects.get(assessment=assessment, assessor=assessor)
    assert (grid.revision, grid.status, grid.overall_comment) == (3, "draft", "À revoir")
    assert {s.criterion_id: (s.value, s.comment) for s in Score.objects.filter(grid=grid)} == {
        first.pk: (Decimal(3), ""),
        second.pk: (Decimal(1), "Hésite encore"),
    }
    candidate = assessment.enrolment.candidate
    label = (
        f"Grille de {assessor} · {candidate} · {session.modality.code} {session.modality.title}"
        f" · {session.cohort} · {session.date:%d/%m/%Y}"
    )
    assert events(grid) == [
        (
            Action.SCORE_CHANGED,
            label,
            {"criterion": first.pk, "competence": first.competence.code, "old": None, "new": "2"},
        ),
        (
            Action.SCORE_CHANGED,
            label,
            {
                "criterion": second.pk,
                "competence": second.competence.code,
                "old": None,
                "new": "1",
                "old_comment": "",
                "new_comment": "Hésite encore",
            },
        ),
        (
            Action.SCORE_CHANGED,
            label,
            {"criterion": first.pk, "competence": first.competence.code, "old": "2", "new": "3"},
        ),
        (Action.GRID_COMMENT_CHANGED, label, {"old": "", "new": "À revoir"}),
    ]
