"""The cohort import is one transaction: a failure midway writes nothing.

Outside the test's own transaction (transaction=True), so that a write the
import committed before failing would be seen here (issue 10, point 3)."""

import datetime

import pytest

from candidates import services
from candidates.importing import SAMPLE_FILE, plan_import
from candidates.models import Candidate, Enrolment
from candidates.services import apply_import
from core.models import AuditEvent

pytestmark = pytest.mark.django_db(transaction=True)


class Midway(Exception):
    """The failure the test provokes in the middle of the import."""


def database_state():
    return {
        "candidates": sorted(Candidate.objects.values_list("pk", "birth_name")),
        "enrolments": sorted(Enrolment.objects.values_list("pk", "candidate_id", "cohort_id")),
        "optional blocs": Enrolment.optional_blocs.through.objects.count(),
        "events": sorted(AuditEvent.objects.values_list("pk", "action")),
    }


@pytest.fixture
def existing(cohort):
    """Léa Martin, a row of the sample file, already known but not in the cohort."""
    return Candidate.objects.create(
        birth_name="Martin",
        first_names="Léa Camille",
        sex=Candidate.Sex.FEMALE,
        birth_date=datetime.date(2004, 3, 14),
        birth_commune="Nantes",
        birth_insee_code="44109",
        email="lea.martin@example.org",
    )


def fail_midway(monkeypatch, name, action, written=3):
    """Make services.<name>, called for `action`, write its first `written`
    events and then raise."""
    original = getattr(services, name)

    def failing(**kwargs):
        if kwargs["action"] != action:
            return original(**kwargs)
        if "targets" in kwargs:
            kwargs["targets"] = kwargs["targets"][:written]
        original(**kwargs)
        raise Midway(action)

    monkeypatch.setattr(services, name, failing)


@pytest.mark.parametrize(
    ("name", "action"),
    [
        pytest.param("record_events", "candidates.enrolment.imported", id="on-the-4th-enrolment"),
        pytest.param("record_event", "candidates.import.applied", id="on-the-last-event"),
    ],
)
def test_an_import_failing_midway_writes_nothing(
    monkeypatch, cohort, existing, admin_user, name, action
):
    content = SAMPLE_FILE.read_bytes()
    plan = plan_import(cohort, SAMPLE_FILE.name, content)
    assert plan.is_valid
    assert (len(plan.to_create), len(plan.to_enrol_existing)) == (11, 1)
    assert any(row.optional_blocs for row in plan.to_create)
    monkeypatch.setattr(services, "INSERT_BATCH", 4)  # several inserts per table
    fail_midway(monkeypatch, name, action)
    before = database_state()

    with pytest.raises(Midway):
        apply_import(cohort, SAMPLE_FILE.name, content, by=admin_user)

    assert database_state() == before
    assert not cohort.enrolments.exists()
