"""In the browser: the candidate's data and error report, the password
change from the account menu, the office's answer and its outbox."""

from pathlib import Path

import pytest
from playwright.sync_api import expect

from core.models import Notification
from core.tests.browser import sign_in, sign_out

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/h5")


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)


def test_candidate_side_and_office_outbox(page, published, admin_user, candidate_user):
    Notification.objects.create(
        kind=Notification.Kind.RESULTS_PUBLISHED,
        event_key=f"deliberation-{published.pk}",
        recipient=candidate_user,
        email="candidat@example.org",
        subject="Vos résultats sont publiés : certification « Assistant de production »",
        body="Bonjour Candidat,\n",
        status=Notification.Status.FAILED,
        attempts=1,
        error="ConnectionRefusedError : serveur de courrier injoignable",
    )
    sign_in(page, "candidat")
    page.goto("/mes-donnees/")
    expect(page.get_by_role("heading", name="M1.1 · ", exact=False)).to_be_visible()
    expect(page.get_by_text("Évaluation de Jury1").first).to_be_visible()
    expect(page.get_by_text("12 avril 2001")).to_be_visible()
    shot(page, "mes-donnees")

    page.get_by_role("link", name="Ma fiche").first.click()
    page.get_by_label("L'erreur et la bonne information").fill(
        "Mon nom de naissance s'écrit Petit-Martin."
    )
    page.get_by_role("button", name="Signaler l'erreur au bureau").click()
    expect(page.get_by_text("Votre signalement est transmis au bureau")).to_be_visible()
    shot(page, "ma-fiche-signalement")

    page.locator("#account-menu").click()
    page.get_by_role("link", name="Changer de mot de passe").click()
    page.locator("#id_old_password").fill("faux")
    page.locator("#id_new_password1").fill("Un-nouveau-mot-de-passe-42")
    page.locator("#id_new_password2").fill("Un-nouveau-mot-de-passe-42")
    page.get_by_role("button", name="Changer le mot de passe").click()
    expect(page.get_by_text("Votre ancien mot de passe est incorrect")).to_be_visible()
    shot(page, "mot-de-passe-refuse")
    from candidates.tests.factories import PASSWORD

    page.locator("#id_old_password").fill(PASSWORD)
    page.locator("#id_new_password1").fill("Un-nouveau-mot-de-passe-42")
    page.locator("#id_new_password2").fill("Un-nouveau-mot-de-passe-42")
    page.get_by_role("button", name="Changer le mot de passe").click()
    expect(page.get_by_role("heading", name="Mot de passe changé")).to_be_visible()
    sign_out(page)
    sign_in(page, "candidat", "Un-nouveau-mot-de-passe-42")
    sign_out(page)

    sign_in(page, "admin")
    page.goto(f"/candidats/{published.cohort.enrolments.get().candidate_id}/")
    expect(
        page.get_by_text("Mon nom de naissance s'écrit Petit-Martin.", exact=True)
    ).to_be_visible()
    shot(page, "fiche-bureau-signalement")
    page.get_by_label("Réponse au candidat", exact=False).fill("Fiche corrigée, merci.")
    page.get_by_role("button", name="Marquer comme traité").click()
    expect(page.get_by_text("traité.")).to_be_visible()

    page.goto("/personnes/courriels/")
    expect(page.get_by_text("serveur de courrier injoignable")).to_be_visible()
    shot(page, "courriels")
    page.get_by_role("button", name="Renvoyer les échecs (1)").click()
    expect(page.get_by_text("1 courriel en échec renvoyé")).to_be_visible()
    expect(page.locator(".badge", has_text="Envoyé")).to_be_visible()
    shot(page, "courriels-renvoyes")
