import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from candidates import roles
from candidates.services import withdraw
from candidates.tests.factories import bulk_enrol
from certification.models import Certificate
from certification.services import (
    issue_bloc_certificate,
    reissue_certificate,
    withdrawn_certificates,
)
from certification.tests.factories import issued
from evaluations.deliberations import record_decision, rectify
from evaluations.models import BlocDecision
from evaluations.tests.factories import open_session, sign_all

pytestmark = pytest.mark.django_db


def test_a_bloc_withdrawn_by_a_rectifying_pv_is_flagged_then_revoked(
    client,
    login,
    decision,
    signed,
    candidate,
    admin_user,
    jury_member,
    second_jury_member,
    django_capture_on_commit_callbacks,
):
    certificate = issued(decision, django_capture_on_commit_callbacks)
    correction = rectify(signed, reason="Fraude constatée", user=jury_member)
    record_decision(
        correction,
        enrolment=decision.enrolment,
        bloc=decision.bloc,
        decision=BlocDecision.Decision.NOT_VALIDATED,
        justification="Fraude constatée.",
        user=second_jury_member,
    )
    assert not withdrawn_certificates().exists()  # the original PV is still in force
    sign_all(correction, jury_member, second_jury_member, django_capture_on_commit_callbacks)
    assert list(withdrawn_certificates()) == [certificate]
    page = client.get(certificate.get_verification_url()).content.decode()
    assert "Certificat en cours de révocation" in page and "Certificat valide" not in page
    with pytest.raises(ValidationError, match="ne se réédite pas"):
        reissue_certificate(certificate, by=admin_user)
    office = login(admin_user)
    assert certificate.number in office.get(reverse("certification:certificates")).content.decode()
    office.post(reverse("certification:revoke_withdrawn"))
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.REVOKED
    assert "procès-verbal rectificatif" in certificate.revocation_reason


def test_no_certificate_for_a_withdrawn_candidate(decision, admin_user):
    withdraw(decision.enrolment, reason="Abandon", by=admin_user)
    with pytest.raises(ValidationError, match="retiré"):
        issue_bloc_certificate(decision, by=admin_user)
    assert not Certificate.objects.exists()


def test_bad_public_and_office_input_gets_no_500(client, login, admin_user, decision):
    response = client.get(reverse("certification:verify_form"), {"code": "../etc/passwd"})
    assert response.status_code == 200
    assert "ne contient que des lettres" in response.content.decode()
    assert (
        login(admin_user)
        .post(reverse("certification:print_start"), {"deliberation": "abc"})
        .status_code
        == 404
    )


def test_a_revoked_certificate_is_no_longer_downloadable_by_its_holder(
    login, decision, admin_user, candidate_user, django_capture_on_commit_callbacks
):
    from certification.services import revoke_certificate

    certificate = issued(decision, django_capture_on_commit_callbacks)
    revoke_certificate(certificate, reason="Erreur", by=admin_user)
    url = reverse("certification:certificate_pdf", args=[certificate.number])
    assert login(candidate_user).get(url).status_code == 404
    assert login(admin_user).get(url).status_code == 200


def test_a_pdf_whose_rendering_failed_is_produced_on_download(
    login, decision, candidate_user, admin_user
):
    certificate = issue_bloc_certificate(decision, by=admin_user)  # on_commit never ran here
    assert not Certificate.objects.get(pk=certificate.pk).pdf
    response = login(candidate_user).get(
        reverse("certification:certificate_pdf", args=[certificate.number])
    )
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert Certificate.objects.get(pk=certificate.pk).pdf


def test_my_space_for_a_candidate_who_is_also_a_trainer(login, candidate, candidate_user):
    candidate_user.groups.add(roles.group(roles.TRAINER))
    page = login(candidate_user).get(reverse("candidates:my_space"))
    assert page.status_code == 200 and candidate.full_name in page.content.decode()


def test_certificate_office_page_queries_do_not_grow_with_candidates(
    login, signed, cohort, admin_user, second_jury_member
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client = login(admin_user)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("certification:certificates")).status_code == 200
        return len(queries)

    few = count()
    bulk_enrol(cohort, 40, 5000)
    bloc1 = cohort.certification_version.blocs.get(number=1)
    BlocDecision.objects.bulk_create(
        BlocDecision(
            deliberation=signed,
            enrolment=enrolment,
            bloc=bloc1,
            proposed_validated=True,
            decision=BlocDecision.Decision.VALIDATED,
            decided_by=second_jury_member,
        )
        for enrolment in cohort.enrolments.filter(candidate__birth_name__startswith="Masse")
    )
    page = client.get(reverse("certification:certificates")).content.decode()
    assert page.count("· bloc 1") >= 41
    assert count() == few


def test_a_jury_never_scores_a_written_session(cohort, candidate, trainer, jury):

    with pytest.raises(ValidationError, match="Un jury ne note que les épreuves orales"):
        open_session("M2.1", cohort, [trainer], jury=jury)
