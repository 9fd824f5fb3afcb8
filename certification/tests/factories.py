"""Certificates for tests, issued through the service, and reading their PDFs."""

import io

from pypdf import PdfReader

from certification.services import issue_bloc_certificate
from core.tests.pdf import page_words


def issued(decision, capture, by=None):
    """A bloc certificate, its PDF rendered and stored as after a real commit."""
    with capture(execute=True):
        certificate = issue_bloc_certificate(decision, by=by)
    certificate.refresh_from_db()
    return certificate


def pdf_reader(certificate):
    with certificate.pdf.open("rb") as stored:
        return PdfReader(io.BytesIO(stored.read()))


def text_of(reader):
    return " ".join(page_words(page) for page in reader.pages)
