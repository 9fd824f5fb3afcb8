"""Reading the platform's PDFs in tests."""

import io

from pypdf import PdfReader


def page_words(page):
    """A page's words in reading order; a compound word broken at the end of a
    line after its hyphen (procès-verbal) is joined again: where lines end
    depends on the lengths of names and numbers."""
    return " ".join(page.extract_text().replace("-\n", "-").split())


def read_pdf(data):
    """The PDF's pages as text, and its reader."""
    reader = PdfReader(io.BytesIO(data))
    return [page_words(page) for page in reader.pages], reader


def pdf_words(data):
    return " ".join(read_pdf(data)[0])
