import pytest
from playwright.sync_api import expect

from candidates.tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_office_edits_an_enrolment(page, candidate, admin_user):
    page.goto("/")
    page.get_by_label("Nom d’utilisateur").fill("admin")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.goto(candidate.get_absolute_url())
    page.get_by_role("link", name="Modifier l'inscription").click()
    page.get_by_label("Voie d'accès").select_option("vae")
    page.get_by_role("button", name="Enregistrer").click()
    expect(
        page.get_by_text("Pour une inscription par la VAE, précisez le type de VAE.")
    ).to_be_visible()
    page.screenshot(path="/tmp/h1/enrolment-refused.png", full_page=True)
    page.get_by_label("Type de VAE").select_option("conge_vae")
    page.get_by_label("Inscription à l'initiative de").select_option("employeur")
    page.get_by_label("Date d'inscription à la certification").fill("2026-09-01")
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("VAE (Congé VAE)")).to_be_visible()
    page.screenshot(path="/tmp/h1/enrolment-done.png", full_page=True)
    enrolment = candidate.enrolments.get()
    enrolment.refresh_from_db()
    assert enrolment.vae_route == "conge_vae"
