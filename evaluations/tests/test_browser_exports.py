"""The office exports a promotion's results from its page, in Chromium: the
downloaded workbook holds the header and Emma's line."""

import datetime
from pathlib import Path

import pytest
from django.urls import reverse
from openpyxl import load_workbook
from playwright.sync_api import expect

from core.tests.browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/h6")


def test_the_office_exports_the_cohort_results(page, admin_user, scored, cohort):
    SHOTS.mkdir(parents=True, exist_ok=True)
    sign_in(page, "admin")
    page.goto(reverse("candidates:cohorts"))
    page.get_by_role("link", name=cohort.name).first.click()
    expect(page.get_by_role("heading", name=cohort.name)).to_be_visible()
    page.screenshot(path=str(SHOTS / "promotion-export.png"), full_page=True)
    with page.expect_download() as download:
        page.get_by_role("link", name="Excel (XLSX)").click()
    today = datetime.date.today().isoformat()
    assert download.value.suggested_filename == f"resultats-promotion-2027-{today}.xlsx"
    saved = SHOTS / download.value.suggested_filename
    download.value.save_as(saved)
    sheet = load_workbook(saved, read_only=True).worksheets[0]
    header, *rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert header[:6] == [
        "Nom",
        "Prénoms",
        "Date de naissance",
        "Inscription",
        "C1.1 critère 1",
        "C1.1 critère 2",
    ]
    assert "Bloc 1 proposition" in header and "Bloc 4 décision du jury" in header
    assert len(rows) == 1
    emma = dict(zip(header, rows[0], strict=False))
    assert emma["Nom"] == "Petit" and emma["Prénoms"] == "Emma Louise"
    assert emma["Date de naissance"] == datetime.datetime(2001, 4, 12)
    assert emma["C1.1 critère 1"] == 2
    assert emma["Bloc 1 proposition"] == "Proposé validé"
    assert emma["Bloc 2 proposition"] == "Non proposé"
    assert emma["Bloc 4 proposition"] == "Non choisi"

    with page.expect_download() as download:
        page.get_by_role("link", name="CSV").click()
    data = Path(download.value.path()).read_bytes()
    assert data.startswith("\ufeffNom;Prénoms;Date de naissance;Inscription;".encode())
    assert "Petit;Emma Louise;12/04/2001;Inscrit;2,00;" in data.decode("utf-8-sig")


def test_the_office_filters_the_sessions_and_the_register(page, admin_user, scored, cohort):
    sign_in(page, "admin")
    page.goto(reverse("evaluations:sessions"))
    page.get_by_label("Statut").select_option(label="Ouverte à la notation")
    page.get_by_label("Promotion").select_option(label=cohort.name)
    page.get_by_role("button", name="Filtrer").click()
    expect(page.get_by_role("link", name="Bloc 1 · M1.1").first).to_be_visible()
    page.screenshot(path=str(SHOTS / "sessions-filtrees.png"), full_page=True)
    page.goto(reverse("certification:certificates"))
    page.get_by_label("Statut").select_option(label="Valide")
    page.get_by_role("button", name="Filtrer").click()
    expect(page.get_by_role("table", name="Registre des certificats")).to_contain_text(
        "Aucun certificat."
    )
    page.screenshot(path=str(SHOTS / "registre.png"), full_page=True)
