"""The PV fit to be signed: one line per candidate, a column per bloc, the
justifications as numbered notes, totals per bloc, members and their
signatures, "page n / N" and the PV number on every page; rendered from the
table the jury signed, so that nothing done afterwards changes it."""

import pytest

from candidates.models import Enrolment
from candidates.services import enrol, withdraw
from candidates.tests.factories import fill_cohort, make_candidate
from core.tests.pdf import read_pdf
from evaluations.deliberations import adopt_proposals, open_deliberation, record_decision
from evaluations.minutes import css_string, render_minutes
from evaluations.models import BlocDecision
from evaluations.tests.factories import bloc, sign_all, sit_bloc

pytestmark = pytest.mark.django_db


pages_of = read_pdf


def stored_pages(deliberation):
    deliberation.refresh_from_db()
    with deliberation.minutes_pdf.open("rb") as stored:
        return pages_of(stored.read())


@pytest.fixture
def twelve(cohort, candidate, trainer, jury, jury_member, second_jury_member):
    """Emma and eleven candidates who chose bloc 4: all pass bloc 1 and fail bloc 2;
    nobody sat bloc 3 nor bloc 4. The jury validates Emma's bloc 2 and adjourns
    bloc 1 of Nom100, both with a justification; the rest as proposed."""
    fill_cohort(cohort, 11)
    sit_bloc(cohort, 1, 2, trainer=trainer, jury=jury)
    sit_bloc(cohort, 2, 1, trainer=trainer, jury=jury)
    deliberation = open_deliberation(jury, cohort, by=None)
    emma = candidate.enrolments.get()
    other = Enrolment.objects.get(candidate__birth_name="Nom100")
    record_decision(
        deliberation,
        enrolment=emma,
        bloc=bloc(emma, 2),
        decision=BlocDecision.Decision.VALIDATED,
        justification="Le dossier de production compense l'étude de cas.",
        user=second_jury_member,
    )
    record_decision(
        deliberation,
        enrolment=other,
        bloc=bloc(other, 1),
        decision=BlocDecision.Decision.POSTPONED,
        justification="Attestation de stage à fournir.",
        user=second_jury_member,
    )
    assert adopt_proposals(deliberation, user=second_jury_member) == 22
    return deliberation


@pytest.fixture
def signed_pv(twelve, jury_member, second_jury_member, django_capture_on_commit_callbacks):
    return sign_all(
        twelve,
        jury_member,
        second_jury_member,
        django_capture_on_commit_callbacks,
        render_minutes=True,
    )


def decisions_part(text):
    """The decisions table alone: after its heading, before the notes."""
    return text.split("Décisions du jury", 1)[1].split("Justifications", 1)[0]


def test_one_line_per_candidate_a_column_per_bloc(signed_pv, cohort):
    pages, reader = stored_pages(signed_pv)
    text = " ".join(pages)
    table = decisions_part(text)
    names = [e.candidate.full_name for e in cohort.enrolments.select_related("candidate")]
    assert len(names) == 12
    for name in names:
        assert table.count(name) == 1, name  # one line, not one row per bloc
    # The twelve lines fit on the first two pages.
    last = max(names, key=table.index)
    assert any(last in page for page in pages[:2])
    assert len(reader.pages) <= 3
    assert reader.pages[0].mediabox.width > reader.pages[0].mediabox.height  # 4 blocs: landscape
    for number in (1, 2, 3, 4):
        assert f"Bloc {number}" in table
    # Bloc 2 not validated for the eleven others; bloc 3 never sat: "non présenté",
    # never "non validé"; bloc 4 not presented by the eleven, not chosen by Emma.
    assert table.count("Non validé") == 11
    assert table.count("Non présenté") == 12 + 11
    assert table.count("Non choisi") == 1
    assert table.count("Validé") == 10 + 1 + 1  # bloc 1 for ten, Emma's blocs 1 and 2
    assert table.count("Ajourné") == 1


def test_notes_totals_members_and_page_numbers(signed_pv, jury):
    pages, reader = stored_pages(signed_pv)
    text = " ".join(pages)
    table = decisions_part(text)
    # Justifications: the cell shows the note number, the note is below the table.
    assert table.count("[1]") == 1 and table.count("[2]") == 1
    assert "Nom100 Prénom100 né(e) le 10 avril 2000 Ajourné [1] proposition : validé" in table
    assert "Petit Emma Louise né(e) le 12 avril 2001 Validé Validé [2] proposition : non" in table
    assert (
        "[1] Nom100 Prénom100, bloc 1 : ajourné (proposition : validé). "
        "Attestation de stage à fournir." in text
    )
    assert (
        "[2] Petit Emma Louise, bloc 2 : validé (proposition : non validé). "
        "Le dossier de production compense l'étude de cas." in text
    )
    # Totals per bloc: presented, validated, not validated, adjourned.
    totals = text.split("Totaux par bloc", 1)[1]
    assert "Bloc 1 Bloc 2 Bloc 3 Bloc 4" in totals
    assert "Présentés 12 12 0 0" in totals
    assert "Validés 11 1 0 0" in totals
    assert "Non validés 0 11 0 0" in totals
    assert "Ajournés 1 0 0 0" in totals
    # Header: certification, jury, the day it met and its place.
    assert f"Procès-verbal de délibération n° {signed_pv.pk}" in pages[0]
    assert "« Assistant de production » · version 1" in pages[0]
    assert "Jury « Jury de certification 2027 », réuni le" in pages[0]
    assert "à CEFPF, Paris" in pages[0]
    # Members: role, external or not, and a signature block each, dated in French.
    assert "Jury1 Président(e) Centre de formation (CEFPF)" in text
    assert "Jury2 Membre Professionnel extérieur (Les Films du Lendemain)" in text
    signatures = text.split("Signatures", 1)[1]
    for member in jury.members.select_related("user"):
        assert member.user.get_full_name() in signatures
    assert signatures.count("Signé dans la plateforme le") == 2
    # "page n / N" and the PV number on every page.
    count = len(reader.pages)
    for number, page in enumerate(pages, start=1):
        assert f"PV n° {signed_pv.pk} · page {number} / {count}" in page


def test_the_signed_pv_never_changes(
    signed_pv, cohort, candidate, trainer, jury, jury_member, second_jury_member
):
    """A withdrawal, an enrolment and new scores after signature: the PV rendered
    again from the stored table says exactly what was signed."""
    signed_pages, _ = stored_pages(signed_pv)
    withdraw(Enrolment.objects.get(candidate__birth_name="Nom101"), reason="Abandon", by=None)
    enrol(make_candidate(500), cohort, access_route=Enrolment.AccessRoute.VAE, by=None)
    sit_bloc(cohort, 3, 3, trainer=trainer, jury=jury)
    again, _ = pages_of(render_minutes(signed_pv))
    assert again == signed_pages
    assert "Nom500" not in " ".join(again)
    assert "Nom101 Prénom101" in " ".join(again)


def test_a_rectifying_pv_cites_the_original(
    signed_pv, candidate, jury_member, second_jury_member, django_capture_on_commit_callbacks
):
    from evaluations.deliberations import rectify

    correction = rectify(signed_pv, reason="Erreur matérielle sur le bloc 2", user=jury_member)
    corrected = sign_all(
        correction,
        jury_member,
        second_jury_member,
        django_capture_on_commit_callbacks,
        render_minutes=True,
    )
    pages, _ = stored_pages(corrected)
    text = " ".join(pages)
    assert f"Procès-verbal rectificatif n° {corrected.pk}" in text
    assert f"Ce procès-verbal rectifie le procès-verbal n° {signed_pv.pk}" in text
    assert "Erreur matérielle sur le bloc 2" in text
    assert f"PV rectificatif n° {corrected.pk} · page 1 /" in pages[0]


def test_few_blocs_print_in_portrait(signed_pv, monkeypatch):
    monkeypatch.setattr("evaluations.minutes.PORTRAIT_MAX_BLOCS", 4)
    _, reader = pages_of(render_minutes(signed_pv))
    assert reader.pages[0].mediabox.width < reader.pages[0].mediabox.height


def test_margin_box_text_cannot_break_out_of_its_css_string():
    assert css_string('Jury "A" \\ </style>') == '"Jury \\22 A\\22  \\5c  \\3c /style\\3e "'
