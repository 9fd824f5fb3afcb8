"""The e-mail a certificate's holder receives once its sealed PDF is stored
(core/notifications.py sends it). Certificates are issued from published PVs
only, so nothing reaches the holder before publication."""

from django.urls import reverse

from core.dates import french_date
from core.models import Notification
from core.notifications import notify

from .models import Certificate


def certificate_available(certificate):
    """Its holder, if they have an account: the certificate can be downloaded."""
    certificate = Certificate.objects.select_related("candidate__user").get(pk=certificate.pk)
    holder = certificate.candidate.user
    if certificate.status != Certificate.Status.VALID or not certificate.pdf or holder is None:
        return None
    return notify(
        Notification.Kind.CERTIFICATE_AVAILABLE,
        f"certificate-{certificate.pk}",
        [holder],
        {
            "certificate": certificate,
            "kind": certificate.get_kind_display(),
            "bloc": certificate.mentions.get("bloc", {}),
            "issued_on": french_date(certificate.issued_at),
            "url": reverse("certification:mine"),
        },
    )
