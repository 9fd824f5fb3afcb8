"""Scored candidates and open deliberations: fixtures shared by the tests of
every app above evaluations (loaded by the root conftest.py)."""

import pytest

from evaluations.deliberations import open_deliberation
from evaluations.tests.factories import sit_bloc


@pytest.fixture
def scored(cohort, candidate, trainer, jury):
    """Emma passes blocs 1 and 3 and fails bloc 2; she did not choose bloc 4."""
    sit_bloc(cohort, 1, 2, trainer=trainer, jury=jury)
    sit_bloc(cohort, 2, 1, trainer=trainer, jury=jury)
    sit_bloc(cohort, 3, 3, trainer=trainer, jury=jury)
    return candidate.enrolments.get()


@pytest.fixture
def deliberation(jury, cohort, scored):
    return open_deliberation(jury, cohort, by=None)
