"""Anyone checks a certificate's PDF on its public page, in Chromium: the
issued file is recognised with its seal intact; a copy whose holder was
renamed after sealing fails both checks. Screenshots under /tmp/h3/."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from .factories import issued
from .test_verification import rename_holder, stored_bytes

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/h3")


def test_anyone_checks_the_issued_pdf_and_a_tampered_copy(
    page, decision, django_capture_on_commit_callbacks, tmp_path
):
    certificate = issued(decision, django_capture_on_commit_callbacks)
    original = tmp_path / "certificat.pdf"
    original.write_bytes(stored_bytes(certificate))
    renamed = tmp_path / "certificat-modifie.pdf"
    renamed.write_bytes(rename_holder(stored_bytes(certificate)))
    SHOTS.mkdir(exist_ok=True)

    page.goto(certificate.get_verification_url())
    expect(page.get_by_text("Certificat valide.")).to_be_visible()
    expect(page.get_by_text("Compétences attestées")).to_be_visible()
    page.get_by_label("Document PDF à contrôler").set_input_files(str(original))
    page.get_by_role("button", name="Contrôler le fichier").click()
    result = page.locator("#resultat")
    expect(result).to_contain_text("Ce fichier est exactement le document délivré.")
    expect(result).to_contain_text("Signature intacte")
    page.screenshot(path=str(SHOTS / "verification-valide.png"), full_page=True)

    page.get_by_label("Document PDF à contrôler").set_input_files(str(renamed))
    page.get_by_role("button", name="Contrôler le fichier").click()
    expect(result).to_contain_text("Ce fichier n'est pas le document délivré")
    expect(result).to_contain_text("Signature altérée")
    result.scroll_into_view_if_needed()
    page.screenshot(path=str(SHOTS / "verification-falsifie.png"), full_page=True)
