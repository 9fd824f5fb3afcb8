import io

import pytest
from PIL import Image
from playwright.sync_api import expect

from candidates.tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, username):
    page.goto("/")
    page.get_by_label("Nom d’utilisateur").fill(username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


def test_office_fills_in_the_mentions(page, referential, admin_user, tmp_path):
    signature = tmp_path / "signature.png"
    buffer = io.BytesIO()
    Image.new("RGB", (120, 40), "white").save(buffer, "PNG")
    signature.write_bytes(buffer.getvalue())
    sign_in(page, "admin")
    page.goto(referential.get_absolute_url())
    page.get_by_role("link", name="Mentions des certificats et identifiants CDC").click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Mentions des certificats et identifiants CDC"
    )
    page.get_by_label("Code RNCP").fill("RNCP35307")
    page.get_by_label("Identifiant client de l'émetteur (CDC)").fill("AB12")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Cet identifiant compte exactement 8 caractères.")).to_be_visible()
    page.screenshot(path="/tmp/h1/mentions-refused.png", full_page=True)

    page.get_by_label("Identifiant client de l'émetteur (CDC)").fill("AB123456")
    page.get_by_label("Date de fin d'enregistrement au RNCP").fill("2029-03-28")
    page.get_by_label("Code officiel du bloc 1 :").fill("RNCP35307BC01")
    page.get_by_label("Code officiel du bloc 2 :").fill("RNCP35307BC02")
    page.get_by_label("Image de la signature").set_input_files(str(signature))
    page.screenshot(path="/tmp/h1/mentions-form.png", full_page=True)
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Mentions et identifiants enregistrés.")).to_be_visible()
    expect(page.get_by_role("cell", name="RNCP35307BC01")).to_be_visible()
    page.screenshot(path="/tmp/h1/version-detail.png", full_page=True)
    referential.refresh_from_db()
    assert referential.cdc_issuer_id == "AB123456" and referential.signature_image
