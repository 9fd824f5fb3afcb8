"""The scoring grid's script under the conditions of a real exam day: a quick
"Remettre" right after a change, a session that expired, a page left with a
change not yet stored."""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from candidates.tests.factories import PASSWORD
from evaluations.models import Grid

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_grid(page, assessment, username="jury1"):
    page.goto("/connexion/")
    page.get_by_label("Nom d’utilisateur").fill(username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()
    page.goto(reverse("evaluations:grid", args=[assessment.pk]))
    expect(page.get_by_role("radiogroup")).to_have_count(8)


def hold_autosaves(page):
    """Autosaves reach the server, but their answers are held back until the
    test calls release(): the browser sees a save still in flight."""
    held = []

    def handle(route):
        if route.request.headers.get("x-requested-with") == "fetch" and held is not None:
            held.append((route, route.fetch()))
        else:
            route.continue_()

    def release():
        for route, response in held:
            route.fulfill(response=response)
        held.clear()

    page.route("**/grille/", handle)
    return held, release


def wait_for(page, condition):
    for _ in range(100):
        if condition():
            return
        page.wait_for_timeout(50)
    raise AssertionError("la condition attendue n'est jamais arrivée")


def test_handing_in_during_an_autosave_waits_for_it_and_is_not_stale(page, oral_session):
    assessment = oral_session.assessments.get()
    open_grid(page, assessment)
    groups = page.get_by_role("radiogroup")
    for index in range(7):
        groups.nth(index).get_by_text("3 · Maîtrisé").click()
    expect(page.locator("#autosave-status")).to_contain_text("Brouillon enregistré")

    held, release = hold_autosaves(page)
    groups.nth(7).get_by_text("2 · Acquis").click()
    wait_for(page, lambda: held)  # stored on the server, answer not yet back
    page.get_by_role("button", name="Remettre la grille").click()
    page.wait_for_timeout(300)
    assert len(held) == 1  # the hand-in waits for that save, sends no second one
    assert not Grid.objects.get(assessment=assessment).is_submitted
    release()

    expect(page.get_by_text("Grille remise : elle est verrouillée.")).to_be_visible()
    grid = Grid.objects.get(assessment=assessment)
    assert grid.is_submitted
    assert sorted(grid.scores.values_list("value", flat=True)) == [2] + [3] * 7


def test_an_expired_session_is_told_apart_from_a_lost_connection(page, oral_session):
    assessment = oral_session.assessments.get()
    open_grid(page, assessment)
    page.context.clear_cookies(name="sessionid")  # signed out; the CSRF cookie stays
    page.get_by_role("radiogroup").nth(0).get_by_text("2 · Acquis").click()
    expect(page.locator("#autosave-status")).to_contain_text("Votre session a expiré")
    expect(page.locator("#autosave-status")).to_have_class(re.compile(r"\btext-danger\b"))
    assert not Grid.objects.filter(assessment=assessment).exists()


def test_a_lost_connection_says_so(page, oral_session):
    assessment = oral_session.assessments.get()
    open_grid(page, assessment)
    page.route("**/grille/", lambda route: route.abort())
    page.get_by_role("radiogroup").nth(0).get_by_text("2 · Acquis").click()
    expect(page.locator("#autosave-status")).to_contain_text("Connexion perdue")


def test_leaving_with_a_change_not_yet_stored_asks_first(page, oral_session):
    assessment = oral_session.assessments.get()
    open_grid(page, assessment)
    held, _ = hold_autosaves(page)
    page.get_by_role("radiogroup").nth(0).get_by_text("2 · Acquis").click()
    wait_for(page, lambda: held)
    dialogs = []

    def dismiss(dialog):
        dialogs.append(dialog.type)
        dialog.dismiss()

    page.on("dialog", dismiss)
    page.get_by_role("link", name="Sessions").first.click()
    wait_for(page, lambda: dialogs)
    assert dialogs == ["beforeunload"]
    expect(page.get_by_role("radiogroup")).to_have_count(8)  # still on the grid
