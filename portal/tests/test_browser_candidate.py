import re

import pytest
from playwright.sync_api import expect

from candidates.tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_candidate_journey(page, decision, admin_user, candidate_user, tmp_path):
    from certification.services import issue_bloc_certificate

    certificate = issue_bloc_certificate(decision, by=admin_user)  # stored at once: autocommit

    page.goto("/")
    page.get_by_label("Nom d’utilisateur").fill("candidat")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()

    expect(page.get_by_role("heading", name="Mon parcours")).to_be_visible()
    bar = page.get_by_role("progressbar", name="Compétences acquises, bloc 1")
    expect(bar).to_have_attribute("aria-valuenow", "6")
    expect(page.get_by_text("6 compétence(s) acquise(s) sur 6")).to_be_visible()

    bloc1 = page.locator(".card", has_text="Bloc 1 ·")
    bloc1.get_by_text("Résultats détaillés publiés").click()
    expect(bloc1.get_by_text(re.compile(r"C1\.1 · acquise"))).to_be_visible()
    expect(bloc1.get_by_text(re.compile("sa compréhension et sa capacité"))).to_be_visible()

    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger le certificat (PDF)").click()
    saved = tmp_path / "certificat.pdf"
    download.value.save_as(saved)
    with certificate.__class__.objects.get(pk=certificate.pk).pdf.open("rb") as stored:
        assert saved.read_bytes() == stored.read()
