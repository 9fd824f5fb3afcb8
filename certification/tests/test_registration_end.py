"""Issue 15: what the certificates print of the registration in the RNCP (bloc
codes, decision and end dates, the signature) and the refusal to issue for a
jury decision taken after the registration's end, unless the office records
the legal basis."""

import datetime
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from blocks.models import Bloc
from certification.models import Certificate, PrintJob
from certification.printing import print_certificates, start_print_job
from certification.rendering import certificate_html
from certification.services import (
    AfterRegistration,
    issue_again,
    issue_bloc_certificate,
    issue_title_certificate,
    reissue_certificate,
    revoke_certificate,
)
from certification.tests.factories import issued, pdf_reader, text_of
from core.models import Action, AuditEvent

pytestmark = pytest.mark.django_db

LATE = "a été signé le"
BASIS = "Arrêté du 1er décembre 2026, mesure transitoire de la fiche RNCP99999"


def end_registration_before_the_pv(version):
    """The registration ended the day before the PV was signed (today)."""
    version.registration_end_date = timezone.localdate() - datetime.timedelta(days=1)
    version.save(update_fields=["registration_end_date"])


class TestPrinted:
    def test_bloc_certificate_prints_its_code_and_the_registration(
        self, decision, admin_user, django_capture_on_commit_callbacks
    ):
        certificate = issued(decision, django_capture_on_commit_callbacks, by=admin_user)
        assert certificate.mentions["bloc"]["official_code"] == "RNCP99999BC01"
        assert certificate.mentions["registration_end_date"] == "2029-03-28"
        text = text_of(pdf_reader(certificate))
        for expected in [
            "Bloc de compétences n° RNCP99999BC01",
            "enregistrée au Répertoire national des certifications professionnelles sous le n° "
            "RNCP99999 par décision du directeur général de France compétences du 28 mars 2024, "
            "jusqu'au 28 mars 2029",
        ]:
            assert expected in text, expected

    def test_title_lists_the_bloc_codes(
        self, all_validated, candidate, admin_user, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            title = issue_title_certificate(candidate.enrolments.get(), by=admin_user)
        title.refresh_from_db()
        text = text_of(pdf_reader(title))
        assert "(RNCP99999BC01)" in text and "(RNCP99999BC02)" in text
        assert "jusqu'au 28 mars 2029" in text

    def test_signature_image_is_embedded_as_a_data_url(self, decision, admin_user, mentions):
        buffer = io.BytesIO()
        Image.new("RGB", (60, 20), "navy").save(buffer, "PNG")
        mentions.signature_image.save("signature.png", ContentFile(buffer.getvalue()))
        certificate = issue_bloc_certificate(decision, by=admin_user)
        assert certificate.mentions["signature_image"].startswith("signatures/")
        html = certificate_html(certificate)
        assert 'class="signature-image" src="data:image/png;base64,' in html
        # Above the signatory's name.
        assert html.index("signature-image") < html.index("Jeanne Delorme, Directrice")

    def test_old_certificates_without_the_new_mentions_still_render(
        self, decision, admin_user, django_capture_on_commit_callbacks
    ):
        certificate = issued(decision, django_capture_on_commit_callbacks, by=admin_user)
        for key in ("registration_end_date", "signature_image"):
            del certificate.mentions[key]
        del certificate.mentions["bloc"]["official_code"]
        html = certificate_html(certificate)
        assert "jusqu&#x27;au" not in html and "jusqu'au" not in html
        assert "Bloc de compétences n°" not in html and 'class="signature-image"' not in html
        assert "France compétences du 28 mars 2024." in html


class TestMandatoryMentions:
    def test_bloc_certificate_without_its_code_is_refused(self, decision, admin_user):
        Bloc.objects.filter(pk=decision.bloc_id).update(official_code="")
        with pytest.raises(ValidationError, match="le code officiel du bloc"):
            issue_bloc_certificate(decision, by=admin_user)
        assert not Certificate.objects.exists()

    def test_parchment_without_the_registration_end_is_refused(
        self, all_validated, candidate, admin_user, mentions
    ):
        mentions.registration_end_date = None
        mentions.save(update_fields=["registration_end_date"])
        with pytest.raises(ValidationError, match="la date de fin d'enregistrement au RNCP"):
            issue_title_certificate(candidate.enrolments.get(), by=admin_user)
        assert not Certificate.objects.exists()

    def test_bloc_certificate_does_not_need_the_registration_end(
        self, decision, admin_user, mentions
    ):
        mentions.registration_end_date = None
        mentions.save(update_fields=["registration_end_date"])
        assert issue_bloc_certificate(decision, by=admin_user).number


class TestAfterRegistration:
    def test_bloc_refused_without_legal_basis(self, decision, admin_user, mentions):
        end_registration_before_the_pv(mentions)
        with pytest.raises(AfterRegistration) as refused:
            issue_bloc_certificate(decision, by=admin_user)
        message = refused.value.messages[0]
        assert f"Le procès-verbal n° {decision.deliberation_id} {LATE}" in message
        assert "après la fin de l'enregistrement de la certification au RNCP" in message
        assert "indiquez le fondement juridique" in message
        assert not Certificate.objects.exists()
        with pytest.raises(AfterRegistration):
            issue_bloc_certificate(decision, by=admin_user, legal_basis="   ")

    def test_bloc_issued_with_legal_basis(self, decision, admin_user, mentions):
        end_registration_before_the_pv(mentions)
        certificate = issue_bloc_certificate(decision, by=admin_user, legal_basis=f" {BASIS} ")
        assert certificate.legal_basis == BASIS
        event = AuditEvent.objects.for_object(certificate).get(action=Action.CERTIFICATE_ISSUED)
        assert event.data["legal_basis"] == BASIS

    def test_in_time_no_legal_basis_is_kept(self, decision, admin_user):
        certificate = issue_bloc_certificate(decision, by=admin_user, legal_basis=BASIS)
        assert certificate.legal_basis == ""
        event = AuditEvent.objects.for_object(certificate).get(action=Action.CERTIFICATE_ISSUED)
        assert "legal_basis" not in event.data

    def test_pv_signed_on_the_last_day_is_in_time(self, decision, admin_user, mentions):
        mentions.registration_end_date = timezone.localdate()
        mentions.save(update_fields=["registration_end_date"])
        assert issue_bloc_certificate(decision, by=admin_user).legal_basis == ""

    def test_title(self, all_validated, candidate, admin_user, mentions):
        end_registration_before_the_pv(mentions)
        enrolment = candidate.enrolments.get()
        with pytest.raises(AfterRegistration):
            issue_title_certificate(enrolment, by=admin_user)
        title = issue_title_certificate(enrolment, by=admin_user, legal_basis=BASIS)
        assert title.legal_basis == BASIS

    def test_issue_again_and_reissue(self, decision, admin_user, mentions):
        first = issue_bloc_certificate(decision, by=admin_user)
        revoke_certificate(first, reason="Erreur", by=admin_user)
        end_registration_before_the_pv(mentions)
        with pytest.raises(AfterRegistration):
            issue_again(first, reason="Le jury valide toujours", by=admin_user)
        again = issue_again(
            first, reason="Le jury valide toujours", by=admin_user, legal_basis=BASIS
        )
        assert again.legal_basis == BASIS
        event = AuditEvent.objects.for_object(again).get(action=Action.CERTIFICATE_ISSUED)
        assert event.data["legal_basis"] == BASIS
        # A re-edition after a correction of identity rests on the same decision.
        reissued = reissue_certificate(again, by=admin_user)
        assert reissued.legal_basis == BASIS


class TestIssuePages:
    def test_issue_asks_for_the_legal_basis_then_issues(
        self, login, decision, admin_user, mentions
    ):
        end_registration_before_the_pv(mentions)
        client = login(admin_user)
        url = reverse("certification:issue")
        response = client.post(url, {"decision": decision.pk})
        page = response.content.decode()
        assert response.status_code == 200
        assert "Délivrance après la fin de l&#x27;enregistrement au RNCP" in page
        assert "indiquez le fondement juridique" in page
        assert f'name="decision" value="{decision.pk}"' in page
        assert 'name="legal_basis"' in page
        assert not Certificate.objects.exists()
        response = client.post(url, {"decision": decision.pk, "legal_basis": "x" * 2001})
        assert response.status_code == 200 and not Certificate.objects.exists()
        response = client.post(url, {"decision": decision.pk, "legal_basis": BASIS})
        certificate = Certificate.objects.get()
        assert response.url == certificate.get_absolute_url()
        assert certificate.legal_basis == BASIS
        detail = client.get(certificate.get_absolute_url()).content.decode()
        assert "Fondement juridique" in detail and "mesure transitoire" in detail

    def test_issue_again_page(self, login, decision, admin_user, mentions):
        first = issue_bloc_certificate(decision, by=admin_user)
        revoke_certificate(first, reason="Erreur", by=admin_user)
        end_registration_before_the_pv(mentions)
        client = login(admin_user)
        url = reverse("certification:issue_again", args=[first.number])
        response = client.post(url, {"reason": "Toujours validé"})
        assert response.status_code == 200
        page = response.content.decode()
        assert 'name="legal_basis"' in page and "Toujours validé" in page
        assert Certificate.objects.count() == 1
        response = client.post(url, {"reason": "Toujours validé", "legal_basis": BASIS})
        again = Certificate.objects.exclude(pk=first.pk).get()
        assert response.url == again.get_absolute_url() and again.legal_basis == BASIS

    def test_pages_stay_the_office_s(self, client, login, decision, trainer, mentions):
        end_registration_before_the_pv(mentions)
        url = reverse("certification:issue")
        response = client.post(url, {"decision": decision.pk})
        assert response.status_code == 302 and "connexion" in response.url
        assert (
            login(trainer).post(url, {"decision": decision.pk, "legal_basis": BASIS}).status_code
            == 403
        )
        assert not Certificate.objects.exists()


class TestBulkPrinting:
    def test_a_late_pv_is_not_printed_and_says_which(self, login, published, admin_user, mentions):
        end_registration_before_the_pv(mentions)
        with pytest.raises(ValidationError) as refused:
            start_print_job(published, by=admin_user, enqueue=False)
        message = refused.value.messages[0]
        assert "ne sont pas imprimés en lot" in message
        assert "Petit Emma Louise (bloc 1)" in message or "Emma Louise PETIT (bloc 1)" in message
        assert "(bloc 3)" in message
        assert not PrintJob.objects.exists() and not Certificate.objects.exists()
        response = login(admin_user).post(
            reverse("certification:print_start"), {"deliberation": published.pk}, follow=True
        )
        assert "ne sont pas imprimés en lot" in response.content.decode()

    def test_end_set_after_the_job_was_asked_for(self, published, admin_user, mentions):
        job = start_print_job(published, by=admin_user, enqueue=False)
        end_registration_before_the_pv(mentions)
        print_certificates.call(job.pk, job.attempt)
        job.refresh_from_db()
        assert job.status == PrintJob.Status.DONE
        assert "Non imprimés" in job.error and "(bloc 1)" in job.error
        assert not Certificate.objects.exists()
