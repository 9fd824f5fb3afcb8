"""Certificates for tests, issued through the service, and reading their PDFs."""

import io

from pypdf import PdfReader

from certification.services import issue_bloc_certificate


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
    """The PDF's words in reading order; a compound word broken at the end of a
    line after its hyphen (procès-verbal) is joined again: where lines end
    depends on the lengths of names and numbers."""
    return " ".join(
        " ".join(page.extract_text().replace("-\n", "-").split()) for page in reader.pages
    )
