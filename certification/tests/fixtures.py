"""Signed and published deliberations and their certificates: fixtures shared
by the certification and portal tests (loaded by the root conftest.py).

`signed` is signed only: nothing of it reaches a certificate, a candidate or
the public. `published`, `decision` and `all_validated` are published."""

import datetime

import pytest

from blocks.models import Bloc
from evaluations.deliberations import open_deliberation, publish_results, record_decision
from evaluations.models import BlocDecision
from evaluations.tests.factories import bloc, decide_as_proposed, sign_all, sit_bloc


@pytest.fixture
def mentions(referential):
    """Every mandatory mention of the certification version filled in."""
    referential.rncp_code = "RNCP99999"
    referential.registration_decision_date = datetime.date(2024, 3, 28)
    referential.national_level = "5"
    referential.european_level = "niveau 5"
    referential.nsf_codes = "323t"
    referential.issue_place = "Paris"
    referential.signatory_name = "Jeanne Delorme"
    referential.signatory_title = "Directrice du CEFPF"
    referential.registration_end_date = datetime.date(2029, 3, 28)
    referential.save()
    # The blocs of a frozen version: their official code only, past the freeze check.
    for each in referential.blocs.all():
        Bloc.objects.filter(pk=each.pk).update(official_code=f"RNCP99999BC{each.number:02d}")
    return referential


@pytest.fixture
def signed(
    mentions,
    cohort,
    candidate,
    trainer,
    jury,
    jury_member,
    second_jury_member,
    django_capture_on_commit_callbacks,
):
    """Emma validated blocs 1 and 3, not bloc 2, in a signed deliberation."""
    sit_bloc(cohort, 1, 2, trainer=trainer, jury=jury)
    sit_bloc(cohort, 2, 1, trainer=trainer, jury=jury)
    sit_bloc(cohort, 3, 3, trainer=trainer, jury=jury)
    deliberation = open_deliberation(jury, cohort, by=None)
    decide_as_proposed(deliberation, candidate.enrolments.get(), second_jury_member)
    return sign_all(
        deliberation, jury_member, second_jury_member, django_capture_on_commit_callbacks
    )


@pytest.fixture
def published(signed, admin_user):
    """The same PV, its results published: certificates may be issued."""
    return publish_results(signed, by=admin_user)


@pytest.fixture
def decision(published):
    """Emma's validated bloc 1, in the published PV."""
    return published.decisions.get(bloc__number=1)


@pytest.fixture
def all_validated(
    published,
    candidate,
    admin_user,
    jury_member,
    second_jury_member,
    django_capture_on_commit_callbacks,
):
    """A rectifying PV, signed and published, where Emma also validates bloc 2:
    the title is due."""
    from evaluations.deliberations import rectify

    correction = rectify(published, reason="Bloc 2 : note mal reportée", user=jury_member)
    enrolment = candidate.enrolments.get()
    record_decision(
        correction,
        enrolment=enrolment,
        bloc=bloc(enrolment, 2),
        decision=BlocDecision.Decision.VALIDATED,
        justification="Note corrigée.",
        user=second_jury_member,
    )
    signed = sign_all(
        correction, jury_member, second_jury_member, django_capture_on_commit_callbacks
    )
    return publish_results(signed, by=admin_user)
