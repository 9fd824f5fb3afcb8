"""Deliberation that fits a real jury, the certificates' side (issue 12):
nothing leaves before publication, one date of decision, a revoked certificate
is issued again only explicitly, and a print job holds what it counts."""

import datetime
import io
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from certification.models import Certificate, PrintJob
from certification.printing import (
    due_count,
    due_titles,
    due_titles_by_deliberation,
    start_print_job,
)
from certification.rendering import render_certificate
from certification.services import (
    due_bloc_decisions,
    issue_again,
    issue_bloc_certificate,
    issue_title_certificate,
    revoke_certificate,
    withdrawn_certificates,
)
from certification.tests.factories import issued, pdf_reader, text_of
from core.dates import french_date
from core.models import AuditEvent
from evaluations.deliberations import (
    open_deliberation,
    publish_results,
    record_decision,
    rectify,
)
from evaluations.models import BlocDecision, Deliberation
from evaluations.tests.factories import decide_as_proposed, sign_all, sit_bloc

pytestmark = pytest.mark.django_db

NOT_PUBLISHED = (
    "Les résultats de ce procès-verbal ne sont pas encore publiés : aucun certificat n'est "
    "délivré avant leur publication."
)


def rectified(original, bloc_number, outcome, *, jury_member, second_jury_member, capture):
    """A signed (unpublished) rectifying PV changing one of Emma's blocs."""
    correction = rectify(original, reason="Relecture du jury", user=jury_member)
    enrolment = original.decisions.first().enrolment
    record_decision(
        correction,
        enrolment=enrolment,
        bloc=enrolment.cohort.certification_version.blocs.get(number=bloc_number),
        decision=outcome,
        justification="Revu en séance.",
        user=second_jury_member,
    )
    return sign_all(correction, jury_member, second_jury_member, capture)


# --- 1. Nothing leaves before publication ------------------------------------------


class TestNothingBeforePublication:
    def test_the_services_wait_for_publication(self, signed, candidate, admin_user):
        decision = signed.decisions.get(bloc__number=1)
        assert decision.is_validated and signed.is_signed

        assert not due_bloc_decisions().exists()
        assert due_titles_by_deliberation([signed]) == {signed.pk: []}
        assert due_count() == 0
        with pytest.raises(ValidationError) as refused:
            issue_bloc_certificate(decision, by=admin_user)
        assert refused.value.messages == [NOT_PUBLISHED]
        with pytest.raises(ValidationError) as refused:
            start_print_job(signed, by=admin_user)
        assert refused.value.messages == [
            "Les résultats de ce procès-verbal ne sont pas encore publiés : aucun certificat "
            "n'est délivré avant leur publication."
        ]
        assert not Certificate.objects.exists() and not PrintJob.objects.exists()

        publish_results(signed, by=admin_user)
        assert sorted(d.bloc.number for d in due_bloc_decisions()) == [1, 3]
        assert issue_bloc_certificate(decision, by=admin_user).deliberation == signed

    def test_the_office_pages_wait_for_publication(
        self, login, signed, admin_user, django_capture_on_commit_callbacks
    ):
        office = login(admin_user)
        page = office.get(reverse("certification:certificates")).content.decode()
        assert "Aucun certificat en attente." in page
        assert "Petit Emma Louise · bloc" not in page
        assert "Générer et imprimer" not in page  # no PV to print from
        response = office.post(
            reverse("certification:issue"),
            {"decision": signed.decisions.get(bloc__number=1).pk},
            follow=True,
        )
        assert NOT_PUBLISHED.replace("'", "&#x27;") in response.content.decode()
        response = office.post(
            reverse("certification:print_start"), {"deliberation": signed.pk}, follow=True
        )
        assert "Choisissez un procès-verbal publié et en vigueur." in response.content.decode()
        assert not Certificate.objects.exists() and not PrintJob.objects.exists()

        publish_results(signed, by=admin_user)
        page = office.get(reverse("certification:certificates")).content.decode()
        assert "Petit Emma Louise · bloc 1" in page and "Petit Emma Louise · bloc 3" in page
        assert "Générer et imprimer" in page
        with django_capture_on_commit_callbacks(execute=True):
            response = office.post(
                reverse("certification:print_start"), {"deliberation": signed.pk}
            )
        assert PrintJob.objects.get().done == 2

    def test_a_rectifying_pv_counts_from_its_publication(
        self,
        published,
        admin_user,
        jury_member,
        second_jury_member,
        candidate,
        login,
        candidate_user,
        django_capture_on_commit_callbacks,
    ):
        """Emma's bloc 2, not validated in the published PV, is validated by a
        rectifying PV: until that one is published, the published PV stands."""

        def seen_by_emma():
            data = login(candidate_user).get(reverse("portal:my_data_json")).json()
            return {
                (d["bloc"], d["decision"], d["proces_verbal"]) for d in data["decisions_publiees"]
            }

        correction = rectified(
            published,
            2,
            BlocDecision.Decision.VALIDATED,
            jury_member=jury_member,
            second_jury_member=second_jury_member,
            capture=django_capture_on_commit_callbacks,
        )
        enrolment = candidate.enrolments.get()
        assert seen_by_emma() == {
            (1, "Validé", published.pk),
            (2, "Non validé", published.pk),
            (3, "Validé", published.pk),
        }
        assert {d.deliberation_id for d in due_bloc_decisions()} == {published.pk}
        assert sorted(d.bloc.number for d in due_bloc_decisions()) == [1, 3]
        # The title counts published PVs only: bloc 2 waits for the correction.
        assert not due_titles(published) and not due_titles(correction)
        with pytest.raises(ValidationError) as refused:
            issue_title_certificate(enrolment, by=admin_user)
        assert refused.value.messages == [
            f"Les résultats du procès-verbal n° {correction.pk} ne sont pas encore publiés : "
            "le titre n'est délivré qu'après leur publication."
        ]
        with pytest.raises(ValidationError, match="pas encore publiés"):
            issue_bloc_certificate(correction.decisions.get(bloc__number=2), by=admin_user)

        publish_results(correction, by=admin_user)
        assert seen_by_emma() == {
            (1, "Validé", correction.pk),
            (2, "Validé", correction.pk),
            (3, "Validé", correction.pk),
        }
        assert {d.deliberation_id for d in due_bloc_decisions()} == {correction.pk}
        assert sorted(d.bloc.number for d in due_bloc_decisions()) == [1, 2, 3]
        assert due_titles(correction) == [enrolment]
        assert due_count() == 4
        title = issue_title_certificate(enrolment, by=admin_user)
        assert title.deliberation == correction


def test_the_candidate_and_the_public_see_nothing_of_an_unpublished_pv(
    client, login, decision, candidate_user, admin_user, django_capture_on_commit_callbacks
):
    """A certificate issued from a PV never published (data from before the
    rule): not on the candidate's pages, not downloadable, unknown to the public."""
    certificate = issued(decision, django_capture_on_commit_callbacks)
    Deliberation.objects.filter(pk=decision.deliberation_id).update(published_at=None)
    own = login(candidate_user)
    home = own.get(reverse("portal:candidate_home")).content.decode()
    assert certificate.number not in home and "décision publiée :" not in home
    assert certificate.number not in own.get(reverse("certification:mine")).content.decode()
    for url in (
        reverse("certification:certificate", args=[certificate.number]),
        reverse("certification:certificate_pdf", args=[certificate.number]),
    ):
        assert own.get(url).status_code == 404, url
    data = own.get(reverse("portal:my_data_json")).json()
    assert (data["certificats"], data["decisions_publiees"]) == ([], [])
    client.logout()
    public = client.get(certificate.get_verification_url())
    assert public.status_code == 404
    assert "Aucun certificat ne correspond à ce code" in public.content.decode()
    # The office still sees it, to deal with it.
    office = login(admin_user)
    assert office.get(certificate.get_absolute_url()).status_code == 200


# --- 2. One date of decision ---------------------------------------------------------


class TestDateOfDecision:
    def test_the_pv_number_and_its_signature_date_in_french(
        self, client, published, admin_user, django_capture_on_commit_callbacks
    ):
        # Signed at 0:30 in Paris on 1 November: still 31 October in UTC.
        first_of_november = datetime.datetime(2026, 10, 31, 23, 30, tzinfo=datetime.UTC)
        Deliberation.objects.filter(pk=published.pk).update(signed_at=first_of_november)
        certificate = issued(
            published.decisions.get(bloc__number=1), django_capture_on_commit_callbacks
        )
        assert certificate.mentions["minutes_signed_on"] == "2026-11-01"
        today = timezone.localdate()
        assert certificate.mentions["issue_date"] == today.isoformat()
        text = text_of(pdf_reader(certificate))
        assert (
            "sur décision du jury « Jury de certification 2027 » (procès-verbal n° "
            f"{published.pk} signé le 1er novembre 2026). Ce bloc est acquis"
        ) in text
        assert f"Délivré à Paris, le {french_date(today)}" in text
        assert "20 juin 2027" not in text  # the jury's planned day is never cited
        page = client.get(certificate.get_verification_url()).content.decode()
        assert f"procès-verbal n° {published.pk} signé le 1er novembre 2026" in page
        assert f"à Paris, le {french_date(today)}" in page
        office = login_page(client, admin_user, certificate.get_absolute_url())
        assert "signé le 1er novembre 2026" in office
        assert f"délivré le {french_date(today)}" in office

    def test_the_issue_date_is_never_before_the_signature(
        self, published, django_capture_on_commit_callbacks
    ):
        later = timezone.now() + datetime.timedelta(days=5)
        Deliberation.objects.filter(pk=published.pk).update(signed_at=later)
        certificate = issued(
            published.decisions.get(bloc__number=1), django_capture_on_commit_callbacks
        )
        signed_on = timezone.localdate(later)
        assert certificate.mentions["issue_date"] == signed_on.isoformat()
        assert certificate.mentions["minutes_signed_on"] == signed_on.isoformat()
        assert certificate.year == signed_on.year
        text = text_of(pdf_reader(certificate))
        assert f"Délivré à Paris, le {french_date(signed_on)}" in text

    def test_an_older_certificate_citing_the_jury_date_still_reads(
        self, client, login, decision, admin_user, django_capture_on_commit_callbacks
    ):
        certificate = issued(decision, django_capture_on_commit_callbacks)
        mentions = dict(certificate.mentions, jury_date="2027-06-01")
        del mentions["minutes_signed_on"]
        Certificate.objects.filter(pk=certificate.pk).update(mentions=mentions)
        certificate.refresh_from_db()
        text = text_of(PdfReader(io.BytesIO(render_certificate(certificate))))
        assert (
            "sur décision du jury « Jury de certification 2027 » du 1er juin 2027 "
            f"(procès-verbal n° {decision.deliberation_id})"
        ) in text
        page = client.get(certificate.get_verification_url())
        assert page.status_code == 200
        assert (
            f"le 1er juin 2027 (procès-verbal n° {decision.deliberation_id})"
            in page.content.decode()
        )
        assert login(admin_user).get(certificate.get_absolute_url()).status_code == 200


def login_page(client, user, url):
    client.force_login(user)
    return client.get(url).content.decode()


# --- 3. A revoked certificate is issued again only explicitly --------------------------


class TestIssueAgain:
    def test_a_revoked_certificate_is_not_offered_again(
        self, login, decision, admin_user, django_capture_on_commit_callbacks
    ):
        certificate = issued(decision, django_capture_on_commit_callbacks)
        revoke_certificate(certificate, reason="Erreur de saisie du jury", by=admin_user)
        assert [d.bloc.number for d in due_bloc_decisions()] == [3]
        assert due_count() == 1
        page = login(admin_user).get(reverse("certification:certificates")).content.decode()
        assert "Petit Emma Louise · bloc 1" not in page
        assert "Petit Emma Louise · bloc 3" in page
        with pytest.raises(ValidationError) as refused:
            issue_bloc_certificate(decision, by=admin_user)
        assert refused.value.messages == [
            f"Le certificat n° {certificate.number} de ce bloc a été révoqué : un nouveau "
            "certificat ne se délivre que par « Délivrer à nouveau », avec un motif, depuis "
            "la page du certificat révoqué."
        ]
        with django_capture_on_commit_callbacks(execute=True):
            job = start_print_job(decision.deliberation, by=admin_user)
        job.refresh_from_db()
        assert (job.total, job.done) == (1, 1)
        assert [c.bloc.number for c in job.certificates.all()] == [3]
        assert Certificate.objects.filter(bloc=decision.bloc).count() == 1  # the revoked one

    def test_issuing_again_is_reasoned_numbered_and_audited(
        self, decision, admin_user, django_capture_on_commit_callbacks
    ):
        certificate = issued(decision, django_capture_on_commit_callbacks)
        with pytest.raises(ValidationError, match="Seul un certificat révoqué se délivre"):
            issue_again(certificate, reason="Pourquoi pas", by=admin_user)
        revoke_certificate(certificate, reason="Erreur de saisie du jury", by=admin_user)
        for blank in ("", "   "):
            with pytest.raises(ValidationError) as refused:
                issue_again(certificate, reason=blank, by=admin_user)
            assert refused.value.messages == ["Indiquez le motif de la nouvelle délivrance."]
        assert Certificate.objects.count() == 1

        with django_capture_on_commit_callbacks(execute=True):
            new = issue_again(certificate, reason="Le jury a confirmé le bloc", by=admin_user)
        new.refresh_from_db()
        certificate.refresh_from_db()
        assert new.number != certificate.number and new.sequence == certificate.sequence + 1
        assert new.verification_code != certificate.verification_code
        assert (new.status, certificate.status) == ("valid", "revoked")
        assert (new.bloc, new.decision, new.deliberation) == (
            decision.bloc,
            decision,
            decision.deliberation,
        )
        assert "a validé le bloc 1" in text_of(pdf_reader(new))
        event = AuditEvent.objects.for_object(new).get(
            action="certification.certificate.issued_again"
        )
        assert (event.actor, event.data) == (
            admin_user,
            {
                "reason": "Le jury a confirmé le bloc",
                "revoked": certificate.number,
                "number": new.number,
            },
        )
        assert not due_bloc_decisions().filter(bloc=decision.bloc).exists()
        with pytest.raises(
            ValidationError,
            match=f"Un certificat valide existe déjà pour le bloc 1 : n° {new.number}.",
        ):
            issue_again(certificate, reason="Encore", by=admin_user)

    def test_not_again_once_a_published_rectification_withdrew_the_bloc(
        self,
        decision,
        admin_user,
        jury_member,
        second_jury_member,
        django_capture_on_commit_callbacks,
    ):
        certificate = issued(decision, django_capture_on_commit_callbacks)
        revoke_certificate(certificate, reason="Fraude constatée", by=admin_user)
        correction = rectified(
            decision.deliberation,
            1,
            BlocDecision.Decision.NOT_VALIDATED,
            jury_member=jury_member,
            second_jury_member=second_jury_member,
            capture=django_capture_on_commit_callbacks,
        )
        publish_results(correction, by=admin_user)
        with pytest.raises(ValidationError) as refused:
            issue_again(certificate, reason="Recours", by=admin_user)
        assert refused.value.messages == [
            "Ce bloc n'est pas validé par un procès-verbal publié en vigueur : aucun "
            "certificat ne peut être délivré à nouveau."
        ]
        assert Certificate.objects.count() == 1

    def test_a_pending_rectification_is_not_cited(
        self,
        decision,
        admin_user,
        jury_member,
        second_jury_member,
        django_capture_on_commit_callbacks,
    ):
        """A signed rectifying PV not yet published (it withdraws bloc 1): a new
        certificate still rests on the published PV, never on the pending one."""
        capture = django_capture_on_commit_callbacks
        certificate = issued(decision, capture)
        revoke_certificate(certificate, reason="Erreur de saisie", by=admin_user)
        pending = rectified(
            decision.deliberation,
            1,
            BlocDecision.Decision.NOT_VALIDATED,
            jury_member=jury_member,
            second_jury_member=second_jury_member,
            capture=capture,
        )
        again = issue_again(certificate, reason="Révocation par erreur", by=admin_user)
        assert (again.deliberation, again.decision) == (decision.deliberation, decision)
        assert again.mentions["minutes_number"] == decision.deliberation_id
        publish_results(pending, by=admin_user)
        assert again in set(withdrawn_certificates())

    def test_the_title_too(self, all_validated, candidate, admin_user):
        enrolment = candidate.enrolments.get()
        title = issue_title_certificate(enrolment, by=admin_user)
        revoke_certificate(title, reason="Erreur d'état civil", by=admin_user)
        assert due_titles(all_validated) == []
        with pytest.raises(ValidationError, match=f"Le parchemin n° {title.number} a été révoqué"):
            issue_title_certificate(enrolment, by=admin_user)
        again = issue_again(title, reason="Parchemin corrigé", by=admin_user)
        assert (again.kind, again.deliberation, again.status) == ("title", all_validated, "valid")

    def test_the_office_page_of_a_revoked_certificate(
        self, login, decision, admin_user, candidate_user, django_capture_on_commit_callbacks
    ):
        certificate = issued(decision, django_capture_on_commit_callbacks)
        url = reverse("certification:issue_again", args=[certificate.number])
        office = login(admin_user)
        assert (
            "Délivrer à nouveau</button>"
            not in office.get(certificate.get_absolute_url()).content.decode()
        )
        revoke_certificate(certificate, reason="Erreur", by=admin_user)
        page = office.get(certificate.get_absolute_url()).content.decode()
        assert "Délivrer à nouveau</button>" in page
        assert "Motif de la nouvelle délivrance" in page
        assert (
            "Délivrer à nouveau</button>"
            not in login(candidate_user).get(certificate.get_absolute_url()).content.decode()
        )

        response = login(admin_user).post(url, {"reason": ""}, follow=True)
        assert "Indiquez le motif de la nouvelle délivrance." in response.content.decode()
        assert Certificate.objects.count() == 1
        response = login(admin_user).post(url, {"reason": "Le jury a confirmé"})
        new = Certificate.objects.valid().get()
        assert response.url == new.get_absolute_url()
        page = login(admin_user).get(new.get_absolute_url()).content.decode()
        assert (
            f"Certificat n° {new.number} délivré à nouveau (n° {certificate.number} reste révoqué)."
        ) in page


# --- 4. A print job holds what it counts ------------------------------------------


def job_contents(job):
    with job.merged_pdf.open("rb") as merged:
        pages = len(PdfReader(io.BytesIO(merged.read())).pages)
    with job.archive.open("rb") as archive:
        names = zipfile.ZipFile(io.BytesIO(archive.read())).namelist()
    return pages, names


def test_a_print_job_holds_exactly_what_it_counts(
    login,
    published,
    cohort,
    candidate,
    trainer,
    jury,
    admin_user,
    jury_member,
    second_jury_member,
    django_capture_on_commit_callbacks,
):
    """Emma validated blocs 1 and 3 in a first published PV; she re-sits bloc 2
    and a second PV validates it, which completes the title. Bloc 1 was issued
    by hand before any printing: it is not printed again, and the title is
    printed with the PV that completed it, once."""
    capture = django_capture_on_commit_callbacks
    enrolment = candidate.enrolments.get()
    by_hand = issued(published.decisions.get(bloc__number=1), capture)
    sit_bloc(cohort, 2, 3, trainer=trainer, jury=jury)
    second = open_deliberation(jury, cohort, by=None)
    decide_as_proposed(second, enrolment, second_jury_member)
    second = publish_results(
        sign_all(second, jury_member, second_jury_member, capture), by=admin_user
    )
    assert list(second.decisions.values_list("bloc__number", "decision")) == [(2, "validated")]
    assert due_titles_by_deliberation([published, second]) == {
        published.pk: [],
        second.pk: [enrolment],
    }
    assert due_count() == 3  # bloc 3 of the first PV; bloc 2 and the title of the second
    page = login(admin_user).get(reverse("portal:office_dashboard"))
    assert page.context["numbers"]["to_issue"] == 3
    office = login(admin_user).get(reverse("certification:certificates")).content.decode()
    assert office.count("Petit Emma Louise · <strong>titre</strong>") == 1

    jobs = []
    for deliberation in (published, second):
        with capture(execute=True):
            jobs.append(start_print_job(deliberation, by=admin_user))
    first_job, second_job = (PrintJob.objects.get(pk=job.pk) for job in jobs)
    for job, kinds in ((first_job, ["bloc"]), (second_job, ["bloc", "title"])):
        certificates = list(job.certificates.order_by("sequence"))
        pages, names = job_contents(job)
        assert job.status == PrintJob.Status.DONE
        assert job.total == job.done == len(certificates) == pages == len(names) == len(kinds)
        assert [c.kind for c in certificates] == kinds
        assert names == [f"{c.number}.pdf" for c in certificates]
        assert by_hand not in certificates
        page = login(admin_user).get(job.get_absolute_url()).content.decode()
        assert f"{job.done} certificat(s) produit(s) sur {job.total} à délivrer" in page
    title = second_job.certificates.get(kind="title")
    assert title.deliberation == second
    assert due_count() == 0
    with pytest.raises(ValidationError, match="Aucun certificat n'est à délivrer"):
        start_print_job(second, by=admin_user)


def test_every_certificate_fits_on_one_page(published, candidate):
    """One certificate, one sheet: the merged PDF has as many pages as the job
    has certificates. Every bloc of the shipped referential (bloc 4 lists 17
    long competences) and the title, for a holder with a usage name."""
    from certification.services import gather_mentions

    type(candidate).objects.filter(pk=candidate.pk).update(usage_name="Martin-Delacroix")
    candidate.refresh_from_db()
    version = published.jury.certification_version
    blocs = list(version.blocs.order_by("number"))
    today = timezone.localdate()
    drafts = [
        gather_mentions(candidate=candidate, deliberation=published, bloc=bloc, issue_date=today)
        for bloc in blocs
    ] + [
        gather_mentions(
            candidate=candidate, deliberation=published, validated=blocs, issue_date=today
        )
    ]
    for mentions in drafts:
        draft = Certificate(
            kind="bloc" if "bloc" in mentions else "title",
            number=f"AP-{today.year}-00001",
            verification_code="x" * 32,
            mentions=mentions,
        )
        pages = PdfReader(io.BytesIO(render_certificate(draft))).pages
        assert len(pages) == 1, mentions.get("bloc", {}).get("number", "titre")


def test_a_job_counts_what_is_due_when_it_runs(
    published, admin_user, django_capture_on_commit_callbacks
):
    """Asked for with two blocs due; one is issued by hand before the job runs:
    the job issues, counts and prints the other one only."""
    from certification.printing import print_certificates

    job = start_print_job(published, by=admin_user, enqueue=False)
    assert job.total == 2
    by_hand = issued(published.decisions.get(bloc__number=1), django_capture_on_commit_callbacks)
    with django_capture_on_commit_callbacks(execute=True):
        print_certificates.call(job.pk)
    job.refresh_from_db()
    pages, names = job_contents(job)
    assert (job.status, job.total, job.done, pages) == (PrintJob.Status.DONE, 1, 1, 1)
    assert names == [f"{job.certificates.get().number}.pdf"]
    assert by_hand not in job.certificates.all()
