"""Sealed certificates and their public verification: the page shows in full
what the certificate certifies (never the birth date), and tells whether a
dropped PDF is exactly the issued document and whether its seal is intact;
the same answers in JSON for machines."""

import io
import re
import time
from html import unescape
from html.parser import HTMLParser

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from pypdf import PdfReader, PdfWriter
from pypdf.generic import DecodedStreamObject, DictionaryObject, NameObject

from certification.models import Certificate
from certification.services import revoke_certificate
from core.signing import check_pdf, sha256

from .factories import issued

pytestmark = pytest.mark.django_db


VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


class Page(HTMLParser):
    """A page's text by element id, its <dt>/<dd> pairs, and its forms' fields."""

    def __init__(self, html):
        super().__init__()
        self.texts, self.facts, self.inputs, self.forms = {}, {}, [], []
        self.open, self.term, self.in_dd = [], None, False
        self.feed(html)
        self.texts = {key: " ".join(value.split()) for key, value in self.texts.items()}
        self.facts = {" ".join(k.split()): " ".join(v.split()) for k, v in self.facts.items()}

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "input":
            self.inputs.append(attrs)
        if tag == "form":
            self.forms.append(attrs)
        if tag in VOID:
            return
        self.open.append((tag, attrs.get("id")))
        if attrs.get("id"):
            self.texts[attrs["id"]] = ""
        if tag == "dt":
            self.term = ""
        elif tag == "dd":
            self.in_dd = True
            self.facts[self.term] = ""

    def handle_endtag(self, tag):
        while self.open:
            name, _ = self.open.pop()
            if name == "dd":
                self.in_dd = False
            if name == tag:
                break

    def handle_data(self, data):
        for _, element_id in self.open:
            if element_id:
                self.texts[element_id] += data + " "
        if any(name == "dt" for name, _ in self.open):
            self.term += data
        elif self.in_dd:
            self.facts[self.term] += data + " "


def stored_bytes(certificate):
    with certificate.pdf.open("rb") as stored:
        return stored.read()


def flip_a_signed_byte(data):
    """One byte changed inside the first signed range: in the first content
    stream (compressed text of the page), the file still parses."""
    start = data.index(b"stream\n", data.index(b"/FlateDecode")) + len(b"stream\n") + 20
    first_range_end = int(re.search(rb"/ByteRange\s*\[\s*0\s+(\d+)", data).group(1))
    assert start < first_range_end
    return data[:start] + bytes([data[start] ^ 0x01]) + data[start + 1 :]


def rename_holder(data, new_name="Usurpateur DUPONT"):
    """What an editor does when a name is changed and the file saved: an
    incremental update appended after the seal, which paints a white box over
    the top of the page and writes another name. The signed bytes stay as they
    were; the file no longer ends where the seal does."""
    writer = PdfWriter(io.BytesIO(data), incremental=True)
    page = writer.pages[0]
    font = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/Font"),
            NameObject("/Subtype"): NameObject("/Type1"),
            NameObject("/BaseFont"): NameObject("/Helvetica-Bold"),
        }
    )
    resources = page["/Resources"].get_object()
    fonts = resources.get("/Font")
    fonts = fonts.get_object() if fonts is not None else DictionaryObject()
    fonts[NameObject("/Faux")] = writer._add_object(font)
    resources[NameObject("/Font")] = fonts
    contents = page.get_contents()
    stream = DecodedStreamObject()
    stream.set_data(
        (contents.get_data() if contents is not None else b"")
        + b"\nq 1 1 1 rg 60 560 475 60 re f Q "
        + b"BT /Faux 20 Tf 0 0 0 rg 150 585 Td ("
        + new_name.encode("latin-1")
        + b") Tj ET"
    )
    page[NameObject("/Contents")] = writer._add_object(stream)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def upload(client, certificate, data, *, name="certificat.pdf", url="verify_file", **headers):
    return client.post(
        reverse(f"certification:{url}", args=[certificate.verification_code]),
        {"document": SimpleUploadedFile(name, data, content_type="application/pdf")},
        headers=headers,
    )


@pytest.fixture
def certificate(decision, django_capture_on_commit_callbacks):
    return issued(decision, django_capture_on_commit_callbacks)


class TestSealing:
    def test_the_stored_certificate_is_sealed_and_its_hash_kept(self, certificate):
        data = stored_bytes(certificate)
        result = check_pdf(data)

        assert result.intact and result.status == "intact"
        assert "DÉMO" in result.signer and result.demo
        assert certificate.pdf_sha256 == sha256(data)
        # Sealing changes nothing that is printed.
        assert "Emma Louise PETIT" in " ".join(
            p.extract_text() for p in PdfReader(io.BytesIO(data)).pages
        )

    def test_pyhanko_validates_the_seal_against_the_configured_certificate(self, certificate):
        from pyhanko.pdf_utils.reader import PdfFileReader
        from pyhanko.sign.validation import validate_pdf_signature
        from pyhanko_certvalidator import ValidationContext

        from core.signing import seal

        reader = PdfFileReader(io.BytesIO(stored_bytes(certificate)))
        (signature,) = reader.embedded_signatures
        context = ValidationContext(trust_roots=[seal().certificate], allow_fetching=False)
        status = validate_pdf_signature(signature, context)

        assert status.bottom_line and status.docmdp_ok
        assert signature.sig_object["/Reason"].startswith(
            f"Certificat de bloc de compétences n° {certificate.number} délivré par"
        )

    def test_the_served_download_is_the_stored_sealed_file(
        self, client, login, certificate, candidate_user
    ):
        response = login(candidate_user).get(
            reverse("certification:certificate_pdf", args=[certificate.number])
        )
        served = b"".join(response.streaming_content)

        assert sha256(served) == certificate.pdf_sha256

    def test_the_pv_is_sealed(self, signed):
        from evaluations.deliberations import produce_minutes

        produce_minutes.enqueue(signed.pk)  # the task queued by the signature
        signed.refresh_from_db()
        with signed.minutes_pdf.open("rb") as stored:
            result = check_pdf(stored.read())

        assert result.intact

    def test_signing_cost_per_document(self, decision, certificate):
        from certification.rendering import render_certificate
        from core.signing import seal_pdf

        data = render_certificate(certificate)
        runs = 10
        started = time.perf_counter()
        for _ in range(runs):
            seal_pdf(data, reason="Mesure", location="Paris")
        per_document = (time.perf_counter() - started) / runs
        print(f"\nScellement : {per_document * 1000:.1f} ms par document")  # noqa: T201


class TestPublicPage:
    def test_the_page_shows_the_certified_content_in_full_but_no_birth_date(
        self, client, certificate
    ):
        page = client.get(certificate.get_verification_url())
        html = Page(page.content.decode())
        text, facts = html.texts["contenu-certifie"], html.facts
        m = certificate.mentions

        assert page.status_code == 200
        assert facts["Titulaire"] == "Emma Louise PETIT"
        assert facts["Atteste"].startswith("le bloc 1 « Préparation d’un projet de production")
        assert facts["Enregistrement au RNCP"] == (
            "RNCP99999, par décision de France Compétences du 28 mars 2024"
        )
        assert facts["Niveau"] == (
            "Niveau 5 de la nomenclature nationale, niveau 5 du cadre européen des certifications"
        )
        assert facts["Code(s) NSF"] == "323t"
        assert facts["Certification"] == f"« {m['title']} »"
        for competence in m["bloc"]["competences"]:
            assert competence["code"] in facts["Compétences attestées"]
            assert " ".join(competence["statement"].split()) in facts["Compétences attestées"]
        assert len(m["bloc"]["competences"]) > 3
        from core.dates import french_date

        assert f"signé le {french_date(m['minutes_signed_on'])}" in facts["Décision du jury"]
        assert facts["Délivré"].startswith(f"à Paris, le {french_date(m['issue_date'])}")
        assert "2001" not in page.content.decode() and "avril" not in text
        assert m["holder_birth_date"] not in page.content.decode()
        assert {"enctype": "multipart/form-data", "method": "post"}.items() <= html.forms[
            -1
        ].items()
        assert any(field.get("name") == "csrfmiddlewaretoken" for field in html.inputs)
        assert any(field.get("type") == "file" for field in html.inputs)

    def test_the_bloc_official_code_is_shown_when_the_certificate_has_one(
        self, client, certificate
    ):
        Certificate.objects.filter(pk=certificate.pk).update(
            mentions={
                **certificate.mentions,
                "bloc": {**certificate.mentions["bloc"], "official_code": "RNCP99999BC01"},
            }
        )
        page = client.get(certificate.get_verification_url()).content.decode()
        data = client.get(
            reverse("certification:verify_json", args=[certificate.verification_code])
        ).json()

        assert "RNCP99999BC01" in page
        assert data["bloc"]["official_code"] == "RNCP99999BC01"

    def test_the_json_version_says_the_same(self, client, certificate):
        response = client.get(
            reverse("certification:verify_json", args=[certificate.verification_code])
        )
        data = response.json()

        assert response["Content-Type"] == "application/json"
        assert data["found"] is True
        assert data["number"] == certificate.number
        assert (data["kind"], data["status"]) == ("bloc", "valid")
        assert data["holder"] == {
            "first_names": "Emma Louise",
            "birth_name": "Petit",
            "usage_name": "",
        }
        assert data["certification"]["rncp_code"] == "RNCP99999"
        assert data["certification"]["registration_decision_date"] == "2024-03-28"
        assert data["certification"]["nsf_codes"] == ["323t"]
        assert data["bloc"]["number"] == 1
        assert data["bloc"]["competences"][0].keys() == {"code", "statement"}
        assert data["decision"]["decided_on"] == certificate.mentions["minutes_signed_on"]
        assert data["file_check_available"] is True
        assert data["pdf_sha256"] == certificate.pdf_sha256
        assert "birth" not in str(data).replace("birth_name", "")
        assert client.get(certificate.get_verification_url() + "?format=json").json() == data

    def test_revoked_and_superseded_say_so_with_date_and_link(
        self, client, certificate, admin_user
    ):
        revoke_certificate(certificate, reason="Fraude", by=admin_user)
        data = client.get(
            reverse("certification:verify_json", args=[certificate.verification_code])
        ).json()
        page = client.get(certificate.get_verification_url()).content.decode()

        assert data["status"] == "revoked" and data["revoked_on"]
        assert "<strong>Certificat révoqué</strong> le" in page

    def test_unknown_codes_get_the_neutral_404_everywhere(self, client, certificate):
        for name in ["verify", "verify_json"]:
            response = client.get(reverse(f"certification:{name}", args=["inconnu"]))
            assert response.status_code == 404
        assert client.get(reverse("certification:verify_json", args=["inconnu"])).json() == {
            "found": False,
            "message": "Aucun certificat ne correspond à ce code.",
        }
        fake = Certificate(verification_code="inconnu")
        response = upload(client, fake, stored_bytes(certificate))
        assert response.status_code == 404
        assert "Aucun certificat ne correspond à ce code" in response.content.decode()
        assert upload(client, fake, b"x", url="verify_file_json").status_code == 404

    def test_anonymous_access_works(self, client, certificate):
        assert client.get(certificate.get_verification_url()).status_code == 200
        assert upload(client, certificate, stored_bytes(certificate)).status_code == 200


class TestDroppedFile:
    def test_the_issued_file_is_recognised_and_its_seal_intact(self, client, certificate):
        response = upload(client, certificate, stored_bytes(certificate))
        text = Page(response.content.decode()).texts["resultat"]

        assert "Ce fichier est exactement le document délivré." in text
        assert "Signature intacte" in text

    @pytest.mark.parametrize("tamper", [flip_a_signed_byte, rename_holder])
    def test_a_tampered_copy_fails_both_checks(self, client, certificate, tamper):
        tampered = tamper(stored_bytes(certificate))
        response = upload(client, certificate, tampered)
        text = Page(response.content.decode()).texts["resultat"]

        assert response.status_code == 200
        assert "Ce fichier n'est pas le document délivré" in text
        assert "Signature altérée : le document a été modifié après son scellement." in text
        assert "exactement le document délivré" not in text
        assert "Signature intacte" not in text

        data = upload(client, certificate, tampered, url="verify_file_json").json()
        assert data["file"]["matches_issued"] is False
        assert data["file"]["signature"]["status"] == "altered"
        assert data["file"]["signature"]["intact"] is False
        assert data["certificate"]["number"] == certificate.number

    def test_the_renamed_copy_really_shows_another_name(self, certificate):
        tampered = rename_holder(stored_bytes(certificate))
        text = PdfReader(io.BytesIO(tampered)).pages[0].extract_text()

        assert "Usurpateur DUPONT" in text

    def test_json_answer_for_the_issued_file(self, client, certificate):
        data = upload(client, certificate, stored_bytes(certificate), url="verify_file_json").json()
        accept = upload(
            client, certificate, stored_bytes(certificate), Accept="application/json"
        ).json()

        assert data == accept
        assert data["file"]["matches_issued"] is True
        assert data["file"]["sha256"] == certificate.pdf_sha256
        assert data["file"]["signature"]["status"] == "intact"
        assert data["file"]["signature"]["signed_at"]

    @pytest.mark.parametrize(
        ("data", "message"),
        [
            (b"GIF89a not a pdf at all", "Ce fichier n'est pas un PDF."),
            (b"", "Ce fichier est vide."),
            (bytes(range(256)) * 40, "Ce fichier n'est pas un PDF."),
        ],
        ids=["gif", "empty", "binary"],
    )
    def test_a_file_that_is_not_a_pdf_gets_a_french_message(
        self, client, certificate, data, message
    ):
        response = upload(client, certificate, data, name="photo.gif")

        assert response.status_code == 400
        assert message in unescape(response.content.decode())
        json = upload(client, certificate, data, url="verify_file_json")
        assert json.status_code == 400
        assert json.json() == {"errors": {"document": [message]}}

    def test_a_broken_pdf_is_unreadable_not_a_500(self, client, certificate):
        response = upload(client, certificate, b"%PDF-1.7\n garbage \x00\xff" * 50)

        assert response.status_code == 200
        assert "ce fichier PDF n'a pas pu être lu" in unescape(response.content.decode())

    def test_an_unsigned_pdf_has_no_signature(self, client, certificate):
        from core.pdf import render_pdf

        response = upload(client, certificate, render_pdf("<p>Emma Louise PETIT</p>"))

        assert "Signature absente" in response.content.decode()

    def test_no_file_or_too_large(self, client, certificate):
        url = reverse("certification:verify_file", args=[certificate.verification_code])
        assert "Choisissez le fichier PDF à contrôler." in client.post(url).content.decode()
        big = upload(client, certificate, b"%PDF-1.7\n" + b"0" * (10 * 1024 * 1024))
        assert big.status_code == 400
        assert "Ce fichier dépasse 10 Mo : ce n'est pas un certificat." in unescape(
            big.content.decode()
        )

    def test_a_get_on_the_upload_address_is_refused(self, client, certificate):
        url = reverse("certification:verify_file", args=[certificate.verification_code])
        assert client.get(url).status_code == 405

    def test_the_form_needs_its_csrf_token(self, certificate):
        from django.test import Client

        response = upload(Client(enforce_csrf_checks=True), certificate, b"%PDF-1.7")

        assert response.status_code == 403

    def test_a_certificate_stored_before_sealing_says_the_file_check_is_unavailable(
        self, client, certificate
    ):
        Certificate.objects.filter(pk=certificate.pk).update(pdf_sha256="")
        page = client.get(certificate.get_verification_url()).content.decode()
        response = upload(client, certificate, stored_bytes(certificate))
        data = upload(client, certificate, stored_bytes(certificate), url="verify_file_json").json()

        assert "la comparaison avec le document délivré n'est pas disponible" in unescape(page)
        assert "Comparaison avec le document délivré indisponible" in response.content.decode()
        assert "exactement le document délivré" not in response.content.decode()
        assert data["file"]["matches_issued"] is None
        assert data["file"]["signature"]["status"] == "intact"


def test_the_file_checks_and_the_json_share_the_public_rate_limit(client, certificate, monkeypatch):
    from django.core.cache import cache
    from django.test import override_settings

    from core import ratelimit

    monkeypatch.setattr(ratelimit, "current_window", lambda: 654321)
    cache.clear()
    json_url = reverse("certification:verify_json", args=[certificate.verification_code])
    with override_settings(VERIFY_RATE_LIMIT=3):
        answers = [
            client.get(json_url).status_code,
            upload(client, certificate, b"x").status_code,
            upload(client, certificate, b"x", url="verify_file_json").status_code,
            upload(client, certificate, b"x", url="verify_file_json").status_code,
        ]
    cache.clear()

    assert answers == [200, 400, 400, 429]
