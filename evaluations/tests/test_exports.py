"""A cohort's results and a deliberation's table as spreadsheets: read back
(csv, openpyxl) line for line, formulas made inert, French order, and as many
queries for 300 candidates as for 3."""

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from blocks.models import Competence
from candidates.models import Cohort, Enrolment
from candidates.services import enrol
from candidates.tests.factories import bulk_enrol, make_candidate, make_user
from core import roles
from core.tests.spreadsheets import parsed
from evaluations.exports import cohort_results
from evaluations.standings import bloc_structure

pytestmark = pytest.mark.django_db

FORMATS = ["csv", "xlsx"]


def results_url(cohort, fmt="csv"):
    return reverse("evaluations:cohort_results_export", args=[cohort.pk, fmt])


def table_url(deliberation, fmt="csv"):
    return reverse("evaluations:deliberation_export", args=[deliberation.pk, fmt])


def expected_header(version):
    structure = bloc_structure(version)
    header = ["Nom", "Prénoms", "Date de naissance", "Inscription"]
    competences = Competence.objects.filter(certification_version=version).select_related("bloc")
    for bloc in version.blocs.order_by("number"):
        for competence in competences.filter(bloc=bloc).order_by("order"):
            count = len(structure[bloc.pk][competence.pk])
            header += [f"{competence.code} critère {n}" for n in range(1, count + 1)]
            header.append(f"{competence.code} compétence")
        header += [f"Bloc {bloc.number} proposition", f"Bloc {bloc.number} décision du jury"]
    return header


def emma_row(version, *, decisions=("", "", "", ""), orals=True):
    """Emma: 2 (Acquis) on bloc 1, 1 on bloc 2, 3 on bloc 3; no bloc 4. Without
    `orals`, the criteria of the jury's modalities are blank (a trainer's view)."""
    from blocks.models import EvaluationModality

    structure = bloc_structure(version)
    oral = set(
        Competence.objects.filter(
            certification_version=version,
            modalities__assessed_by=EvaluationModality.AssessedBy.JURY,
        ).values_list("pk", flat=True)
    )
    score = {1: "2,00", 2: "1,00", 3: "3,00"}
    row = ["Petit", "Emma Louise", "12/04/2001", "Inscrit"]
    competences = Competence.objects.filter(certification_version=version)
    for bloc, decision in zip(version.blocs.order_by("number"), decisions, strict=True):
        acquired = []
        for competence in competences.filter(bloc=bloc).order_by("order"):
            criteria = structure[bloc.pk][competence.pk]
            if bloc.optional:
                row += [""] * len(criteria) + [""]
                continue
            hidden = not orals and competence.pk in oral
            row += ["" if hidden else score[bloc.number]] * len(criteria)
            state = "Non évaluée" if hidden else "Acquise" if bloc.number != 2 else "Non acquise"
            row.append(state)
            acquired.append(state)
        if bloc.optional:
            row += ["Non choisi", decision]
        elif "Non évaluée" in acquired:
            row += ["En cours", decision]
        else:
            row += ["Proposé validé" if bloc.number != 2 else "Non proposé", decision]
    return row


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_office_exports_the_cohort_results_line_for_line(login, admin_user, scored, fmt):
    response = login(admin_user).get(results_url(scored.cohort, fmt))
    assert response.status_code == 200
    assert (
        f"resultats-promotion-2027-{datetime.date.today()}.{fmt}"
        in (response["Content-Disposition"])
    )
    version = scored.cohort.certification_version
    rows = parsed(response)
    assert rows == [expected_header(version), emma_row(version)]


def test_a_trainer_sees_no_oral_nor_decision_before_the_pv_is_published(
    login, admin_user, trainer, signed, cohort
):
    version = cohort.certification_version
    office = parsed(login(admin_user).get(results_url(cohort)))
    assert office[1] == emma_row(version, decisions=("Validé", "Non validé", "Validé", ""))
    teaching = parsed(login(trainer).get(results_url(cohort)))
    assert teaching[1] == emma_row(version, orals=False)
    assert teaching[1] != office[1]


def test_once_published_the_trainer_sees_the_orals_and_the_decisions(
    login, trainer, published, cohort
):
    version = cohort.certification_version
    rows = parsed(login(trainer).get(results_url(cohort)))
    assert rows[1] == emma_row(version, decisions=("Validé", "Non validé", "Validé", ""))


@pytest.mark.parametrize("fmt", FORMATS)
def test_a_name_a_spreadsheet_would_run_is_written_inert(login, admin_user, cohort, fmt):
    person = make_candidate(
        1, birth_name='=HYPERLINK("http://pirate.example","Voir")', first_names="+33 6 12 34"
    )
    enrol(person, cohort, access_route=Enrolment.AccessRoute.VAE, by=None)
    rows = parsed(login(admin_user).get(results_url(cohort, fmt)))
    assert rows[1][:2] == ['\'=HYPERLINK("http://pirate.example","Voir")', "'+33 6 12 34"]


def test_the_lines_come_in_french_order(login, admin_user, cohort):
    for number, name in enumerate(["Perrin", "Périer", "Eddy", "Écuyer", "Çelik", "Celik"]):
        enrol(make_candidate(number, birth_name=name), cohort, access_route="vae", by=None)
    rows = parsed(login(admin_user).get(results_url(cohort)))
    assert [row[0] for row in rows[1:]] == ["Celik", "Çelik", "Écuyer", "Eddy", "Périer", "Perrin"]


def export_queries(client, url):
    parsed(client.get(url))  # blocks.frozen reads first
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
        lines = len(parsed(response))  # the rows are read while the file is written
    return len(queries), lines


@pytest.mark.parametrize("fmt", FORMATS)
def test_300_candidates_take_as_many_queries_as_3(login, admin_user, scored, fmt):
    client = login(admin_user)
    cohort = scored.cohort
    bulk_enrol(cohort, 2, start=1)
    few, lines = export_queries(client, results_url(cohort, fmt))
    assert lines == 1 + 3
    bulk_enrol(cohort, 297, start=10)
    many, lines = export_queries(client, results_url(cohort, fmt))
    assert lines == 1 + 300
    assert many == few, (few, many)


def test_the_results_are_computed_in_a_constant_number_of_queries(admin_user, scored):
    def count(expected_lines):
        cohort = Cohort.objects.select_related("certification_version").get(pk=scored.cohort_id)
        with CaptureQueriesContext(connection) as queries:
            header, rows = cohort_results(cohort, viewer=admin_user)
            assert len(list(rows)) == expected_lines
        return len(queries)

    count(1)  # the viewer's roles are read once, then kept on the user
    few = count(1)
    bulk_enrol(scored.cohort, 50, start=1)
    assert count(51) == few


# --- The deliberation's table ---------------------------------------------------


def table_header():
    header = ["Candidat", "Date de naissance"]
    for number in range(1, 5):
        header += [
            f"Bloc {number} situation",
            f"Bloc {number} compétences acquises",
            f"Bloc {number} proposition",
            f"Bloc {number} décision",
            f"Bloc {number} justification",
        ]
    return header


@pytest.mark.parametrize("fmt", FORMATS)
def test_the_deliberation_table_as_the_jury_signed_it(login, jury_member, signed, fmt):
    rows = parsed(login(jury_member).get(table_url(signed, fmt)))
    assert rows == [
        table_header(),
        [
            "Petit Emma Louise",
            "12/04/2001",
            *["Présenté", "6 sur 6", "Validé", "Validé", ""],
            *["Présenté", "0 sur 12", "Non validé", "Non validé", ""],
            *["Présenté", "3 sur 3", "Validé", "Validé", ""],
            *["Non choisi", "", "", "", ""],
        ],
    ]


def test_an_open_deliberation_exports_as_it_stands(login, admin_user, deliberation):
    rows = parsed(login(admin_user).get(table_url(deliberation, "xlsx")))
    assert rows[1][2:7] == ["Présenté", "6 sur 6", "Validé", "", ""]


# --- Who may download -----------------------------------------------------------


def test_who_may_export_the_cohort_results(client, login, cohort, candidate, other_trainer):
    url = results_url(cohort)
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert login(candidate.user).get(url).status_code == 403
    assert login(make_user("jury9", roles.JURY_MEMBER)).get(url).status_code == 403
    assert login(other_trainer).get(url).status_code == 404  # not their cohort
    missing = reverse("evaluations:cohort_results_export", args=[999999, "csv"])
    assert login(make_user("admin2", roles.ADMIN)).get(missing).status_code == 404


def test_the_cohort_trainer_and_the_office_may(login, cohort, candidate, trainer, admin_user):
    assert login(trainer).get(results_url(cohort)).status_code == 200
    assert login(admin_user).get(results_url(cohort, "xlsx")).status_code == 200
    assert login(admin_user).get(results_url(cohort, "pdf")).status_code == 404


def test_who_may_export_a_deliberation_table(
    client, login, deliberation, trainer, jury_member, second_jury_member, admin_user
):
    url = table_url(deliberation)
    response = client.get(url)
    assert response.status_code == 302 and response.url.startswith(reverse("login"))
    assert login(trainer).get(url).status_code == 403
    assert login(make_user("jury9", roles.JURY_MEMBER)).get(url).status_code == 404
    for user in (jury_member, second_jury_member, admin_user):
        assert login(user).get(url).status_code == 200


def test_the_pages_link_to_the_exports(login, admin_user, deliberation, cohort):
    client = login(admin_user)
    assert results_url(cohort, "xlsx") in client.get(cohort.get_absolute_url()).content.decode()
    page = client.get(deliberation.get_absolute_url()).content.decode()
    assert table_url(deliberation, "xlsx") in page


def test_an_empty_promotion_exports_its_header_alone(login, admin_user, cohort):
    response = login(admin_user).get(results_url(cohort))
    assert response.streaming
    rows = parsed(response)
    assert rows == [expected_header(cohort.certification_version)]
