"""The certifier's seal: the demonstration seal of development and tests, a
PKCS#12 of production, the check of a sealed PDF, and production's refusal
to start without its seal."""

import io

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from pyhanko.sign.signers import SimpleSigner

from core import signing
from core.pdf import render_pdf
from core.tests.test_production_settings import SECRET, run_django


@pytest.fixture(scope="module")
def document():
    return render_pdf("<h1>Procès-verbal</h1><p>Emma Louise PETIT</p>")


def test_the_demonstration_seal_is_generated_once_and_named_so(document):
    seal = signing.seal()

    assert seal.demo
    assert "Cachet de démonstration — non valable (DÉMO)" in seal.subject
    assert signing.seal() is seal  # loaded once per process
    assert signing.demo_seal_path().stat().st_mode & 0o077 == 0  # the key stays private


def test_a_sealed_pdf_is_intact_and_says_who_sealed_it(document):
    sealed = signing.seal_pdf(document, reason="Procès-verbal du jury", location="Paris")
    result = signing.check_pdf(sealed)

    assert sealed.startswith(document)  # an incremental update: nothing printed changes
    assert result.intact and result.demo
    assert "DÉMO" in result.signer
    assert result.as_json()["status"] == "intact"


def pyhanko_seal(document, reason, location=""):
    """`document` sealed by pyHanko left to itself (its own size estimate, its
    own signature container) with the same seal and settings as seal_pdf."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    seal = signing.seal()
    metadata = signers.PdfSignatureMetadata(
        field_name=signing.SEAL_FIELD,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason,
        location=location or None,
        name=seal.certificate.subject.native.get("common_name"),
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(document), strict=False)
    plain = SimpleSigner(
        signing_cert=seal.signer.signing_cert,
        signing_key=seal.signer.signing_key,
        cert_registry=seal.signer.cert_registry,
    )
    # Outside any running event loop, as seal_pdf (the browser tests leave one).
    return signing.outside_event_loop(signers.sign_pdf, writer, metadata, signer=plain).getvalue()


def test_the_seal_keeps_the_room_pyhanko_alone_would_keep(document):
    """The room kept for the signature is computed once per process instead
    of by a dummy signature before each seal: the sealed file is as long as
    the one pyHanko writes left to itself, and intact."""
    ours = signing.seal_pdf(document, reason="Procès-verbal du jury", location="Paris")
    theirs = pyhanko_seal(document, reason="Procès-verbal du jury", location="Paris")

    assert len(ours) == len(theirs)
    assert signing.check_pdf(ours).intact and signing.check_pdf(theirs).intact
    assert signing.seal().reserve == signing.signature_reserve(signing.seal().signer)


def test_an_unsigned_a_broken_and_a_foreign_pdf(document, tmp_path):
    assert signing.check_pdf(document).status == signing.ABSENT
    assert signing.check_pdf(b"%PDF-1.7 rien").status == signing.UNREADABLE
    other = signing.write_demo_pkcs12(tmp_path / "autre.p12", passphrase=b"secret")
    with override_settings(PDF_SIGNING_PKCS12=str(other), PDF_SIGNING_PASSPHRASE="secret"):
        foreign = signing.seal_pdf(document, reason="Un autre")
        assert signing.check_pdf(foreign).intact  # under that seal, it is ours
    # Intact, but not the certifier's seal: not "intact" for us.
    assert signing.check_pdf(foreign).status == signing.FOREIGN


def test_a_byte_changed_after_sealing_alters_the_signature(document):
    sealed = signing.seal_pdf(document, reason="Test")
    position = sealed.index(b"stream\n") + 30  # inside the first stream
    tampered = sealed[:position] + bytes([sealed[position] ^ 0x20]) + sealed[position + 1 :]

    assert signing.check_pdf(tampered).status == signing.ALTERED


def test_bytes_appended_after_the_seal_alter_it(document):
    sealed = signing.seal_pdf(document, reason="Test")

    assert signing.check_pdf(sealed + b"\n% ajout\n").status == signing.ALTERED


def test_a_production_pkcs12_with_its_passphrase(document, tmp_path):
    path = signing.write_demo_pkcs12(tmp_path / "cachet.p12", passphrase=b"phrase")
    with override_settings(PDF_SIGNING_PKCS12=str(path), PDF_SIGNING_PASSPHRASE="phrase"):
        assert not signing.seal().demo
        assert signing.check_pdf(signing.seal_pdf(document, reason="x")).intact
    wrong = override_settings(PDF_SIGNING_PKCS12=str(path), PDF_SIGNING_PASSPHRASE="fausse")
    with wrong, pytest.raises(ImproperlyConfigured, match="PDF_SIGNING_PASSPHRASE"):
        signing.seal()
    missing = override_settings(PDF_SIGNING_PKCS12=str(tmp_path / "absent.p12"))
    with missing, pytest.raises(ImproperlyConfigured, match="illisible"):
        signing.seal()


def test_production_refuses_to_start_without_its_seal(tmp_path):
    for value in ["", str(tmp_path / "absent.p12")]:
        result = run_django("print('démarré')", DJANGO_SECRET_KEY=SECRET, PDF_SIGNING_PKCS12=value)

        assert result.returncode != 0
        assert "démarré" not in result.stdout
        assert "PDF_SIGNING_PKCS12" in result.stderr


def test_a_seal_signs_once_without_a_dummy_signature_first(document, monkeypatch):
    seal = signing.seal()
    assert seal.reserve  # computed at the first seal of the process
    dry_runs = []
    sign = type(seal.signer).async_sign

    async def counted(self, *args, **kwargs):
        dry_runs.append(kwargs.get("dry_run", False))
        return await sign(self, *args, **kwargs)

    monkeypatch.setattr(type(seal.signer), "async_sign", counted)
    assert signing.check_pdf(signing.seal_pdf(document, reason="Certificat")).intact
    assert dry_runs == [False]
