"""The office reads the statistics France Compétences asks for, in Chromium:
from the dashboard's to-do list to the figures, their charts and an export."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from core.tests.browser import sign_in
from portal.tests.test_statistics import untitled, world  # noqa: F401 (the known data set)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/h7")


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"statistiques-{name}.png"), full_page=True)


def test_the_office_reads_the_statistics_page(page, world):  # noqa: F811
    page.set_viewport_size({"width": 1366, "height": 900})
    sign_in(page, "admin")
    page.goto("/")
    expect(page.get_by_role("heading", name="À faire")).to_be_visible()
    # Issue 18.7: what is to issue, to print and valid, each on its own line.
    expect(page.locator("#todo-to-issue")).to_contain_text("certificat(s) à délivrer")
    expect(page.locator("#todo-to-print")).to_contain_text("à imprimer un par un")
    expect(page.locator("#at-a-glance")).to_contain_text("1 certificat(s) valide(s)")
    shot(page, "1-tableau-de-bord")

    page.get_by_role("link", name="Statistiques France Compétences").click()
    expect(page.get_by_role("heading", name="Statistiques de la certification")).to_be_visible()
    expect(page.get_by_label("Année (signature du PV)")).to_have_value("2027")
    expect(page.locator("#figure-presented")).to_have_text("3")
    expect(page.locator("#figure-titles")).to_have_text("1")
    expect(page.locator("#figure-title-rate")).to_have_text("33,3 %")
    blocs = page.get_by_role("table").filter(has_text="Présentés").first
    expect(blocs.get_by_role("row", name=re.compile(r"^Bloc 1 ·"))).to_contain_text("66,7 %")
    routes = page.locator("#table-routes")
    expect(routes.get_by_role("row", name=re.compile("^VAE"))).to_contain_text("0 %")
    expect(page.get_by_role("img", name=re.compile("Taux de validation par bloc"))).to_be_visible()
    expect(page.locator("svg[role=img]")).to_have_count(4)
    shot(page, "2-annee-2027")

    with page.expect_download() as download:
        page.get_by_role("link", name="Exporter en XLSX").click()
    assert re.fullmatch(
        r"statistiques-2027-\d{4}-\d{2}-\d{2}\.xlsx", download.value.suggested_filename
    )

    page.get_by_label("Année (signature du PV)").select_option("2026")
    page.get_by_role("button", name="Afficher").click()
    expect(page.locator("#figure-presented")).to_have_text("0")
    expect(page.get_by_text("Aucun candidat présenté cette année-là.")).to_be_visible()
    shot(page, "3-annee-2026")
