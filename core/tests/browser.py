"""Signing in and out in the browser journeys."""

from playwright.sync_api import expect

from candidates.tests.factories import PASSWORD


def sign_in(page, username, password=PASSWORD):
    page.goto("/connexion/")
    page.get_by_label("Nom d’utilisateur").fill(username)
    page.get_by_label("Mot de passe").fill(password)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.locator("#account-menu")).to_be_visible()


def sign_out(page):
    """Through the account menu, as a user would."""
    page.locator("#account-menu").click()
    page.get_by_role("button", name="Se déconnecter").click()
    expect(page.get_by_role("button", name="Se connecter")).to_be_visible()
