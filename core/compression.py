"""Compressed answers: gzip for text (HTML pages, CSV exports, JSON), never
for what is compressed already (PDF, XLSX, images, fonts).

Django's GZipMiddleware mitigates BREACH since 4.2 ("Heal The Breach"): each
compressed answer carries a random-length gzip file name (up to 100 bytes), so
its length no longer tells an attacker whether a guess matched a secret of the
page; the CSRF token is besides masked afresh on each answer. PDFs and XLSX
gain nothing from a second compression, which would only cost processor time
and turn their known Content-Length into a chunked stream."""

from django.middleware.gzip import GZipMiddleware

COMPRESSIBLE = (
    "text/",
    "application/json",
    "application/xml",
    "application/javascript",
    "image/svg+xml",
)


class TextGZipMiddleware(GZipMiddleware):
    def process_response(self, request, response):
        content_type = response.get("Content-Type", "").split(";")[0].strip().lower()
        if not content_type.startswith(COMPRESSIBLE):
            return response
        return super().process_response(request, response)
