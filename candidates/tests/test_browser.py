import re

import pytest
from playwright.sync_api import expect

from candidates.importing import SAMPLE_FILE
from candidates.models import Enrolment
from candidates.tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_admin_imports_the_sample_file_and_the_candidates_appear(page, admin_user, cohort):
    page.goto("/")
    page.get_by_label("Nom d’utilisateur").fill("admin")
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()

    expect(page.get_by_role("heading", name="Tableau de bord du bureau")).to_be_visible()
    page.get_by_role("link", name="Promotions", exact=True).click()
    page.get_by_role("link", name=cohort.name).click()
    expect(page.get_by_text("Aucun candidat inscrit.")).to_be_visible()
    page.get_by_role("link", name="Importer un fichier").click()
    page.get_by_label("Fichier de la promotion").set_input_files(str(SAMPLE_FILE))
    page.get_by_role("button", name="Prévisualiser").click()

    expect(page.get_by_role("heading", name=re.compile("Aperçu de l'import"))).to_be_visible()
    rows = page.locator("tbody tr")
    expect(rows).to_have_count(12)  # the twelve people of the sample file
    expect(rows.filter(has_text="créé et inscrit")).to_have_count(12)
    assert not Enrolment.objects.exists()
    page.get_by_role("button", name="Confirmer l'import").click()

    expect(
        page.get_by_text(re.compile(r"Import terminé : 12 candidat\(s\) créé\(s\)"))
    ).to_be_visible()
    table = page.get_by_role("table", name="Candidats de la promotion")
    expect(table.locator("tbody tr")).to_have_count(12)
    for name in ("Benali Yasmine", "Martin Léa Camille", "Santoni Marie-Ange"):
        expect(table.get_by_role("link", name=name)).to_be_visible()
    assert Enrolment.objects.filter(cohort=cohort).count() == 12
