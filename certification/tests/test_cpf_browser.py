"""The office's CPF journey in a real browser: a late declaration on the
dashboard, a flow generated, the CDC's outcome recorded, nothing late left."""

import re
from pathlib import Path

import pytest
from django.urls import reverse
from django.utils import timezone
from playwright.sync_api import expect

from certification.models import DeclarationFlow
from certification.tests.test_cpf import awarded, cdc, sign_on  # noqa: F401 (fixtures)
from core.dates import add_months
from core.tests.browser import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path("/tmp/h2")


def shot(page, name):
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / f"cpf-{name}.png"), full_page=True)


def test_the_office_declares_records_the_outcome_and_nothing_is_late(
    page,
    awarded,  # noqa: F811 (the fixture imported above)
    published,
    admin_user,
):
    # Signed four months ago: both bloc certificates are late.
    sign_on(published, add_months(timezone.localdate(), -4))
    sign_in(page, "admin")
    page.goto("/")
    card = page.locator("#cpf-deadlines")
    expect(card).to_contain_text("2")
    expect(card).to_contain_text("déclaration(s) CPF en retard")
    shot(page, "1-tableau-de-bord-en-retard")

    card.click()
    expect(page.get_by_role("heading", name="Déclarations au CPF (accrochage)")).to_be_visible()
    rows = page.locator("#cpf-generate tbody tr")
    expect(rows).to_have_count(2)
    expect(rows.filter(has_text="en retard")).to_have_count(2)
    shot(page, "2-a-declarer")
    page.get_by_role("button", name="Générer le flux des certificats cochés").click()

    expect(
        page.get_by_role("heading", name=re.compile("Flux de déclaration CPF n° 1"))
    ).to_be_visible()
    expect(page.get_by_text(re.compile("validé par le schéma de la CDC"))).to_be_visible()
    flow = DeclarationFlow.objects.get()
    with page.expect_download() as download:
        page.get_by_role("link", name="Télécharger le fichier XML").click()
    assert download.value.suggested_filename == f"{flow.flow_id}.xml"
    first, second = (certificate.number for certificate in awarded)
    page.get_by_label(f"Résultat pour {first}").select_option(label="Accepté")
    page.locator("tr", has_text=first).get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text(f"Résultat enregistré pour {first}.")).to_be_visible()
    csv = SHOTS / "retour-cdc.csv"
    SHOTS.mkdir(parents=True, exist_ok=True)
    csv.write_text(f"id technique;statut;motif\n{second};accepté;\n", encoding="utf-8")
    page.get_by_label(re.compile("Fichier CSV de la CDC")).set_input_files(str(csv))
    page.get_by_role("button", name="Enregistrer les résultats").click()
    expect(page.get_by_text("1 résultat(s) enregistré(s) depuis le fichier.")).to_be_visible()
    expect(
        page.get_by_text("2 passage(s) : 2 accepté(s), 0 rejeté(s), 0 en attente")
    ).to_be_visible()
    shot(page, "3-flux-accepte")

    page.goto("/")
    expect(page.locator("#cpf-deadlines")).to_contain_text("aucune en retard")
    shot(page, "4-tableau-de-bord-rien-en-retard")
    assert set(flow.passages.values_list("outcome", flat=True)) == {"accepted"}
    page.goto(awarded[0].get_absolute_url())
    expect(
        page.get_by_role("heading", name="Déclaration au CPF (Caisse des Dépôts)")
    ).to_be_visible()
    expect(page.get_by_text("Accepté", exact=True)).to_be_visible()
    shot(page, "5-certificat")


def test_the_office_is_told_what_to_complete(page, awarded, candidate):  # noqa: F811
    candidate.sex = ""
    candidate.save(update_fields=["sex"])
    sign_in(page, "admin")
    page.goto(reverse("certification:cpf"))
    page.get_by_role("button", name="Générer le flux des certificats cochés").click()
    problems = page.locator("#cpf-problems")
    expect(problems).to_contain_text("Rien n'a été généré")
    expect(problems.get_by_role("link", name=re.compile("Petit Emma Louise"))).to_have_count(1)
    expect(problems).to_contain_text("le sexe")
    shot(page, "6-a-completer")
    assert not DeclarationFlow.objects.exists()


def test_the_office_notes_the_correction_of_a_revoked_certificate(
    page,
    awarded,  # noqa: F811 (the fixture imported above)
    admin_user,
):
    from certification import cpf
    from certification.services import revoke_certificate

    cpf.generate_flows(by=admin_user)
    revoke_certificate(awarded[0], reason="Fraude établie", by=admin_user)
    sign_in(page, "admin")
    page.goto("/")
    expect(page.locator("#cpf-deadlines")).to_contain_text("1 déclaration(s) à corriger")
    page.goto(reverse("certification:cpf") + "?etat=to_correct")
    row = page.locator("#cpf-generate tbody tr", has_text=awarded[0].number)
    expect(row).to_contain_text("À corriger")
    row.get_by_text("Signaler la correction").click()
    row.get_by_label("Correction faite auprès de la CDC").fill("Suppression demandée le 3 mars")
    shot(page, "7-a-corriger")
    row.get_by_role("button", name="Consigner").click()
    expect(
        page.get_by_text(re.compile("Correction de la déclaration du certificat"))
    ).to_be_visible()
    expect(page.locator("#cpf-generate tbody tr", has_text=awarded[0].number)).to_contain_text(
        "Correction signalée"
    )
    assert not cpf.to_correct().exists()
