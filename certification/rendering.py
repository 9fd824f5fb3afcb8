"""Certificate to PDF bytes: a Django template rendered by WeasyPrint, then
sealed. Pure: nothing here writes to the database (services.store_pdf keeps
the bytes).

Everything printed comes from the certificate's frozen mentions, so that a
re-render (never needed in normal use) would print the same text."""

import base64
import logging
import os
from dataclasses import dataclass

import segno
from django.core.files.storage import default_storage
from django.template.loader import render_to_string

from core.pdf import render_pdf
from core.signing import seal_pdf

logger = logging.getLogger(__name__)


def qr_data_uri(url):
    """A vector (SVG) QR code, so that it prints sharp at any size."""
    svg = segno.make(url, error="m").svg_inline(scale=4, border=0, dark="#000")
    return "data:image/svg+xml;base64," + base64.b64encode(svg.encode()).decode()


SIGNATURE_TYPES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg"}


def signature_data_uri(name):
    """The signature image frozen in the mentions (its stored file), as a data:
    URL: the PDF renderer fetches nothing else (core.pdf). "" when there is
    none or it cannot be read: the certificate keeps its signature line."""
    content_type = SIGNATURE_TYPES.get(name.rsplit(".", 1)[-1].lower()) if name else None
    if content_type is None:
        return ""
    try:
        with default_storage.open(name, "rb") as stored:
            data = stored.read()
    except OSError:
        logger.warning("Image de signature illisible : %s", name)
        return ""
    return f"data:{content_type};base64," + base64.b64encode(data).decode()


def certificate_html(certificate):
    """Dates are frozen as ISO strings and printed in French by the template
    (« 1er décembre 2026 »)."""
    return render_to_string(
        "certification/certificate_pdf.html",
        {
            "certificate": certificate,
            "m": certificate.mentions,
            "verification_url": certificate.public_url,
            "qr": qr_data_uri(certificate.public_url),
            "signature": signature_data_uri(certificate.mentions.get("signature_image", "")),
        },
    )


def render_certificate(certificate):
    """A failure is logged with the certificate's number, then raised again: the
    rendering after commit (services.store_pdf) is `robust` and would otherwise
    leave in the log only Django's generic on_commit line."""
    return _render(certificate_html(certificate), number=certificate.number)


def _render(html, *, number):
    try:
        return render_pdf(html)
    except Exception:
        logger.exception("Échec du rendu PDF du certificat %s", number)
        raise


def seal_details(certificate):
    """What the certificate's seal says: why (which certificate, by whom) and where."""
    mentions = certificate.mentions
    return {
        "reason": f"{certificate.get_kind_display()} n° {certificate.number} délivré par "
        f"{mentions.get('certifier', '')}",
        "location": mentions.get("issue_place", ""),
    }


def sealed_certificate(certificate):
    """The certificate's PDF, rendered and sealed with the certifier's seal."""
    return seal_pdf(render_certificate(certificate), **seal_details(certificate))


@dataclass(frozen=True)
class PrintOrder:
    """What rendering and sealing a certificate needs, and nothing of the
    database: bulk printing (printing.py) builds it in the task's process and
    hands it to a worker process, which returns the sealed bytes."""

    number: str
    html: str
    reason: str
    location: str

    @classmethod
    def of(cls, certificate):
        return cls(
            number=certificate.number,
            html=certificate_html(certificate),
            **seal_details(certificate),
        )

    def sealed(self):
        """Rendered and sealed as sealed_certificate() does, in whatever process."""
        pdf = _render(self.html, number=self.number)
        return seal_pdf(pdf, reason=self.reason, location=self.location)


def start_worker(settings_module, values):
    """A worker process of bulk printing's pool (printing.Renderer): Django set
    up, with the values of the task's settings that rendering needs. Here, not
    in printing.py, which imports models: a spawned process loads this
    function before Django is set up."""
    if settings_module:  # else inherited from the task's environment
        os.environ["DJANGO_SETTINGS_MODULE"] = settings_module
    import django
    from django.conf import settings

    django.setup()
    for name, value in values.items():
        setattr(settings, name, value)
