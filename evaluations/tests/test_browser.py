import re

import pytest
from playwright.sync_api import expect

from candidates.tests.factories import PASSWORD
from evaluations.models import Grid, Score

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_jury_member_scores_a_candidate_submits_and_the_grid_locks(page, oral_session):
    assessment = oral_session.assessments.get()
    page.goto("/connexion/")
    page.get_by_label("Nom d’utilisateur").fill("jury1")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()

    page.get_by_role("link", name="Sessions").click()
    page.get_by_role("link", name=re.compile("M1.1 Mise en situation")).click()
    page.get_by_role("link", name="à noter").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Petit Emma Louise")

    groups = page.get_by_role("radiogroup")
    expect(groups).to_have_count(8)
    # Autosave: the first choice is stored without pressing any button.
    groups.nth(0).get_by_text("2 · Acquis").click()
    expect(page.locator("#autosave-status")).to_contain_text("Brouillon enregistré")
    assert Score.objects.get(criterion__order=1, criterion__competence__code="C1.1").value == 2

    # Keyboard: arrow down to the next criterion, then a digit picks the level
    # and moves on.
    page.locator("input[type=radio]:checked").focus()
    page.keyboard.press("ArrowDown")
    for _ in range(7):
        page.keyboard.press("3")
    expect(page.locator("input[type=radio]:checked")).to_have_count(8)
    page.get_by_label("Commentaire général").fill("Argumentation claire et solide.")
    page.get_by_role("button", name="Remettre la grille").click()

    # Her grid was the jury member's last one: back to the session page.
    expect(page.get_by_text("Toutes vos grilles sont remises.")).to_be_visible()
    page.get_by_role("link", name="remise").click()
    expect(page.get_by_text("elle est verrouillée")).to_be_visible()
    expect(page.get_by_role("button", name="Remettre la grille")).to_have_count(0)
    expect(page.get_by_label("Motif de la modification")).to_be_visible()
    grid = Grid.objects.get(assessment=assessment, assessor__username="jury1")
    assert grid.is_submitted
    assert sorted(grid.scores.values_list("value", flat=True)) == [2] + [3] * 7
    assert grid.overall_comment == "Argumentation claire et solide."
