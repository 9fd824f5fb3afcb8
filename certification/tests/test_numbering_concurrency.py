"""Issuing at the same moment over real connections: PostgreSQL only (row
locks); CI runs the suite there too."""

import pytest
from django.db import connection
from django.utils import timezone

from candidates.models import Enrolment
from candidates.services import enrol
from candidates.tests.factories import make_candidate
from certification.models import Certificate
from certification.services import issue_bloc_certificate
from evaluations.deliberations import open_deliberation, record_decision, sign_minutes
from evaluations.models import BlocDecision
from evaluations.tests.factories import at_once, sit_bloc

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks need PostgreSQL (run in CI)"
    ),
]


def test_concurrent_issues_get_consecutive_numbers(
    mentions, cohort, candidate, trainer, jury, jury_member, second_jury_member
):
    for number in range(6):
        enrol(make_candidate(300 + number), cohort, access_route=Enrolment.AccessRoute.VAE, by=None)
    sit_bloc(cohort, 3, 3, trainer=trainer, jury=jury)
    deliberation = open_deliberation(jury, cohort, by=None)
    bloc3 = cohort.certification_version.blocs.get(number=3)
    for enrolment in cohort.enrolments.all():
        for bloc in cohort.certification_version.blocs.filter(optional=False):
            record_decision(
                deliberation,
                enrolment=enrolment,
                bloc=bloc,
                decision=(
                    BlocDecision.Decision.VALIDATED
                    if bloc == bloc3
                    else BlocDecision.Decision.NOT_VALIDATED
                ),
                user=second_jury_member,
            )
    sign_minutes(deliberation, user=second_jury_member)
    sign_minutes(deliberation, user=jury_member)
    decisions = list(deliberation.decisions.filter(bloc=bloc3))
    assert len(decisions) == 7

    outcomes = at_once(*[lambda d=d: issue_bloc_certificate(d, by=None) for d in decisions[1:]])
    assert all(isinstance(outcome, Certificate) for outcome in outcomes), outcomes
    # The same bloc issued twice at once: one certificate, one refusal.
    twice = at_once(*[lambda: issue_bloc_certificate(decisions[0], by=None)] * 2)
    assert sorted(type(outcome).__name__ for outcome in twice) == [
        "Certificate",
        "ValidationError",
    ]
    winner = next(outcome for outcome in twice if isinstance(outcome, Certificate))
    refusal = next(outcome for outcome in twice if not isinstance(outcome, Certificate))
    assert refusal.messages == [
        f"Un certificat valide existe déjà pour ce bloc : n° {winner.number}."
    ]
    year = timezone.localdate().year
    assert sorted(Certificate.objects.values_list("sequence", flat=True)) == list(range(1, 8))
    assert sorted(Certificate.objects.values_list("number", flat=True)) == [
        f"AP-{year}-{n:05d}" for n in range(1, 8)
    ]
