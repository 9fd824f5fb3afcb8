import re

import pytest
from playwright.sync_api import expect

from candidates.tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_sign_in_open_the_referential_and_a_bloc(page, referential, trainer):
    page.goto("/")
    expect(page).to_have_url(re.compile(r"/connexion/"))
    page.get_by_label("Nom d’utilisateur").fill("formateur")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()

    expect(page.get_by_role("heading", name="Tableau de bord", exact=True)).to_be_visible()
    page.get_by_role("link", name="Référentiel", exact=True).click()
    expect(page.get_by_role("heading", name="Référentiels de certification")).to_be_visible()
    page.get_by_role("link", name="Assistant de production").click()
    expect(page.get_by_role("heading", name="Assistant de production", level=1)).to_be_visible()
    expect(page.locator("tbody tr")).to_have_count(4)

    page.get_by_role("link", name=re.compile("^Suivi administratif et juridique")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(
        "Bloc 3 : Suivi administratif et juridique d’une société de production"
    )
    expect(page.get_by_text("C3.3", exact=True).first).to_be_visible()
    expect(
        page.get_by_text("ses connaissances juridiques liée à la réglementation")
    ).to_be_visible()
    # Bootstrap is served by the platform itself: the page is styled offline.
    navbar_colour = page.locator("nav.navbar").evaluate("n => getComputedStyle(n).backgroundColor")
    assert navbar_colour == "rgb(33, 37, 41)"
