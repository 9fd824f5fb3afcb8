"""Compressed answers: gzip for HTML pages and CSV exports when the browser
accepts it, the same content once decompressed; PDFs left as they are."""

import csv
import gzip
import io
import re

import pytest
from django.conf import settings
from django.urls import reverse
from pypdf import PdfReader

from candidates.tests.factories import bulk_enrol
from core.compression import TextGZipMiddleware
from evaluations.tests.factories import decide_as_proposed, sign_all

pytestmark = pytest.mark.django_db

GZIP = {"HTTP_ACCEPT_ENCODING": "gzip, deflate, br"}
TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="[^"]+"')


def same_page(html):
    """The page without its CSRF tokens, masked afresh on every answer."""
    return TOKEN.sub("csrf", html)


def test_compression_comes_first_and_keeps_djangos_breach_mitigation():
    assert settings.MIDDLEWARE[0] == "core.compression.TextGZipMiddleware"
    assert TextGZipMiddleware.max_random_bytes >= 100


def test_a_large_page_is_compressed_for_a_browser_that_accepts_it(
    login, deliberation, cohort, jury_member
):
    bulk_enrol(cohort, 30, 500)
    client = login(jury_member)
    url = deliberation.get_absolute_url()
    plain = client.get(url)
    packed = client.get(url, **GZIP)
    assert "Content-Encoding" not in plain and "Accept-Encoding" in plain["Vary"]
    assert packed["Content-Encoding"] == "gzip" and "Accept-Encoding" in packed["Vary"]
    assert int(packed["Content-Length"]) == len(packed.content) < len(plain.content) / 4
    unpacked = gzip.decompress(packed.content).decode()
    assert same_page(unpacked) == same_page(plain.content.decode())
    assert "Décisions par candidat et par bloc" in unpacked


def test_a_csv_export_is_compressed_and_still_parses(login, deliberation, jury_member):
    client = login(jury_member)
    url = reverse("evaluations:deliberation_export", args=[deliberation.pk, "csv"])
    plain = b"".join(client.get(url).streaming_content)
    packed = client.get(url, **GZIP)
    assert packed["Content-Encoding"] == "gzip" and packed["Content-Type"].startswith("text/csv")
    unpacked = gzip.decompress(b"".join(packed.streaming_content))
    assert unpacked == plain
    rows = list(csv.reader(io.StringIO(unpacked.decode("utf-8-sig")), delimiter=";"))
    assert len(rows) >= 2 and any("Petit" in cell for cell in rows[1])


def test_a_pdf_download_is_left_uncompressed(
    login,
    deliberation,
    scored,
    jury_member,
    second_jury_member,
    django_capture_on_commit_callbacks,
):
    decide_as_proposed(deliberation, scored, second_jury_member)
    sign_all(
        deliberation,
        jury_member,
        second_jury_member,
        django_capture_on_commit_callbacks,
        render_minutes=True,
    )
    response = login(jury_member).get(
        reverse("evaluations:minutes", args=[deliberation.pk]), **GZIP
    )
    assert response["Content-Type"] == "application/pdf"
    assert "Content-Encoding" not in response
    body = b"".join(response.streaming_content)
    assert int(response["Content-Length"]) == len(body)
    assert "Petit" in "".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages)
