import re

import pytest
from playwright.sync_api import expect

from candidates.tests.factories import fill_cohort
from certification.models import Certificate, PrintJob
from core.tests.browser import sign_in, sign_out
from evaluations.models import BlocDecision, Deliberation
from evaluations.tests.factories import sit_bloc

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def open_the_deliberation(page, jury):
    page.get_by_role("link", name="Jurys").click()
    page.get_by_role("link", name=jury.name).click()
    page.get_by_role("link", name=re.compile("Délibération n°")).click()


def test_a_jury_day_from_opening_to_printing(
    page, mentions, admin_user, cohort, candidate, trainer, jury, jury_member, second_jury_member
):
    """Twelve candidates who sat bloc 1 only: the jury adopts every proposal,
    adjourns one candidate with a justification, every member signs, the office
    publishes and prints."""
    fill_cohort(cohort, 11)
    sit_bloc(cohort, 1, 2, trainer=trainer, jury=jury)

    sign_in(page, "admin")
    page.get_by_role("link", name="Jurys").click()
    page.get_by_role("link", name=jury.name).click()
    expect(page.get_by_text("Composition conforme")).to_be_visible()
    page.get_by_label("Promotion délibérée").select_option(label=cohort.name)
    page.get_by_role("button", name="Ouvrir la délibération").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Délibération n°")
    sign_out(page)

    sign_in(page, "jury2")
    open_the_deliberation(page, jury)
    table = page.get_by_role("table", name="Décisions par candidat et par bloc")
    # Only bloc 1 was sat: blocs 2 and 3 (and bloc 4 for the eleven who chose it)
    # are not presented, nothing to decide there.
    expect(table.get_by_text("non présenté")).to_have_count(12 * 2 + 11)
    page.get_by_role("button", name="Adopter toutes les propositions").click()
    expect(
        page.get_by_text("Propositions adoptées : 12 décision(s) enregistrée(s).")
    ).to_be_visible()
    expect(table.get_by_text("Décision : Validé")).to_have_count(12)

    # One exception: refused without a justification, then justified; the page
    # comes back to that candidate's row.
    row = table.get_by_role("row", name=re.compile("Petit Emma Louise"))
    page.get_by_label("Décision, Petit Emma Louise, bloc 1").select_option(label="Ajourné")
    row.get_by_role("button", name="Enregistrer la ligne").click()
    expect(page.get_by_text("une justification écrite est obligatoire")).to_be_visible()
    assert page.url.endswith(f"#row-{candidate.enrolments.get().pk}")
    page.get_by_label("Décision, Petit Emma Louise, bloc 1").select_option(label="Ajourné")
    page.get_by_label("Justification, Petit Emma Louise, bloc 1").fill(
        "Dossier de production à compléter."
    )
    row.get_by_role("button", name="Enregistrer la ligne").click()
    expect(page.get_by_text("Décisions enregistrées : Petit Emma Louise.")).to_be_visible()
    page.get_by_role("button", name="Signer le procès-verbal").click()
    expect(page.get_by_text("Votre signature est enregistrée.")).to_be_visible()
    sign_out(page)

    sign_in(page, "jury1")
    open_the_deliberation(page, jury)
    page.get_by_role("button", name="Signer le procès-verbal").click()
    expect(page.get_by_text("Procès-verbal signé et clos")).to_be_visible()
    expect(page.get_by_role("button", name="Enregistrer la ligne")).to_have_count(0)
    sign_out(page)

    deliberation = Deliberation.objects.get()
    assert deliberation.is_signed and deliberation.signed_table
    assert dict(
        BlocDecision.objects.values_list("enrolment__candidate__birth_name", "decision").filter(
            enrolment__candidate=candidate
        )
    ) == {"Petit": "postponed"}
    assert deliberation.decisions.filter(decision="validated").count() == 11

    sign_in(page, "admin")
    open_the_deliberation(page, jury)
    page.get_by_role("button", name="Publier les résultats aux candidats").click()
    expect(page.get_by_text(re.compile("résultats publiés le"))).to_be_visible()
    page.get_by_role("link", name="Certificats").first.click()
    page.get_by_role("button", name="Générer et imprimer").click()
    expect(page.get_by_text(re.compile("11 certificat"))).to_be_visible()
    job = PrintJob.objects.get()
    assert (job.total, job.done) == (11, 11)
    assert Certificate.objects.count() == 11
