import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from candidates.services import withdraw
from candidates.tests.factories import bulk_enrol
from certification.models import Certificate, PrintJob
from certification.printing import start_print_job
from certification.services import (
    issue_bloc_certificate,
    reissue_certificate,
    revoke_certificate,
    withdrawn_certificates,
)
from certification.tests.factories import issued
from core import roles
from evaluations.deliberations import (
    open_deliberation,
    publish_results,
    record_decision,
    rectify,
)
from evaluations.models import BlocDecision, Deliberation
from evaluations.tests.factories import (
    another_cohort,
    another_jury,
    decide_as_proposed,
    open_session,
    sign_all,
)

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
    correction = sign_all(
        correction, jury_member, second_jury_member, django_capture_on_commit_callbacks
    )
    # Signed, not yet published: the public and the office still see the published PV.
    assert not withdrawn_certificates().exists()
    page = client.get(certificate.get_verification_url()).content.decode()
    assert "<strong>Certificat valide.</strong>" in page
    publish_results(correction, by=admin_user)
    assert list(withdrawn_certificates()) == [certificate]
    page = client.get(certificate.get_verification_url()).content.decode()
    assert "<strong>Certificat en cours de révocation</strong>" in page
    assert "Certificat valide" not in page
    with pytest.raises(
        ValidationError,
        match="Ce bloc n'est plus validé par un procès-verbal en vigueur : le certificat "
        "se révoque, il ne se réédite pas.",
    ):
        reissue_certificate(certificate, by=admin_user)
    office = login(admin_user)
    assert certificate.number in office.get(reverse("certification:certificates")).content.decode()
    office.post(reverse("certification:revoke_withdrawn"))
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.REVOKED
    assert certificate.revocation_reason == "Bloc retiré par un procès-verbal rectificatif du jury."
    assert not withdrawn_certificates().exists()


def test_no_certificate_for_a_withdrawn_candidate(decision, admin_user):
    withdraw(decision.enrolment, reason="Abandon", by=admin_user)
    with pytest.raises(
        ValidationError, match="Le candidat a été retiré de la promotion : aucun certificat."
    ):
        issue_bloc_certificate(decision, by=admin_user)
    assert not Certificate.objects.exists()


def test_bad_public_and_office_input_gets_no_500(client, login, admin_user, decision):
    response = client.get(reverse("certification:verify_form"), {"code": "../etc/passwd"})
    assert response.status_code == 200
    assert "ne contient que des lettres" in response.content.decode()
    for bad in ("abc", "999999", ""):
        response = login(admin_user).post(
            reverse("certification:print_start"), {"deliberation": bad}, follow=True
        )
        assert response.redirect_chain == [(reverse("certification:certificates"), 302)]
        assert "Choisissez un procès-verbal publié et en vigueur." in response.content.decode()
    assert not PrintJob.objects.exists()


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
    assert page.status_code == 200
    assert "Petit Emma Louise" in page.content.decode()


def certificate_page_queries(client):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("certification:certificates")).status_code == 200
    return len(queries)


def validate_bloc_1_of_newcomers(deliberation, cohort, count, start, decided_by):
    """`count` more candidates whose bloc 1 the (signed) deliberation validated."""
    bulk_enrol(cohort, count, start)
    bloc1 = cohort.certification_version.blocs.get(number=1)
    BlocDecision.objects.bulk_create(
        BlocDecision(
            deliberation=deliberation,
            enrolment=enrolment,
            bloc=bloc1,
            proposed_validated=True,
            decision=BlocDecision.Decision.VALIDATED,
            decided_by=decided_by,
        )
        for enrolment in cohort.enrolments.filter(
            candidate__birth_name__in=[f"Masse{n}" for n in range(start, start + count)]
        )
    )


def test_certificate_office_page_queries_do_not_grow_with_candidates(
    login,
    signed,
    cohort,
    candidate,
    admin_user,
    jury_member,
    second_jury_member,
    django_capture_on_commit_callbacks,
):
    """Emma's bloc due and one certificate (the register's page, its passages)
    from one published PV; against a published rectifying PV that withdrew a
    certified bloc, a print job, 38 blocs due, certificates issued and revoked."""
    publish_results(signed, by=admin_user)
    client = login(admin_user)
    withdrawn = issued(signed.decisions.get(bloc__number=3), django_capture_on_commit_callbacks)
    few = certificate_page_queries(client)

    enrolment = candidate.enrolments.get()
    correction = rectify(signed, reason="Blocs 2 et 3 revus", user=jury_member)
    for number, outcome in (
        (2, BlocDecision.Decision.VALIDATED),
        (3, BlocDecision.Decision.NOT_VALIDATED),
    ):
        record_decision(
            correction,
            enrolment=enrolment,
            bloc=cohort.certification_version.blocs.get(number=number),
            decision=outcome,
            justification="Revu.",
            user=second_jury_member,
        )
    capture = django_capture_on_commit_callbacks
    correction = sign_all(correction, jury_member, second_jury_member, capture)
    correction = publish_results(correction, by=admin_user)
    with capture(execute=True):
        job = start_print_job(correction, by=admin_user)  # Emma's blocs 1 and 2
    validate_bloc_1_of_newcomers(correction, cohort, 40, 5000, second_jury_member)
    newcomers = correction.decisions.filter(enrolment__candidate__birth_name__startswith="Masse")
    issued(newcomers.get(enrolment__candidate__birth_name="Masse5000"), capture)
    revoked = issued(newcomers.get(enrolment__candidate__birth_name="Masse5001"), capture)
    revoke_certificate(revoked, reason="Erreur", by=admin_user)

    page = client.get(reverse("certification:certificates")).content.decode()
    assert list(withdrawn_certificates()) == [withdrawn]
    assert (job.__class__.objects.get(pk=job.pk).done, Certificate.objects.count()) == (2, 5)
    # Due: bloc 1 of 38 newcomers (Masse5000 has hers; Masse5001's was revoked: it
    # is issued again only explicitly); nothing of Emma's any more.
    assert page.count("· bloc 1") == 38
    assert page.count("Petit Emma Louise · bloc") == 1  # her withdrawn bloc 3 only
    assert "Petit Emma Louise · bloc 3</li></ul>" in page
    assert certificate_page_queries(client) == few


def test_certificate_office_page_queries_do_not_grow_with_deliberations_in_force(
    login,
    signed,
    cohort,
    trainer,
    admin_user,
    jury_member,
    second_jury_member,
    django_capture_on_commit_callbacks,
):
    """One published PV in force with one print job, against three with several
    (two other promotions, another jury)."""
    publish_results(signed, by=admin_user)
    PrintJob.objects.create(deliberation=signed, status=PrintJob.Status.DONE)
    client = login(admin_user)
    one = certificate_page_queries(client)
    evening = another_jury(cohort.certification_version, jury_member, second_jury_member)
    for number, name in enumerate(("Promotion du soir", "Promotion du samedi")):
        other = another_cohort(cohort, trainer, name, start=3000 + 10 * number)
        deliberation = open_deliberation(evening, other, by=None)
        for enrolment in other.enrolments.all():
            decide_as_proposed(deliberation, enrolment, second_jury_member)
        deliberation = sign_all(
            deliberation, jury_member, second_jury_member, django_capture_on_commit_callbacks
        )
        publish_results(deliberation, by=admin_user)
        for status in (PrintJob.Status.FAILED, PrintJob.Status.DONE):
            PrintJob.objects.create(deliberation=deliberation, status=status, created_by=admin_user)
    PrintJob.objects.create(deliberation=signed, status=PrintJob.Status.FAILED, error="Panne")
    assert (Deliberation.objects.effective().count(), PrintJob.objects.count()) == (3, 6)
    assert certificate_page_queries(client) == one


def test_a_jury_never_scores_a_written_session(cohort, candidate, trainer, jury):

    with pytest.raises(ValidationError, match="Un jury ne note que les épreuves orales"):
        open_session("M2.1", cohort, [trainer], jury=jury)
