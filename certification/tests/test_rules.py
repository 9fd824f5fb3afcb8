"""A certificate comes only from a signed PV in force (issue 10, point 3), once
its results are published (issue 12)."""

import pytest
from django.core.exceptions import ValidationError

from certification.models import Certificate, CertificateCounter
from certification.services import issue_bloc_certificate, issue_title_certificate
from core.models import AuditEvent
from evaluations.deliberations import open_deliberation, publish_results, sign_minutes
from evaluations.tests.factories import decide_as_proposed, sit_bloc

pytestmark = pytest.mark.django_db

NOT_IN_FORCE = "La décision ne vient pas d'un procès-verbal signé en vigueur."
NOT_PUBLISHED = (
    "Les résultats de ce procès-verbal ne sont pas encore publiés : aucun certificat n'est "
    "délivré avant leur publication."
)
TITLE_NOT_DUE = "Le titre n'est délivré que lorsque tous les blocs obligatoires sont validés."


def assert_nothing_issued():
    assert not Certificate.objects.exists()
    assert not CertificateCounter.objects.exists()  # no number taken either
    assert not AuditEvent.objects.filter(action="certification.certificate.issued").exists()


def test_nothing_is_issued_from_an_open_deliberation(
    mentions,
    cohort,
    candidate,
    trainer,
    jury,
    jury_member,
    second_jury_member,
    django_capture_on_commit_callbacks,
):
    for number in (1, 2, 3):
        sit_bloc(cohort, number, 2, trainer=trainer, jury=jury)
    enrolment = candidate.enrolments.get()
    deliberation = open_deliberation(jury, cohort, by=None)
    decide_as_proposed(deliberation, enrolment, second_jury_member)
    sign_minutes(deliberation, user=second_jury_member)  # signing begun, not closed
    decision = deliberation.decisions.get(bloc__number=1)
    assert decision.is_validated
    assert deliberation.decisions.filter(decision="validated").count() == 3

    with pytest.raises(ValidationError) as refused:
        issue_bloc_certificate(decision, by=None)
    assert refused.value.messages == [NOT_IN_FORCE]
    with pytest.raises(ValidationError) as refused:
        issue_title_certificate(enrolment, by=None)
    assert refused.value.messages == [TITLE_NOT_DUE]
    assert_nothing_issued()

    # Once the president signs, still nothing until the results are published.
    with django_capture_on_commit_callbacks():
        sign_minutes(deliberation, user=jury_member)
    with pytest.raises(ValidationError) as refused:
        issue_bloc_certificate(decision, by=None)
    assert refused.value.messages == [NOT_PUBLISHED]
    with pytest.raises(ValidationError) as refused:
        issue_title_certificate(enrolment, by=None)
    assert refused.value.messages == [
        f"Les résultats du procès-verbal n° {deliberation.pk} ne sont pas encore publiés : "
        "le titre n'est délivré qu'après leur publication."
    ]
    assert_nothing_issued()

    # Published, the same decisions give both certificates.
    publish_results(deliberation, by=None)
    with django_capture_on_commit_callbacks():
        bloc_certificate = issue_bloc_certificate(decision, by=None)
        title = issue_title_certificate(enrolment, by=None)
    assert (bloc_certificate.kind, bloc_certificate.deliberation) == ("bloc", deliberation)
    assert (title.kind, title.deliberation) == ("title", deliberation)


def test_nothing_is_issued_from_a_pv_a_signed_rectification_replaced(
    signed, all_validated, django_capture_on_commit_callbacks
):
    replaced = signed.decisions.get(bloc__number=1)
    assert replaced.is_validated and signed.is_signed

    with pytest.raises(ValidationError) as refused:
        issue_bloc_certificate(replaced, by=None)
    assert refused.value.messages == [NOT_IN_FORCE]
    assert_nothing_issued()

    with django_capture_on_commit_callbacks():
        certificate = issue_bloc_certificate(all_validated.decisions.get(bloc__number=1), by=None)
    assert certificate.deliberation == all_validated
