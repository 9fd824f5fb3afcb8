"""Importing a promotion from a spreadsheet: every reader, every refusal, all or nothing.

Long on purpose: the file format is the office's contract (README), and each
of its promises has its test here, sharing the file builders at the top."""

import csv
import datetime
import io

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext
from openpyxl import Workbook

from candidates.importing import (
    COLUMN_BY_HEADER,
    COLUMNS,
    SAMPLE_FILE,
    ImportRefused,
    RowProblem,
    plan_import,
)
from candidates.models import Candidate, Cohort, Enrolment
from candidates.services import apply_import, withdraw
from core.models import AuditEvent

pytestmark = pytest.mark.django_db

HEADER = [column.name for column in COLUMNS]

LEA = {
    "nom_naissance": "Martin",
    "prenoms": "Léa Camille",
    "sexe": "F",
    "date_naissance": "14/03/2004",
    "commune_naissance": "Nantes",
    "code_insee_naissance": "44109",
    "email": "lea.martin@example.org",
    "telephone": "06 39 98 00 01",
    "voie_acces": "apprentissage",
}
JULIEN = {
    "nom_naissance": "Moreau",
    "prenoms": "Julien Pierre",
    "sexe": "M",
    "date_naissance": "1992-08-21",
    "commune_naissance": "Lille",
    "code_insee_naissance": "59350",
    "email": "julien.moreau@example.org",
    "voie_acces": "vae",
}
YASMINE = {
    "nom_naissance": "Benali",
    "prenoms": "Yasmine",
    "sexe": "F",
    "date_naissance": "27/06/2001",
    "commune_naissance": "Casablanca",
    "pays_naissance": "Maroc",
    "email": "yasmine.benali@example.org",
    "voie_acces": "Contrat de professionnalisation",
}


def csv_file(rows, header=HEADER, delimiter=";", encoding="utf-8"):
    """The bytes of a CSV file, header first; a row is a dict keyed by column, or a list."""
    text = io.StringIO(newline="")
    writer = csv.writer(text, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(
            [row.get(column, "") for column in header] if isinstance(row, dict) else row
        )
    return text.getvalue().encode(encoding)


def xlsx_file(lines):
    workbook = Workbook()
    for line in lines:
        workbook.active.append(line)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def written():
    """What an import can write, to check that a refusal wrote nothing."""
    return (
        Candidate.objects.count(),
        Enrolment.objects.count(),
        Enrolment.optional_blocs.through.objects.count(),
        AuditEvent.objects.filter(action="candidates.import.applied").count(),
    )


def refused_with(cohort, filename, content):
    before = written()
    with pytest.raises(ImportRefused) as refused:
        apply_import(cohort, filename, content, by=None)
    assert written() == before
    return [str(problem) for problem in refused.value.problems]


def other_cohort(cohort, name="Promotion 2026"):
    return Cohort.objects.create(
        name=name,
        certification_version=cohort.certification_version,
        start_date=datetime.date(2025, 9, 1),
        end_date=datetime.date(2026, 6, 30),
    )


# --- Readers ----------------------------------------------------------------


def test_utf8_csv_with_semicolons_creates_and_enrols_every_candidate(cohort, admin_user):
    plan = apply_import(cohort, "promo.csv", csv_file([LEA, JULIEN, YASMINE]), by=admin_user)

    assert [row.line for row in plan.to_create] == [2, 3, 4]
    lea = Candidate.objects.get(email="lea.martin@example.org")
    assert model_to_dict(lea, exclude=["id", "user"]) == {
        "birth_name": "Martin",
        "usage_name": "",
        "first_names": "Léa Camille",
        "sex": "F",
        "birth_date": datetime.date(2004, 3, 14),
        "birth_commune": "Nantes",
        "birth_insee_code": "44109",
        "birth_country": "",
        "email": "lea.martin@example.org",
        "phone": "06 39 98 00 01",
    }
    yasmine = Candidate.objects.get(birth_name="Benali")
    assert (yasmine.birth_country, yasmine.birth_insee_code) == ("Maroc", "")
    enrolments = {e.candidate.birth_name: e for e in cohort.enrolments.select_related("candidate")}
    assert {name: e.access_route for name, e in enrolments.items()} == {
        "Martin": "apprentissage",
        "Moreau": "vae",
        "Benali": "contrat_professionnalisation",
    }
    assert all(e.status == Enrolment.Status.ENROLLED for e in enrolments.values())


def test_utf8_csv_with_a_byte_order_mark(cohort):
    content = b"\xef\xbb\xbf" + csv_file([LEA])

    apply_import(cohort, "promo.csv", content, by=None)

    assert Candidate.objects.get().first_names == "Léa Camille"


def test_windows_1252_csv_keeps_its_accents(cohort):
    helene = {**LEA, "nom_naissance": "Lefèvre", "prenoms": "Hélène", "email": ""}
    beatrice = {**JULIEN, "prenoms": "Béatrice", "sexe": "F", "commune_naissance": "Saint-Étienne"}
    content = csv_file([helene, beatrice], encoding="cp1252")
    with pytest.raises(UnicodeDecodeError, match="'utf-8' codec can't decode byte 0xe8"):
        content.decode("utf-8")

    apply_import(cohort, "export-excel.CSV", content, by=None)

    assert sorted(Candidate.objects.values_list("birth_name", "first_names")) == [
        ("Lefèvre", "Hélène"),
        ("Moreau", "Béatrice"),
    ]
    assert Candidate.objects.get(first_names="Béatrice").birth_commune == "Saint-Étienne"


def test_csv_separated_by_commas(cohort):
    with_bloc = {**YASMINE, "blocs_optionnels": "4"}

    plan = apply_import(cohort, "promo.csv", csv_file([LEA, with_bloc], delimiter=","), by=None)

    assert len(plan.to_create) == 2
    assert Candidate.objects.get(birth_name="Benali").birth_country == "Maroc"


def test_xlsx_with_date_cells_and_numbers_that_lost_their_leading_zero(cohort):
    content = xlsx_file(
        [
            HEADER,
            ["Da Silva", None, "Lucas", "M", datetime.date(2002, 5, 5), "Bourg-en-Bresse",
             1053, None, "lucas.dasilva@example.org", 639980007, "Apprentissage", None],
            [],
            ["Benali", None, "Yasmine", "F", datetime.datetime(2001, 6, 27), "Casablanca",
             None, "Maroc", None, None, "vae", 4],
        ]
    )  # fmt: skip

    plan = apply_import(cohort, "Promotion.XLSX", content, by=None)

    assert [row.line for row in plan.rows] == [2, 4]
    lucas = Candidate.objects.get(first_names="Lucas")
    assert lucas.birth_date == datetime.date(2002, 5, 5)
    assert lucas.birth_insee_code == "01053"
    assert lucas.phone == "0639980007"
    yasmine = Enrolment.objects.get(candidate__first_names="Yasmine")
    assert yasmine.candidate.birth_date == datetime.date(2001, 6, 27)
    assert [bloc.number for bloc in yasmine.optional_blocs.all()] == [4]


def test_french_headers_and_labels_are_understood(cohort):
    header = [
        "Nom de naissance",
        "Nom d'usage",
        "Prénoms",
        "SEXE",
        "Date de naissance",
        "Lieu de naissance",
        "Code INSEE",
        "Pays de naissance",
        "Courriel",
        "Tél.",
        "Voie d'accès",
        "Blocs optionnels",
        "Remarques du secrétariat",
    ]
    helene = ["Lefèvre", "Rousseau", "Hélène", "Féminin", "09/01/1988", "Bordeaux", "33063",
              "France", "helene@example.org", "", "Formation continue hors contrat de "
              "professionnalisation", "4", "a déjà le bloc 1"]  # fmt: skip
    julien = ["Moreau", "", "Julien", "masculin", "21/08/1992", "Lille", "59350", "", "", "",
              "candidat libre", "", ""]  # fmt: skip

    apply_import(cohort, "promo.csv", csv_file([helene, julien], header=header), by=None)

    helene = Candidate.objects.get(first_names="Hélène")
    assert (helene.usage_name, helene.sex, helene.email) == ("Rousseau", "F", "helene@example.org")
    # "France" written out means born in France: the INSEE code alone is kept.
    assert (helene.birth_insee_code, helene.birth_country) == ("33063", "")
    assert Candidate.objects.get(first_names="Julien").sex == "M"
    routes = dict(cohort.enrolments.values_list("candidate__first_names", "access_route"))
    assert routes == {"Hélène": "formation_continue", "Julien": "candidat_libre"}


@pytest.mark.parametrize(
    "header", ["Nom de naissance", "NOM_NAISSANCE", "nom-naissance", "Nom de famille"]
)
def test_header_spelling_does_not_matter(cohort, header):
    renamed = [header if column == "nom_naissance" else column for column in HEADER]
    content = csv_file([[LEA.get(column, "") for column in HEADER]], header=renamed)

    plan = plan_import(cohort, "promo.csv", content)

    assert plan.is_valid
    assert plan.rows[0].values["birth_name"] == "Martin"


def test_no_two_columns_share_a_header():
    headers = [header for column in COLUMNS for header in (column.name, *column.aliases)]
    assert len(COLUMN_BY_HEADER) == len(headers)


def test_blank_lines_and_unknown_columns_are_ignored(cohort):
    header = [*HEADER, "commentaire"]
    content = csv_file(
        [LEA, [], ["", "", ""], {**JULIEN, "commentaire": "redoublant"}], header=header
    )

    plan = plan_import(cohort, "promo.csv", content)

    assert plan.is_valid
    assert [row.line for row in plan.rows] == [2, 5]


def test_a_cell_spanning_several_lines_keeps_line_numbers_exact(cohort):
    content = csv_file(
        [
            {**LEA, "commune_naissance": "Saint-Denis\n(La Réunion)"},
            JULIEN,
            {**YASMINE, "sexe": "?"},
        ]
    )

    plan = plan_import(cohort, "promo.csv", content)

    assert [str(problem) for problem in plan.problems] == [
        "ligne 5 : sexe invalide (« ? ») : F ou M attendu"
    ]
    assert plan.rows[0].values["birth_commune"] == "Saint-Denis\n(La Réunion)"


# --- Refusals ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"prenoms": ""}, "champ obligatoire vide : prénoms"),
        ({"voie_acces": ""}, "champ obligatoire vide : voie d'accès"),
        (
            {"date_naissance": "31/02/1992"},
            "date de naissance invalide (« 31/02/1992 ») : JJ/MM/AAAA ou AAAA-MM-JJ attendu",
        ),
        (
            {"date_naissance": "21.08.1992"},
            "date de naissance invalide (« 21.08.1992 ») : JJ/MM/AAAA ou AAAA-MM-JJ attendu",
        ),
        ({"date_naissance": "01/01/2999"}, "date de naissance dans le futur (01/01/2999)"),
        (
            {"voie_acces": "alternance"},
            "voie d'accès inconnue (« alternance ») : formation_initiale, apprentissage, "
            "formation_continue, contrat_professionnalisation, vae, "
            "equivalence_diplome_etranger, candidat_libre "
            "(ou leur libellé) attendu",
        ),
        ({"sexe": "X"}, "sexe invalide (« X ») : F ou M attendu"),
        (
            {"code_insee_naissance": "5935"},
            "code INSEE de naissance invalide (« 5935 ») : "
            "Un code INSEE compte 5 caractères (ex. 75056, 2A004).",
        ),
        (
            {"email": "julien.moreau@"},
            "adresse électronique invalide (« julien.moreau@ ») : "
            "Saisissez une adresse de courriel valide.",
        ),
        (
            {"blocs_optionnels": "1"},
            "le bloc 1 n'est pas optionnel : les blocs optionnels de la certification sont : 4",
        ),
        (
            {"blocs_optionnels": "4, 9"},
            "bloc 9 inconnu : les blocs optionnels de la certification sont : 4",
        ),
        (
            {"blocs_optionnels": "bloc 4"},
            "bloc optionnel invalide (« bloc ») : numéro de bloc attendu",
        ),
        (
            {"code_insee_naissance": ""},
            "lieu de naissance manquant : indiquez le code INSEE de la commune pour une "
            "naissance en France, ou le pays pour une naissance à l'étranger",
        ),
        (
            {"pays_naissance": "Belgique"},
            "lieu de naissance contradictoire : code INSEE (« 59350 ») et pays (« Belgique ») "
            "sont renseignés ; le code INSEE seul pour une naissance en France, le pays seul "
            "pour une naissance à l'étranger",
        ),
        (
            {"nom_naissance": "M" * 151},
            f"nom de naissance invalide (« {'M' * 151} ») : Assurez-vous que cette valeur "
            "comporte au plus 150 caractères (actuellement 151).",
        ),
    ],
)
def test_a_bad_row_refuses_the_whole_file(cohort, changes, reason):
    content = csv_file([LEA, {**JULIEN, **changes}, YASMINE])

    plan = plan_import(cohort, "promo.csv", content)

    assert [str(problem) for problem in plan.problems] == [f"ligne 3 : {reason}"]
    assert not plan.is_valid
    assert [row.line for row in plan.rows] == [2, 4]
    assert refused_with(cohort, "promo.csv", content) == [f"ligne 3 : {reason}"]


def test_every_bad_row_is_reported_at_once(cohort):
    content = csv_file(
        [
            {**LEA, "sexe": ""},
            JULIEN,
            {**YASMINE, "date_naissance": "1er mai", "voie_acces": "stage"},
        ]
    )

    assert refused_with(cohort, "promo.csv", content) == [
        "ligne 2 : champ obligatoire vide : sexe",
        "ligne 4 : date de naissance invalide (« 1er mai ») : JJ/MM/AAAA ou AAAA-MM-JJ attendu",
        "ligne 4 : voie d'accès inconnue (« stage ») : formation_initiale, apprentissage, "
        "formation_continue, contrat_professionnalisation, vae, "
        "equivalence_diplome_etranger, candidat_libre "
        "(ou leur libellé) attendu",
    ]


def test_the_same_person_twice_in_the_file_is_a_duplicate(cohort):
    same_person = {
        **LEA,
        "nom_naissance": "MARTIN",
        "prenoms": "lea  camille",
        "email": "lea@example.org",
        "voie_acces": "vae",
    }
    content = csv_file([LEA, JULIEN, same_person])

    assert refused_with(cohort, "promo.csv", content) == [
        "ligne 4 : doublon de la ligne 2 (même nom de naissance, prénoms et date de naissance)"
    ]


def test_the_same_email_twice_in_the_file_is_a_duplicate(cohort):
    content = csv_file([LEA, {**JULIEN, "email": "Lea.Martin@example.org"}])

    assert refused_with(cohort, "promo.csv", content) == [
        "ligne 3 : doublon de la ligne 2 (même adresse électronique)"
    ]


def test_an_email_used_by_another_candidate_is_refused(cohort, candidate):
    content = csv_file([LEA, {**JULIEN, "email": "Emma.Petit@example.org"}])

    assert refused_with(cohort, "promo.csv", content) == [
        "ligne 3 : adresse électronique déjà utilisée par un autre candidat : "
        "Petit Emma Louise, né(e) le 12/04/2001"
    ]


@pytest.mark.parametrize(
    ("filename", "content", "problem"),
    [
        (
            "promo.ods",
            b"nom_naissance",
            "format non pris en charge : utilisez un fichier .csv ou .xlsx",
        ),
        (
            "promo",
            b"nom_naissance",
            "format non pris en charge : utilisez un fichier .csv ou .xlsx",
        ),
        ("promo.csv", b"", "le fichier ne contient aucun candidat"),
        ("promo.csv", b"\r\n\r\n", "le fichier ne contient aucun candidat"),
        ("promo.csv", csv_file([]), "le fichier ne contient aucun candidat"),
        ("promo.csv", csv_file([[], []]), "le fichier ne contient aucun candidat"),
        ("promo.xlsx", xlsx_file([HEADER]), "le fichier ne contient aucun candidat"),
        (
            "promo.xlsx",
            csv_file([LEA]),
            "fichier .xlsx illisible : est-ce bien un classeur Excel ?",
        ),
        (
            "promo.csv",
            b"nom_naissance;prenoms\r\nPetit;Emma\r\n\x81\x8d",
            "encodage du fichier non reconnu : enregistrez-le en « CSV UTF-8 »",
        ),
    ],
    # Named ids: a generated .xlsx holds a timestamp, and every xdist worker
    # must collect the same test names.
    ids=[
        "ods",
        "no-extension",
        "empty-csv",
        "blank-lines",
        "no-header",
        "empty-rows",
        "xlsx-header-only",
        "csv-named-xlsx",
        "bad-encoding",
    ],
)
def test_a_file_that_cannot_be_read_is_refused(cohort, filename, content, problem):
    assert refused_with(cohort, filename, content) == [problem]


def test_a_missing_required_column_is_named(cohort):
    header = [column for column in HEADER if column not in ("date_naissance", "voie_acces")]

    assert refused_with(cohort, "promo.csv", csv_file([LEA], header=header)) == [
        "ligne 1 : colonne obligatoire absente : date_naissance",
        "ligne 1 : colonne obligatoire absente : voie_acces",
    ]


def test_the_same_column_twice_is_refused(cohort):
    header = [*HEADER, "Prénoms"]

    assert refused_with(cohort, "promo.csv", csv_file([LEA], header=header)) == [
        "ligne 1 : colonne en double : « prenoms » et « Prénoms » désignent toutes deux prenoms"
    ]


def test_a_cohort_on_an_archived_version_takes_no_import(cohort):
    version = cohort.certification_version
    version.status = version.Status.ARCHIVED
    version.save(update_fields=["status"])

    assert refused_with(cohort, "promo.csv", csv_file([LEA])) == [
        "la version de certification de cette promotion n'est plus active"
    ]


def test_a_problem_reads_with_its_line_number():
    assert str(RowProblem(12, "date de naissance invalide")) == (
        "ligne 12 : date de naissance invalide"
    )
    assert str(RowProblem(0, "le fichier ne contient aucun candidat")) == (
        "le fichier ne contient aucun candidat"
    )
    refused = ImportRefused([RowProblem(3, "sexe invalide"), RowProblem(5, "doublon")])
    assert str(refused) == "ligne 3 : sexe invalide\nligne 5 : doublon"


# --- Existing candidates, blocs, audit --------------------------------------


def test_planning_writes_nothing(cohort):
    before = written()

    plan = plan_import(cohort, "promo.csv", csv_file([LEA, JULIEN]))

    assert plan.is_valid
    assert [row.display_name for row in plan.to_create] == [
        "Martin Léa Camille",
        "Moreau Julien Pierre",
    ]
    assert written() == before


def test_importing_the_same_file_twice_creates_nothing_new(cohort):
    content = csv_file([LEA, {**JULIEN, "blocs_optionnels": "4"}, YASMINE])
    apply_import(cohort, "promo.csv", content, by=None)
    assert written() == (3, 3, 1, 1)

    plan = apply_import(cohort, "promo.csv", content, by=None)

    assert written() == (3, 3, 1, 2)
    assert (plan.to_create, plan.to_enrol_existing) == ([], [])
    assert [row.line for row in plan.already_enrolled] == [2, 3, 4]
    assert plan.already_enrolled[0].candidate == Candidate.objects.get(birth_name="Martin")


def test_a_withdrawn_candidate_counts_as_already_enrolled(cohort, candidate):
    enrolment = candidate.enrolments.get()
    withdraw(enrolment, reason="Abandon de formation", by=None)
    emma = {
        "nom_naissance": "Petit",
        "prenoms": "Emma Louise",
        "sexe": "F",
        "date_naissance": "12/04/2001",
        "code_insee_naissance": "69123",
        "voie_acces": "vae",
    }

    plan = apply_import(cohort, "promo.csv", csv_file([emma]), by=None)

    assert [row.candidate for row in plan.already_enrolled] == [candidate]
    enrolment.refresh_from_db()
    assert enrolment.status == Enrolment.Status.WITHDRAWN


def test_a_known_candidate_is_enrolled_not_duplicated_nor_modified(cohort):
    known = Candidate.objects.create(
        birth_name="Lefèvre",
        first_names="Hélène Marie",
        sex="F",
        birth_date=datetime.date(1988, 1, 9),
        birth_commune="Bordeaux",
        birth_insee_code="33063",
        email="helene.lefevre@example.org",
    )
    Enrolment.objects.create(candidate=known, cohort=other_cohort(cohort), access_route="vae")
    record = model_to_dict(known)
    same_person = {
        "nom_naissance": "LEFEVRE",
        "nom_usage": "Rousseau",
        "prenoms": "helene-marie",
        "sexe": "F",
        "date_naissance": "1988-01-09",
        "commune_naissance": "Talence",
        "code_insee_naissance": "33522",
        "email": "helene.rousseau@example.org",
        "voie_acces": "formation_continue",
        "blocs_optionnels": "4",
    }

    plan = apply_import(cohort, "promo.csv", csv_file([LEA, same_person]), by=None)

    assert [row.candidate for row in plan.to_enrol_existing] == [known]
    assert plan.to_enrol_existing[0].display_name == "Lefèvre Hélène Marie"
    assert Candidate.objects.count() == 2
    known.refresh_from_db()
    assert model_to_dict(known) == record
    enrolment = cohort.enrolments.get(candidate=known)
    assert enrolment.access_route == "formation_continue"
    assert [bloc.number for bloc in enrolment.optional_blocs.all()] == [4]
    assert known.enrolments.count() == 2


def test_the_known_candidate_may_keep_their_own_email(cohort, candidate):
    other = other_cohort(cohort)
    emma = {
        "nom_naissance": "Petit",
        "prenoms": "Emma Louise",
        "sexe": "F",
        "date_naissance": "12/04/2001",
        "code_insee_naissance": "69123",
        "email": "emma.petit@example.org",
        "voie_acces": "vae",
    }

    plan = apply_import(other, "promo.csv", csv_file([emma]), by=None)

    assert [row.candidate for row in plan.to_enrol_existing] == [candidate]


def test_optional_bloc_4_is_attached_to_the_enrolment(cohort):
    content = csv_file([LEA, {**JULIEN, "blocs_optionnels": "4 4"}])

    apply_import(cohort, "promo.csv", content, by=None)

    chosen = {
        enrolment.candidate.birth_name: [bloc.number for bloc in enrolment.optional_blocs.all()]
        for enrolment in cohort.enrolments.select_related("candidate")
    }
    assert chosen == {"Martin": [], "Moreau": [4]}


def test_the_import_is_audited_once(cohort, candidate, admin_user):
    Enrolment.objects.filter(cohort=cohort).delete()
    emma = {
        "nom_naissance": "Petit",
        "prenoms": "Emma Louise",
        "sexe": "F",
        "date_naissance": "12/04/2001",
        "code_insee_naissance": "69123",
        "voie_acces": "vae",
    }
    apply_import(cohort, "premier.csv", csv_file([LEA]), by=admin_user)

    apply_import(cohort, "promo.csv", csv_file([LEA, JULIEN, emma]), by=admin_user)

    events = AuditEvent.objects.for_object(cohort).filter(action="candidates.import.applied")
    assert [(event.actor, event.data) for event in events.order_by("pk")] == [
        (
            admin_user,
            {"file": "premier.csv", "created": 1, "enrolled_existing": 0, "already_enrolled": 0},
        ),
        (
            admin_user,
            {"file": "promo.csv", "created": 1, "enrolled_existing": 1, "already_enrolled": 1},
        ),
    ]


# --- The shipped sample, the command, a large file -------------------------


def test_the_shipped_sample_imports_cleanly(cohort):
    content = SAMPLE_FILE.read_bytes()
    assert content.decode("utf-8").startswith("nom_naissance;nom_usage;prenoms;")

    plan = apply_import(cohort, SAMPLE_FILE.name, content, by=None)

    assert plan.problems == []
    assert len(plan.to_create) == 12
    assert cohort.enrolments.count() == 12
    abroad = Candidate.objects.exclude(birth_country="")
    assert [(c.birth_country, c.birth_insee_code) for c in abroad] == [("Maroc", "")]
    with_bloc = cohort.enrolments.filter(optional_blocs__number=4)
    assert [e.candidate.first_names for e in with_bloc] == ["Hélène Marie"]
    routes = sorted(cohort.enrolments.values_list("access_route", flat=True))
    assert routes == sorted(
        ["apprentissage"] * 4
        + ["formation_initiale"] * 2
        + ["contrat_professionnalisation"] * 2
        + ["formation_continue"] * 2
        + ["vae", "candidat_libre"]
    )


def test_command_imports_and_prints_the_counts(cohort, tmp_path, capsys):
    path = tmp_path / "promo.csv"
    path.write_bytes(csv_file([LEA, JULIEN]))
    call_command("import_candidates", str(path), cohort="Promotion 2027")
    path.write_bytes(csv_file([LEA, JULIEN, YASMINE]))

    call_command("import_candidates", str(path), "--cohort", "Promotion 2027")

    output = capsys.readouterr().out.splitlines()
    assert output[-4:] == [
        "Import dans la promotion « Promotion 2027 » terminé :",
        "  créés : 1",
        "  inscrits existants : 0",
        "  déjà inscrits : 2",
    ]
    assert cohort.enrolments.count() == 3


def test_command_refuses_an_unknown_cohort(cohort, tmp_path):
    path = tmp_path / "promo.csv"
    path.write_bytes(csv_file([LEA]))

    with pytest.raises(CommandError) as refused:
        call_command("import_candidates", str(path), cohort="Promotion 2099")

    assert str(refused.value) == (
        "Promotion inconnue : « Promotion 2099 ». Promotions existantes : « Promotion 2027 »."
    )
    assert Candidate.objects.count() == 0


def test_command_refuses_a_bad_file_and_writes_nothing(cohort, tmp_path):
    path = tmp_path / "promo.csv"
    path.write_bytes(csv_file([LEA, {**JULIEN, "sexe": "?"}, {**YASMINE, "pays_naissance": ""}]))
    before = written()

    with pytest.raises(CommandError) as refused:
        call_command("import_candidates", str(path), cohort="Promotion 2027")

    assert refused.value.returncode == 1
    assert str(refused.value).splitlines() == [
        "Fichier refusé, rien n'a été écrit :",
        "  - ligne 3 : sexe invalide (« ? ») : F ou M attendu",
        "  - ligne 4 : lieu de naissance manquant : indiquez le code INSEE de la commune pour "
        "une naissance en France, ou le pays pour une naissance à l'étranger",
    ]
    assert written() == before


def test_command_refuses_a_missing_file(cohort, tmp_path):
    with pytest.raises(CommandError, match="Lecture impossible"):
        call_command("import_candidates", str(tmp_path / "absent.csv"), cohort="Promotion 2027")


def big_file(count):
    """`count` valid rows, each a different person; one in three chose bloc 4."""
    first_day = datetime.date(1980, 1, 1)
    return csv_file(
        {
            "nom_naissance": f"Candidat{number}",
            "prenoms": "Camille",
            "sexe": "FM"[number % 2],
            "date_naissance": f"{first_day + datetime.timedelta(days=number * 5):%d/%m/%Y}",
            "code_insee_naissance": "75056",
            "email": f"candidat{number}@example.org",
            "voie_acces": Enrolment.AccessRoute.values[number % 6],
            "blocs_optionnels": "4" if number % 3 == 0 else "",
        }
        for number in range(count)
    )


def test_two_thousand_rows_are_planned_and_applied_in_a_bounded_number_of_queries(
    cohort, candidate
):
    """The speed itself is measured by scripts/benchmark_import.py, not asserted here:
    the database is read and written by chunks of 500 rows, never row by row."""
    content = big_file(2000)

    with CaptureQueriesContext(connection) as planning:
        plan = plan_import(cohort, "grande-promo.csv", content)
    with CaptureQueriesContext(connection) as applying:
        applied = apply_import(cohort, "grande-promo.csv", content, by=None)

    assert plan.is_valid
    assert len(plan.to_create) == 2000
    assert len(applied.to_create) == 2000
    assert Candidate.objects.count() == 2001
    assert cohort.enrolments.count() == 2001
    assert Enrolment.optional_blocs.through.objects.count() == 667
    assert AuditEvent.objects.filter(action="candidates.candidate.imported").count() == 2000
    # Planning: the blocs, then birth dates and emails by chunks of 500 (4 + 4), the cohort.
    assert len(planning) == 10
    # Applying: the same reads, then inserts by batches (smaller on SQLite, which caps
    # the parameters of a query): far fewer queries than rows.
    assert len(applying) < 100
