"""The PDF renderer fetches only `data:` URLs and the project's static files:
no network, no file outside the static folders; a refused resource is logged
and left out, and the PDF is still made."""

import base64
import io
import logging
import socket
from unittest import mock

import pytest
from django.conf import settings
from pypdf import PdfReader

from core.pdf import ResourceRefused, StaticOnlyFetcher, render_pdf, static_file

APP_CSS = settings.BASE_DIR / "static" / "css" / "app.css"
# A 1x1 PNG.
PIXEL = base64.b64decode(
    "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
)


@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("the PDF renderer opened a network connection")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.fixture
def fetches():
    """Every URL the renderer asked for, with what the fetcher answered."""
    seen = []
    original = StaticOnlyFetcher.fetch

    def spy(self, url, headers=None):
        try:
            response = original(self, url, headers)
        except ResourceRefused:
            seen.append((url, "refused"))
            raise
        seen.append((url, "served"))
        return response

    with mock.patch.object(StaticOnlyFetcher, "fetch", spy):
        yield seen


def test_outside_resources_are_refused_logged_and_the_pdf_still_renders(
    no_network, fetches, caplog
):
    html = (
        '<p>Texte imprimé</p><img src="http://example.org/x.png">'
        '<img src="https://example.org/y.png"><img src="file:///etc/passwd">'
        '<link rel="stylesheet" href="http://example.org/style.css">'
        '<img src="static/../../../../etc/passwd">'
    )
    with caplog.at_level(logging.WARNING, logger="core.pdf"):
        pdf = render_pdf(html)
    assert pdf.startswith(b"%PDF")
    assert "Texte imprimé" in PdfReader(io.BytesIO(pdf)).pages[0].extract_text()
    assert dict(fetches) == {
        "http://example.org/x.png": "refused",
        "https://example.org/y.png": "refused",
        "file:///etc/passwd": "refused",
        "http://example.org/style.css": "refused",
    }  # the `../` path resolves to file:///etc/passwd too
    refusals = [r for r in caplog.records if r.name == "core.pdf"]
    assert {r.levelno for r in refusals} == {logging.WARNING}
    assert any("http://example.org/x.png" in r.getMessage() for r in refusals)
    assert any("file:///etc/passwd" in r.getMessage() for r in refusals)


def test_static_files_and_data_urls_are_served(no_network, fetches, caplog):
    data = "data:image/png;base64," + base64.b64encode(PIXEL).decode()
    html = (
        f'<link rel="stylesheet" href="/static/css/app.css">'
        f'<img src="static/favicon.svg"><img src="{data}"><p>x</p>'
    )
    with caplog.at_level(logging.WARNING):
        assert render_pdf(html).startswith(b"%PDF")
    base = settings.BASE_DIR.as_uri()
    assert dict(fetches) == {
        "file:///static/css/app.css": "served",
        f"{base}/static/favicon.svg": "served",
        data: "served",
    }
    assert not [r for r in caplog.records if r.name == "core.pdf"]


def test_the_fetcher_answers_a_static_file_with_its_bytes_and_type():
    response = StaticOnlyFetcher()("file:///static/css/app.css")
    assert response.read() == APP_CSS.read_bytes()
    assert response.content_type == "text/css"


@pytest.mark.parametrize(
    "url",
    [
        "http://example.org/x.png",
        "https://127.0.0.1/static/css/app.css",
        "ftp://example.org/x",
        "file:///etc/passwd",
        f"file://{settings.BASE_DIR}/manage.py",
        f"file://{settings.BASE_DIR}/static/../manage.py",
        "file:///static/../etc/passwd",
        "file:///static/%2e%2e/manage.py",
        "file:///static/css/nothing-here.css",
        "file://example.org/static/css/app.css",
        "file:///static/",
    ],
)
def test_refused(url):
    assert static_file(url) is None
    with pytest.raises(ResourceRefused):
        StaticOnlyFetcher()(url)


@pytest.mark.parametrize(
    "url",
    [
        "file:///static/css/app.css",
        f"file://{settings.BASE_DIR}/static/css/app.css",
        f"{settings.BASE_DIR.as_uri()}/static/css/app.css",
    ],
)
def test_static_urls_resolve_to_the_static_folder(url):
    assert static_file(url) == APP_CSS.resolve()


def test_collected_files_in_static_root_are_served(tmp_path, settings):
    """In production `{% static %}` names the collected, hashed file."""
    settings.STATIC_ROOT = tmp_path
    (tmp_path / "css").mkdir()
    (tmp_path / "css" / "app.0123abcd.css").write_text("p { color: red }")
    assert static_file("file:///static/css/app.0123abcd.css") == (
        tmp_path / "css" / "app.0123abcd.css"
    )
    assert static_file(f"{tmp_path.as_uri()}/css/app.0123abcd.css") is not None


def test_certificate_qr_code_still_prints(no_network, fetches):
    """The certificates' QR code is a data: URL, which stays allowed."""
    from certification.rendering import qr_data_uri

    qr = qr_data_uri("https://certif.example.org/verifier/abc")
    assert render_pdf(f'<img src="{qr}">').startswith(b"%PDF")
    assert fetches == [(qr, "served")]
