import io
import re
import zipfile

import pytest
from django.core.exceptions import ValidationError
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from candidates.tests.factories import make_user
from certification.models import Certificate, CertificateCounter, PrintJob
from certification.rendering import certificate_html, qr_data_uri
from certification.services import (
    issue_bloc_certificate,
    issue_title_certificate,
    reissue_certificate,
    revoke_certificate,
)
from certification.tests.factories import issued, pdf_reader, text_of
from core.dates import french_date
from core.models import AuditEvent
from evaluations.deliberations import publish_results

pytestmark = pytest.mark.django_db

YEAR = timezone.localdate().year


def assert_sent_to_login(response, url):
    assert (response.status_code, response.url) == (302, f"/connexion/?next={url}"), url


class TestIssuing:
    def test_bloc_certificate_numbered_coded_and_printed(
        self, decision, admin_user, django_capture_on_commit_callbacks
    ):
        certificate = issued(decision, django_capture_on_commit_callbacks, admin_user)
        assert certificate.number == f"AP-{YEAR}-00001"
        # 16 random bytes (128 bits) in URL-safe base64: short enough to print on one line.
        assert re.fullmatch(r"[A-Za-z0-9_-]{22}", certificate.verification_code)  # 132 bits
        assert certificate.mentions["holder_birth_date"] == "2001-04-12"
        reader = pdf_reader(certificate)
        width, height = (float(v) for v in reader.pages[0].mediabox[2:])
        assert (round(width), round(height)) == (595, 842)  # A4
        text = text_of(reader)
        for expected in [
            "Centre Européen de Formation à la Production de Films (CEFPF)",
            "Certificat de bloc de compétences",
            "Emma Louise PETIT",
            "né(e) le 12 avril 2001 à Lyon (69123)",
            "a validé le bloc 1 « Préparation d’un projet de production (long-métrage, série, "
            "documentaire, magazine) » de la certification professionnelle « Assistant de "
            "production »",
            "C1.1 Lire et analyser",
            "C1.6 Identifier les sources de financement",
            "sous le n° RNCP99999 par décision du directeur général de France compétences du "
            "28 mars 2024, jusqu'au 28 mars 2029",
            "Niveau 5 de la nomenclature nationale, niveau 5 du cadre européen",
            "Code(s) NSF : 323t",
            f"Certificat n° AP-{YEAR}-00001",
            f"Délivré à Paris, le {french_date(timezone.localdate())}",
            "Jeanne Delorme, Directrice du CEFPF",
            "sur décision du jury « Jury de certification 2027 » (procès-verbal n° "
            f"{decision.deliberation_id} signé le "
            f"{french_date(decision.deliberation.signed_at)})",
        ]:
            assert expected in text, expected
        signed_on = timezone.localdate(decision.deliberation.signed_at)
        assert certificate.mentions["minutes_signed_on"] == signed_on.isoformat()
        assert "jury_date" not in certificate.mentions  # the jury's planned day is not cited
        assert "en cours" not in text.lower() and "sous réserve" not in text.lower()
        assert f"/verifier/{certificate.verification_code}/" in text.replace(" ", "")
        event = AuditEvent.objects.for_object(certificate).get()
        assert (event.action, event.actor) == ("certification.certificate.issued", admin_user)

    def test_issuing_and_printing_leave_the_signed_table_of_the_pv_unread(
        self, all_validated, candidate, django_capture_on_commit_callbacks
    ):
        """The table the jury signed grows with the PV's candidates and prints
        on no certificate: neither a bloc certificate nor a title reads it."""
        assert all_validated.signed_table
        with CaptureQueriesContext(connection) as queries:
            issued(all_validated.decisions.get(bloc__number=2), django_capture_on_commit_callbacks)
            with django_capture_on_commit_callbacks(execute=True):
                title = issue_title_certificate(candidate.enrolments.get(), by=None)
        title.refresh_from_db()
        assert title.pdf and Certificate.objects.exclude(pdf="").count() == 2
        assert not [q["sql"] for q in queries.captured_queries if "signed_table" in q["sql"]]

    def test_fonts_are_embedded(self, decision, django_capture_on_commit_callbacks):
        reader = pdf_reader(issued(decision, django_capture_on_commit_callbacks))
        fonts = reader.pages[0]["/Resources"]["/Font"]
        assert fonts
        for font in fonts.values():
            font = font.get_object()
            descriptor = (
                font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
                if "/DescendantFonts" in font
                else font["/FontDescriptor"]
            ).get_object()
            assert {"/FontFile", "/FontFile2", "/FontFile3"} & set(descriptor), font

    def test_the_qr_code_points_to_the_verification_page(
        self, decision, settings, django_capture_on_commit_callbacks
    ):
        settings.PUBLIC_BASE_URL = "https://certification.cefpf.example"
        certificate = issued(decision, django_capture_on_commit_callbacks)
        url = f"https://certification.cefpf.example/verifier/{certificate.verification_code}/"
        assert certificate.public_url == url
        html = certificate_html(certificate)
        assert qr_data_uri(url) in html
        assert qr_data_uri(url) != qr_data_uri(url + "x")
        import base64

        svg = base64.b64decode(qr_data_uri(url).split(",", 1)[1]).decode()
        assert svg.startswith("<svg") and "<path" in svg  # vector, not a bitmap

    def test_numbers_follow_each_other_without_gaps(
        self, published, django_capture_on_commit_callbacks
    ):
        first = issued(published.decisions.get(bloc__number=1), django_capture_on_commit_callbacks)
        third = issued(published.decisions.get(bloc__number=3), django_capture_on_commit_callbacks)
        assert (first.sequence, third.sequence) == (1, 2)
        assert third.number == f"AP-{YEAR}-00002"
        assert CertificateCounter.objects.get(year=YEAR).last == 2

    def test_a_bloc_not_validated_gets_no_certificate(self, signed):
        with pytest.raises(
            ValidationError,
            match="Le bloc 2 n'a pas été validé par le jury : "
            "aucun certificat ne peut être délivré.",
        ):
            issue_bloc_certificate(signed.decisions.get(bloc__number=2), by=None)
        assert not Certificate.objects.exists()
        assert not CertificateCounter.objects.filter(last__gt=0).exists()

    def test_a_second_valid_certificate_for_the_same_bloc_is_refused(
        self, decision, django_capture_on_commit_callbacks
    ):
        first = issued(decision, django_capture_on_commit_callbacks)
        with pytest.raises(
            ValidationError,
            match=f"Un certificat valide existe déjà pour ce bloc : n° AP-{YEAR}-00001.",
        ):
            issue_bloc_certificate(decision, by=None)
        assert first.number == f"AP-{YEAR}-00001"
        assert Certificate.objects.count() == 1

    @pytest.mark.parametrize(
        ("field", "named"),
        [
            ("rncp_code", "le code RNCP"),
            (
                "registration_decision_date",
                "la date de la décision d'enregistrement de France Compétences",
            ),
            ("certifier", "le nom du certificateur"),
            ("national_level", "le niveau (nomenclature nationale)"),
            ("european_level", "le niveau européen"),
            ("nsf_codes", "le ou les codes NSF"),
            ("issue_place", "le lieu de délivrance"),
            ("signatory_name", "le nom du signataire"),
            ("signatory_title", "la qualité du signataire"),
        ],
    )
    def test_each_missing_mention_is_named(self, decision, mentions, field, named):
        setattr(mentions, field, None if field.endswith("date") else "")
        mentions.save()
        with pytest.raises(ValidationError) as refused:
            issue_bloc_certificate(decision, by=None)
        assert refused.value.messages == [
            f"Délivrance impossible : il manque {named}. Complétez la version de la "
            "certification ou la fiche du candidat."
        ]
        assert not Certificate.objects.exists()

    def test_every_missing_mention_at_once(self, decision, mentions):
        for field in ("rncp_code", "nsf_codes", "signatory_name"):
            setattr(mentions, field, "")
        mentions.save()
        with pytest.raises(ValidationError) as refused:
            issue_bloc_certificate(decision, by=None)
        assert refused.value.messages == [
            "Délivrance impossible : il manque le code RNCP, le ou les codes NSF, le nom du "
            "signataire. Complétez la version de la certification ou la fiche du candidat."
        ]

    def test_a_missing_holder_identity_is_named(self, decision, candidate):
        type(candidate).objects.filter(pk=candidate.pk).update(first_names="")
        with pytest.raises(ValidationError, match="il manque les prénoms du titulaire\\."):
            issue_bloc_certificate(decision, by=None)
        assert not Certificate.objects.exists()

    def test_title_only_once_every_mandatory_bloc_is_validated(
        self, signed, all_validated, candidate, django_capture_on_commit_callbacks
    ):
        enrolment = candidate.enrolments.get()
        with django_capture_on_commit_callbacks(execute=True):
            title = issue_title_certificate(enrolment, by=None)
        title.refresh_from_db()
        assert title.kind == Certificate.Kind.TITLE
        assert title.deliberation == all_validated  # the PV that completed it
        assert [b["number"] for b in title.mentions["blocs"]] == [1, 2, 3]
        text = text_of(pdf_reader(title))
        assert (
            "a obtenu la certification professionnelle « Assistant de production », sur "
            "décision du jury « Jury de certification 2027 » (procès-verbal n° "
            f"{all_validated.pk} signé le {french_date(all_validated.signed_at)}), ayant validé"
        ) in text
        assert "Bloc 2 « Gestion de la production" in text

    def test_no_title_while_a_mandatory_bloc_is_missing(self, signed, candidate):
        with pytest.raises(
            ValidationError,
            match="Le titre n'est délivré que lorsque tous les blocs obligatoires sont validés.",
        ):
            issue_title_certificate(candidate.enrolments.get(), by=None)
        assert not Certificate.objects.exists()


class TestRevocationAndReissue:
    def test_revocation_needs_a_reason_and_shows_publicly(
        self, client, decision, admin_user, django_capture_on_commit_callbacks
    ):
        certificate = issued(decision, django_capture_on_commit_callbacks)
        with pytest.raises(ValidationError, match="Indiquez le motif de la révocation."):
            revoke_certificate(certificate, reason="", by=admin_user)
        certificate.refresh_from_db()
        assert certificate.status == Certificate.Status.VALID
        revoke_certificate(certificate, reason="Fraude à l'examen", by=admin_user)
        certificate.refresh_from_db()
        assert certificate.status == Certificate.Status.REVOKED
        assert (
            AuditEvent.objects.for_object(certificate)
            .filter(action="certification.certificate.revoked", data__reason="Fraude à l'examen")
            .exists()
        )
        page = client.get(certificate.get_verification_url()).content.decode()
        revoked_on = timezone.localtime(certificate.revoked_at).date()
        assert (
            f"<strong>Certificat révoqué</strong> le {french_date(revoked_on)} : "
            "il n'atteste plus rien."
        ) in page
        assert "Certificat valide" not in page

    def test_reissue_after_an_identity_correction(
        self, client, decision, candidate, admin_user, django_capture_on_commit_callbacks
    ):
        old = issued(decision, django_capture_on_commit_callbacks)
        type(candidate).objects.filter(pk=candidate.pk).update(usage_name="Martin")
        with django_capture_on_commit_callbacks(execute=True):
            new = reissue_certificate(old, by=admin_user)
        old.refresh_from_db()
        new.refresh_from_db()
        assert old.status == Certificate.Status.SUPERSEDED and old.superseded_by == new
        assert (old.number, new.number) == (f"AP-{YEAR}-00001", f"AP-{YEAR}-00002")
        assert new.status == Certificate.Status.VALID
        assert new.mentions["holder_usage_name"] == "Martin"
        assert old.mentions["holder_usage_name"] == ""
        assert "nom d'usage : MARTIN" in text_of(pdf_reader(new))
        page = client.get(old.get_verification_url()).content.decode()
        assert f"Certificat remplacé</strong> par le certificat n° {new.number}" in page


class TestVerification:
    def test_valid_certificate_page_shows_what_it_certifies_but_no_birth_date(
        self, client, decision, django_capture_on_commit_callbacks
    ):
        certificate = issued(decision, django_capture_on_commit_callbacks)
        page = client.get(certificate.get_verification_url())
        text = page.content.decode()
        assert page.status_code == 200
        assert "<strong>Certificat valide.</strong>" in text
        assert "Emma Louise PETIT" in text
        assert "le bloc 1 « Préparation d’un projet de production" in text
        assert certificate.number in text
        assert "2001" not in text and "12/04" not in text and "avril" not in text

    def test_unknown_codes_get_one_neutral_answer(self, client, decision):
        for code in ["inexistant", "A" * 32]:
            response = client.get(reverse("certification:verify", args=[code]))
            assert response.status_code == 404
            assert "Aucun certificat ne correspond à ce code" in response.content.decode()

    def test_the_form_leads_to_the_page(self, client, decision, django_capture_on_commit_callbacks):
        certificate = issued(decision, django_capture_on_commit_callbacks)
        response = client.get(
            reverse("certification:verify_form"), {"code": f" {certificate.verification_code} "}
        )
        assert response.url == certificate.get_verification_url()


class TestPagesAndDownloads:
    def test_candidate_downloads_their_own_stored_certificate(
        self,
        client,
        login,
        decision,
        candidate_user,
        trainer,
        outsider,
        admin_user,
        django_capture_on_commit_callbacks,
    ):
        certificate = issued(decision, django_capture_on_commit_callbacks)
        url = reverse("certification:certificate_pdf", args=[certificate.number])
        assert_sent_to_login(client.get(url), url)
        assert login(trainer).get(url).status_code == 403
        mine = login(candidate_user).get(reverse("certification:mine")).content.decode()
        assert "Télécharger le certificat (PDF)" in mine
        with certificate.pdf.open("rb") as stored:
            expected = stored.read()
        # Served from storage: no rendering on download.
        from unittest import mock

        with mock.patch("certification.rendering.render_certificate", side_effect=AssertionError):
            response = login(candidate_user).get(url)
        assert b"".join(response.streaming_content) == expected
        someone = make_other_candidate_user()
        assert login(someone).get(url).status_code == 404
        assert login(admin_user).get(url).status_code == 200

    def test_office_pages(self, client, login, published, admin_user, trainer):
        url = reverse("certification:certificates")
        assert_sent_to_login(client.get(url), url)
        assert login(trainer).get(url).status_code == 403
        page = login(admin_user).get(url).content.decode()
        assert "Petit Emma Louise · bloc 1" in page
        assert "Petit Emma Louise · bloc 3" in page
        assert "Petit Emma Louise · bloc 2" not in page  # not validated: nothing due
        response = login(admin_user).post(
            reverse("certification:issue"),
            {"decision": published.decisions.get(bloc__number=2).pk},
            follow=True,
        )
        assert (
            "Le bloc 2 n&#x27;a pas été validé par le jury : aucun certificat ne peut être délivré."
        ) in response.content.decode()
        assert not Certificate.objects.exists()


def make_other_candidate_user():
    from core import roles

    return make_user("autre-candidat", roles.CANDIDATE)


class TestPrinting:
    def test_bulk_printing_of_a_jury(
        self, login, published, admin_user, django_capture_on_commit_callbacks
    ):
        with django_capture_on_commit_callbacks(execute=True):
            response = login(admin_user).post(
                reverse("certification:print_start"), {"deliberation": published.pk}
            )
        job = PrintJob.objects.get()
        assert response.url == job.get_absolute_url()
        assert (job.status, job.total, job.done) == (PrintJob.Status.DONE, 2, 2)
        page = login(admin_user).get(job.get_absolute_url()).content.decode()
        assert "PDF à imprimer" in page and "100 %" in page
        with job.merged_pdf.open("rb") as merged:
            assert len(PdfReader(io.BytesIO(merged.read())).pages) == 2
        with job.archive.open("rb") as archive:
            names = zipfile.ZipFile(io.BytesIO(archive.read())).namelist()
        assert names == [f"AP-{YEAR}-00001.pdf", f"AP-{YEAR}-00002.pdf"]
        assert Certificate.objects.filter(pdf="").count() == 0

    def test_print_command(self, tmp_path, signed, jury, admin_user, capsys):
        out = tmp_path / "jury.pdf"
        with pytest.raises(CommandError, match="Aucun procès-verbal publié en vigueur"):
            call_command("print_certificates", "--jury", jury.name, "--out", str(out))
        assert not Certificate.objects.exists()
        publish_results(signed, by=admin_user)
        call_command("print_certificates", "--jury", jury.name, "--out", str(out))
        reader = PdfReader(str(out))
        assert len(reader.pages) == 2
        assert "2 certificat(s) délivré(s) sur 2, 2 dans le PDF" in capsys.readouterr().out
        text = text_of(reader)
        assert "a validé le bloc 1 « Préparation" in text
        assert "a validé le bloc 3 « Suivi" in text
        assert "bloc 2 « Gestion" not in text
        with pytest.raises(CommandError, match="Aucun procès-verbal publié"):
            call_command("print_certificates", "--jury", "Inconnu", "--out", str(out))
        # Printed already: nothing is due, nothing is printed again.
        call_command("print_certificates", "--jury", jury.name, "--out", str(out))
        assert "aucun certificat à délivrer" in capsys.readouterr().out
        assert len(PdfReader(str(out)).pages) == 0


def test_office_certificate_views_role_matrix(
    client,
    login,
    decision,
    published,
    admin_user,
    trainer,
    candidate_user,
    django_capture_on_commit_callbacks,
):
    certificate = issued(decision, django_capture_on_commit_callbacks)
    from certification.printing import start_print_job

    with django_capture_on_commit_callbacks(execute=True):
        job = start_print_job(published, by=admin_user)
    pages = [
        reverse("certification:certificate", args=[certificate.number]),
        reverse("certification:print_job", args=[job.pk]),
        reverse("certification:print_job_file", args=[job.pk, "zip"]),
    ]
    actions = [
        (reverse("certification:revoke", args=[certificate.number]), {"reason": "x"}),
        (reverse("certification:reissue", args=[certificate.number]), {}),
        (reverse("certification:issue_again", args=[certificate.number]), {"reason": "x"}),
        (reverse("certification:print_start"), {"deliberation": published.pk}),
    ]
    for url in pages:
        client.logout()
        assert_sent_to_login(client.get(url), url)
        assert login(trainer).get(url).status_code == 403, url
        assert login(admin_user).get(url).status_code == 200, url
    for url, data in actions:
        client.logout()
        assert_sent_to_login(client.post(url, data), url)
        assert login(trainer).post(url, data).status_code == 403, url
        assert login(candidate_user).post(url, data).status_code == 403, url
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.VALID
    assert PrintJob.objects.count() == 1
    own = login(candidate_user).get(pages[0])
    assert own.status_code == 200
    assert "Révoquer</button>" not in own.content.decode()
    assert "Révoquer</button>" in login(admin_user).get(pages[0]).content.decode()
