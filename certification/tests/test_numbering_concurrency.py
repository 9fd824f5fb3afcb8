"""Issuing at the same moment over real connections: PostgreSQL only (row
locks); CI runs the suite there too. The first certificate of a year creates
the year's counter; every later one locks that counter row."""

import time

import pytest
from django.db import connection
from django.utils import timezone

from candidates.models import Enrolment
from candidates.services import enrol
from candidates.tests.factories import make_candidate
from certification.models import Certificate, CertificateCounter
from certification.services import issue_bloc_certificate
from evaluations.deliberations import (
    open_deliberation,
    publish_results,
    record_decision,
    sign_minutes,
)
from evaluations.models import BlocDecision
from evaluations.tests.factories import at_once, sit_bloc

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(
        connection.vendor != "postgresql", reason="row locks need PostgreSQL (run in CI)"
    ),
]


def validated_bloc3_decisions(cohort, trainer, jury, jury_member, second_jury_member, count):
    """`count` candidates of the cohort validated bloc 3 in a published deliberation."""
    for number in range(count - cohort.enrolments.count()):
        enrol(make_candidate(300 + number), cohort, access_route=Enrolment.AccessRoute.VAE, by=None)
    sit_bloc(cohort, 3, 3, trainer=trainer, jury=jury)
    deliberation = open_deliberation(jury, cohort, by=None)
    bloc3 = cohort.certification_version.blocs.get(number=3)
    # Bloc 3 is the only bloc presented: the only one the jury decides.
    for enrolment in cohort.enrolments.all():
        record_decision(
            deliberation,
            enrolment=enrolment,
            bloc=bloc3,
            decision=BlocDecision.Decision.VALIDATED,
            user=second_jury_member,
        )
    sign_minutes(deliberation, user=second_jury_member)
    sign_minutes(deliberation, user=jury_member)
    publish_results(deliberation, by=None)
    return list(deliberation.decisions.filter(bloc=bloc3))


def test_concurrent_issues_get_consecutive_numbers(
    mentions, cohort, candidate, trainer, jury, jury_member, second_jury_member
):
    decisions = validated_bloc3_decisions(
        cohort, trainer, jury, jury_member, second_jury_member, count=7
    )
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


def test_concurrent_issues_continue_the_existing_counter(
    monkeypatch, mentions, cohort, candidate, trainer, jury, jury_member, second_jury_member
):
    year = timezone.localdate().year
    CertificateCounter.objects.create(year=year, last=41)
    decisions = validated_bloc3_decisions(
        cohort, trainer, jury, jury_member, second_jury_member, count=6
    )
    assert len(decisions) == 6
    # Widen the window between reading the counter and writing it back, so that
    # a counter read without its row lock would hand the same rank to everyone.
    save = CertificateCounter.save

    def slow_save(self, *args, **kwargs):
        time.sleep(0.2)
        return save(self, *args, **kwargs)

    monkeypatch.setattr(CertificateCounter, "save", slow_save)

    outcomes = at_once(*[lambda d=d: issue_bloc_certificate(d, by=None) for d in decisions])

    assert all(isinstance(outcome, Certificate) for outcome in outcomes), outcomes
    assert sorted(Certificate.objects.values_list("sequence", flat=True)) == list(range(42, 48))
    assert sorted(Certificate.objects.values_list("number", flat=True)) == [
        f"AP-{year}-{n:05d}" for n in range(42, 48)
    ]
    assert list(CertificateCounter.objects.values_list("year", "last")) == [(year, 47)]
