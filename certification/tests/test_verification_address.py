"""The verification address printed under the QR code: one line, from a code
of at least 128 random bits."""

import re

import pytest
from django.test import override_settings

from certification.tests.factories import issued, pdf_reader

pytestmark = pytest.mark.django_db

LONG_BASE = "https://certification.centre-de-formation.example.org"


@override_settings(PUBLIC_BASE_URL=LONG_BASE)
def test_the_address_fits_on_one_line(decision, admin_user, django_capture_on_commit_callbacks):
    certificate = issued(decision, django_capture_on_commit_callbacks, by=admin_user)
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", certificate.verification_code)  # 132 bits
    address = f"{LONG_BASE}/verifier/{certificate.verification_code}/"
    lines = pdf_reader(certificate).pages[0].extract_text().splitlines()
    assert address in [line.strip() for line in lines]
