"""Django-rendered HTML to PDF bytes: every document of the platform goes through here."""

from django.conf import settings
from weasyprint import HTML


def render_pdf(html):
    """PDF bytes of `html`; static files resolve from the project's folder."""
    return HTML(string=html, base_url=str(settings.BASE_DIR)).write_pdf()
