import re

import pytest
from playwright.sync_api import expect

from candidates.tests.factories import PASSWORD
from evaluations.models import Deliberation
from evaluations.tests.factories import sit_bloc

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page, username):
    page.goto("/connexion/")
    page.get_by_label("Nom d’utilisateur").fill(username)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()


def sign_out(page):
    page.get_by_role("button", name="Se déconnecter").click()


def test_a_deliberation_from_opening_to_signature(
    page, admin_user, cohort, candidate, trainer, jury, jury_member, second_jury_member
):
    for number, value in ((1, 2), (2, 1), (3, 3)):
        sit_bloc(cohort, number, value, trainer=trainer, jury=jury)

    sign_in(page, "admin")
    page.get_by_role("link", name="Jurys").click()
    page.get_by_role("link", name=jury.name).click()
    expect(page.get_by_text("Composition conforme")).to_be_visible()
    page.get_by_label("Promotion délibérée").select_option(label=cohort.name)
    page.get_by_role("button", name="Ouvrir la délibération").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Délibération n°")
    sign_out(page)

    sign_in(page, "jury2")
    page.get_by_role("link", name="Jurys").click()
    page.get_by_role("link", name=jury.name).click()
    page.get_by_role("link", name=re.compile("Délibération n°")).click()
    table = page.get_by_role("table", name="Décisions par candidat et par bloc")

    def decide(bloc_number):
        table.get_by_role("cell").nth(bloc_number - 1).get_by_role("button").click()

    # Bloc 2 against the proposal: refused without a justification, then justified.
    page.get_by_label("Décision, Petit Emma Louise, bloc 2").select_option(label="Validé")
    decide(2)
    expect(page.get_by_text("une justification écrite est obligatoire")).to_be_visible()
    page.get_by_label("Décision, Petit Emma Louise, bloc 2").select_option(label="Ajourné")
    page.get_by_label("Justification, Petit Emma Louise, bloc 2").fill(
        "Étude de cas à représenter en janvier."
    )
    decide(2)
    for number in (1, 3):  # the proposal is preselected
        decide(number)
        expect(
            page.get_by_text(f"Décision enregistrée : Petit Emma Louise, bloc {number}.")
        ).to_be_visible()
    expect(table.get_by_text("Décision : Validé")).to_have_count(2)
    page.get_by_role("button", name="Signer le procès-verbal").click()
    expect(page.get_by_text("Votre signature est enregistrée.")).to_be_visible()
    sign_out(page)

    sign_in(page, "jury1")
    page.get_by_role("link", name="Jurys").click()
    page.get_by_role("link", name=jury.name).click()
    page.get_by_role("link", name=re.compile("Délibération n°")).click()
    page.get_by_role("button", name="Signer le procès-verbal").click()
    expect(page.get_by_text("Procès-verbal signé et clos")).to_be_visible()
    expect(page.get_by_role("link", name="Télécharger le procès-verbal (PDF)")).to_be_visible()
    expect(page.get_by_role("button", name="Décider")).to_have_count(0)
    deliberation = Deliberation.objects.get()
    assert deliberation.is_signed and deliberation.minutes_pdf
    assert deliberation.decisions.get(bloc__number=2).justification.startswith("Étude de cas")
