"""The certifier's seal on the platform's PDFs (PAdES, with pyHanko), and the
check of a PDF someone hands back.

The seal is the certifier's signing certificate and key, read from a PKCS#12
file: PDF_SIGNING_PKCS12 (and its PDF_SIGNING_PASSPHRASE) in production, where
the settings refuse to start without it. In development and tests, a
self-signed certificate named as a demonstration (« Cachet de démonstration —
non valable ») is generated once into PDF_DEMO_SEAL and kept. The seal is
loaded once per process, and the room each seal keeps in the PDF is computed
at the first: pyHanko would otherwise build and sign a dummy signature before
every real one to size it.

A document is sealed with a certification signature (PAdES, no change
allowed afterwards), invisible: what is printed does not change. Checking a
PDF needs no network: the configured certificate is the only trust root, so
a signature is "intact" only when it is ours and covers the whole file.
"""

import asyncio
import datetime
import functools
import hashlib
import io
import os
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

SEAL_FIELD = "CachetDuCertificateur"
DEMO_SUBJECT = "Cachet de démonstration — non valable (DÉMO)"
DEMO_ORGANISATION = "Plateforme de certification — DÉMONSTRATION"


def sha256(data):
    """The hex SHA-256 of bytes: the fingerprint of a stored file."""
    return hashlib.sha256(data).hexdigest()


# --- The seal -------------------------------------------------------------------


@dataclass(frozen=True)
class Seal:
    signer: object  # pyhanko.sign.signers.SimpleSigner
    certificate: object  # asn1crypto.x509.Certificate
    demo: bool

    @functools.cached_property
    def reserve(self):
        """Bytes kept in each sealed PDF for the signature (signature_reserve),
        computed at the first seal: checking a PDF needs none."""
        return signature_reserve(self.signer)

    @property
    def subject(self):
        return subject_name(self.certificate)

    @property
    def fingerprint(self):
        return self.certificate.sha256.hex()


def subject_name(certificate):
    """« Nom commun (Organisation) » of a certificate's subject."""
    subject = certificate.subject.native
    name = subject.get("common_name") or certificate.subject.human_friendly
    organisation = subject.get("organization_name")
    return f"{name} ({organisation})" if organisation else name


def seal():
    """The seal of this process, loaded on first use."""
    path = settings.PDF_SIGNING_PKCS12
    if path:
        return _load(str(path), settings.PDF_SIGNING_PASSPHRASE or "", demo=False)
    return _load(str(demo_seal_path()), "", demo=True)


def demo_seal_path():
    """The demonstration seal's file, generated the first time it is needed."""
    path = Path(settings.PDF_DEMO_SEAL)
    if not path.exists():
        write_demo_pkcs12(path)
    return path


def _signer_class():
    """pyHanko's SimpleSigner decodes its private key again at every signature
    (a tenth of a second for an RSA key, twice per document): this one
    decodes it once and keeps the decoded key."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
    from pyhanko.sign.general import get_pyca_cryptography_hash
    from pyhanko.sign.signers import SimpleSigner

    class KeptKeySigner(SimpleSigner):
        @functools.cached_property
        def _key(self):
            return serialization.load_der_private_key(self.signing_key.dump(), password=None)

        def sign_raw(self, data, digest_algorithm):
            mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
            algorithm = mechanism["algorithm"].native
            hash_algorithm = get_pyca_cryptography_hash(digest_algorithm)
            if algorithm.endswith("rsa") and isinstance(self._key, rsa.RSAPrivateKey):
                return self._key.sign(data, padding.PKCS1v15(), hash_algorithm)
            if algorithm.endswith("ecdsa") and isinstance(self._key, ec.EllipticCurvePrivateKey):
                return self._key.sign(data, ec.ECDSA(hash_algorithm))
            return super().sign_raw(data, digest_algorithm)  # PSS, EdDSA...: pyHanko's way

    return KeptKeySigner


@functools.lru_cache(maxsize=4)
def _load(path, passphrase, *, demo):
    from pyhanko.sign import signers

    try:
        data = Path(path).read_bytes()
    except OSError as error:
        raise ImproperlyConfigured(
            f"Cachet des PDF : le fichier PKCS#12 {path} est illisible ({error.strerror})."
        ) from error
    signer = cause = None
    try:
        loaded = signers.SimpleSigner.load_pkcs12_data(
            data, other_certs=(), passphrase=passphrase.encode() or None
        )
        signer = _signer_class()(
            signing_cert=loaded.signing_cert,
            signing_key=loaded.signing_key,
            cert_registry=loaded.cert_registry,
        )
    except Exception as error:  # pyHanko wraps cryptography's errors in several ways
        cause = error
    if signer is None or signer.signing_cert is None:
        raise ImproperlyConfigured(
            f"Cachet des PDF : impossible d'ouvrir le fichier PKCS#12 {path} "
            "(phrase de passe PDF_SIGNING_PASSPHRASE erronée, ou fichier sans clé ni certificat)."
        ) from cause
    return Seal(signer=signer, certificate=signer.signing_cert, demo=demo)


def signature_reserve(signer):
    """The room, in bytes of the PDF, that pyHanko keeps for a signature of
    `signer`: what its PdfSigningSession.estimate_signature_container_size
    gives, computed the same way. Left to itself, pyHanko builds and signs a
    whole dummy signature before every real one to know it, doubling the cost
    of a seal; but it only depends on the seal (its certificate, its key, the
    signed attributes, no timestamp), so it is computed once per process. The
    sealed file is the same, byte for byte but for the signature itself."""
    from pyhanko.sign.signers.pdf_cms import PdfCMSSignedAttributes

    dummy = outside_event_loop(
        asyncio.run,
        signer.async_sign(
            hashlib.sha256().digest(),
            "sha256",
            use_pades=True,
            dry_run=True,
            signed_attr_settings=PdfCMSSignedAttributes(
                signing_time=datetime.datetime.now(datetime.UTC)
            ),
        ),
    )
    # As pyHanko: twice the DER length (written in hexadecimal), plus its 50 % margin.
    length = len(dummy.dump()) * 2
    return length + 2 * (length // 4)


def write_demo_pkcs12(path, *, passphrase=b"", organisation=DEMO_ORGANISATION, years=10):
    """A self-signed signing certificate and its key, as a PKCS#12 file at
    `path`, named as a demonstration. Written once: if another process wrote
    the file meanwhile, theirs stays (a hard link never replaces a file)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.hazmat.primitives.serialization import pkcs12
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "FR"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation),
            x509.NameAttribute(NameOID.COMMON_NAME, DEMO_SUBJECT),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365 * years))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    encryption = (
        serialization.BestAvailableEncryption(passphrase)
        if passphrase
        else serialization.NoEncryption()
    )
    data = pkcs12.serialize_key_and_certificates(b"cachet-demo", key, certificate, None, encryption)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path.parent, prefix=".cachet-", delete=False) as temp:
        temp.write(data)
    os.chmod(temp.name, 0o600)
    try:
        os.link(temp.name, path)
    except FileExistsError:
        pass
    finally:
        os.unlink(temp.name)
    return path


def outside_event_loop(function, *args, **kwargs):
    """pyHanko's synchronous calls run their own event loop (asyncio.run): in a
    thread that already runs one (an ASGI server, Playwright in the browser
    tests), they run in a thread of their own."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return function(*args, **kwargs)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(function, *args, **kwargs).result()


# --- Sealing --------------------------------------------------------------------


def seal_pdf(data, *, reason, location=""):
    """`data` (a PDF's bytes) sealed with the certifier's seal: a PAdES
    certification signature, invisible, forbidding any later change."""
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
    from pyhanko.sign import fields, signers

    current = seal()
    metadata = signers.PdfSignatureMetadata(
        field_name=SEAL_FIELD,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
        reason=reason[:200],
        location=location[:200] or None,
        name=current.certificate.subject.native.get("common_name"),
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(data), strict=False)
    return outside_event_loop(
        signers.sign_pdf,
        writer,
        metadata,
        signer=current.signer,
        bytes_reserved=current.reserve,  # known: no dummy signature first
    ).getvalue()


# --- Checking -------------------------------------------------------------------

INTACT = "intact"
ALTERED = "altered"
FOREIGN = "foreign"
ABSENT = "absent"
UNREADABLE = "unreadable"

LABELS = {
    INTACT: "Signature intacte : le document n'a pas été modifié depuis son scellement "
    "par le certificateur.",
    ALTERED: "Signature altérée : le document a été modifié après son scellement.",
    FOREIGN: "Signature étrangère : le document porte une signature qui n'est pas le "
    "cachet du certificateur.",
    ABSENT: "Signature absente : ce document ne porte aucune signature électronique.",
    UNREADABLE: "Signature illisible : ce fichier PDF n'a pas pu être lu.",
}


@dataclass(frozen=True)
class SealCheck:
    status: str  # one of INTACT, ALTERED, FOREIGN, ABSENT, UNREADABLE
    signer: str = ""
    signed_at: datetime.datetime | None = None
    demo: bool = False

    @property
    def intact(self):
        return self.status == INTACT

    @property
    def label(self):
        return LABELS[self.status]

    def as_json(self):
        return {
            "status": self.status,
            "intact": self.intact,
            "label": self.label,
            "signer": self.signer,
            "signed_at": self.signed_at.isoformat() if self.signed_at else None,
            "demonstration_seal": self.demo,
        }


def check_pdf(data):
    """Is `data` a PDF whose first signature is our seal, intact, covering
    every byte of the file? Never raises on a bad file: says it is unreadable."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    current = seal()
    try:
        signatures = PdfFileReader(io.BytesIO(data), strict=False).embedded_signatures
    except Exception:  # any malformed file: pyHanko's errors are of many kinds
        return SealCheck(UNREADABLE)
    if not signatures:
        return SealCheck(ABSENT)
    signature = signatures[0]  # the first one: a later one cannot make up for a change
    try:
        claimed = signature.self_reported_timestamp
        # No network (no revocation fetched), our certificate the only trust
        # root, its validity judged when the document was sealed: a seal
        # renewed later does not make the documents sealed before invalid.
        context = ValidationContext(
            trust_roots=[current.certificate], allow_fetching=False, moment=claimed
        )
        status = outside_event_loop(validate_pdf_signature, signature, context)
    except Exception:
        return SealCheck(ALTERED)
    signer = subject_name(status.signing_cert) if status.signing_cert else ""
    if not (status.intact and status.valid):
        return SealCheck(ALTERED, signer=signer)
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        return SealCheck(ALTERED, signer=signer, signed_at=claimed)
    ours = status.signing_cert.sha256 == current.certificate.sha256
    if not (ours and status.trusted):
        return SealCheck(FOREIGN, signer=signer, signed_at=claimed)
    return SealCheck(INTACT, signer=signer, signed_at=claimed, demo=current.demo)
