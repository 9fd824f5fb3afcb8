"""Certificate to PDF bytes: a Django template rendered by WeasyPrint.

Everything printed comes from the certificate's frozen mentions, so that a
re-render (never needed in normal use) would print the same text."""

import base64
import logging

import segno
from django.core.files.storage import default_storage
from django.template.loader import render_to_string

from core.pdf import render_pdf

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
    try:
        return render_pdf(certificate_html(certificate))
    except Exception:
        logger.exception("Échec du rendu PDF du certificat %s", certificate.number)
        raise
