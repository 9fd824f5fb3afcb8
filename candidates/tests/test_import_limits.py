"""Import files beyond the limits (issue 14, point 6): refused at once, in
French, in bounded memory; a UTF-8 file with a stray byte is never imported
garbled. Times are measured by scripts/benchmark_import.py, not asserted here."""

import io
import zipfile

import pytest
from openpyxl import Workbook

from candidates.importing import plan_import
from candidates.importing.plan import MAX_PROBLEMS
from candidates.importing.readers import (
    MAX_COLUMNS,
    MAX_LINES,
    MAX_ROWS,
    MAX_XLSX_UNCOMPRESSED,
    number,
)
from candidates.models import Candidate
from candidates.services import apply_import

from .test_import import HEADER, JULIEN, LEA, csv_file, refused_with

pytestmark = pytest.mark.django_db


def streamed_xlsx(rows, *, declared=None):
    """A workbook written in write-only mode (quick for thousands of rows); its
    sheet's declared dimension replaced by `declared` ("A1:M200000") if given."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    content = buffer.getvalue()
    if declared is None:
        return content
    return rewrite_sheet(content, declared)


def rewrite_sheet(content, declared):
    source = zipfile.ZipFile(io.BytesIO(content))
    target = io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for member in source.infolist():
            data = source.read(member.filename)
            if member.filename.startswith("xl/worksheets/sheet"):
                text = data.decode()
                head, _, tail = text.partition("<sheetData")
                head = head.replace("<sheetPr", f'<dimension ref="{declared}"/><sheetPr', 1)
                if "<dimension" not in head:
                    head = head.replace("<sheetViews", f'<dimension ref="{declared}"/><sheetViews')
                data = (head + "<sheetData" + tail).encode()
            out.writestr(member, data)
    return target.getvalue()


def candidate_row(number_, **changes):
    row = {**LEA, "nom_naissance": f"Candidat{number_}", "email": f"c{number_}@example.org"}
    row.update(changes)
    return [row.get(column, "") for column in HEADER]


def only_problem(cohort, filename, content):
    plan = plan_import(cohort, filename, content)
    assert not plan.rows
    return [str(problem) for problem in plan.problems]


def test_a_workbook_of_more_rows_than_the_limit_is_refused_naming_the_limit(cohort):
    rows = [HEADER] + [candidate_row(n) for n in range(MAX_ROWS + 1)]
    content = streamed_xlsx(rows, declared=f"A1:M{200_000}")

    assert refused_with(cohort, "promo.xlsx", content) == [
        f"le fichier compte plus de {number(MAX_ROWS)} lignes de candidats : "
        "importez la promotion en plusieurs fichiers"
    ]
    assert Candidate.objects.count() == 0


def test_a_csv_of_more_rows_than_the_limit_is_refused(cohort):
    content = csv_file([candidate_row(n) for n in range(MAX_ROWS + 1)])
    assert only_problem(cohort, "promo.csv", content) == [
        f"le fichier compte plus de {number(MAX_ROWS)} lignes de candidats : "
        "importez la promotion en plusieurs fichiers"
    ]


def test_a_workbook_whose_declared_size_lies_is_read_as_it_is(cohort):
    """A sheet declaring 200 000 rows and 16 384 columns but holding two
    candidates is read (the declared size is not trusted either way)."""
    content = streamed_xlsx([HEADER, candidate_row(1), candidate_row(2)], declared="A1:XFD200000")
    plan = plan_import(cohort, "promo.xlsx", content)
    assert plan.problems == []
    assert len(plan.to_create) == 2


def test_a_sheet_with_rows_far_below_the_data_is_refused(cohort):
    """Rows beyond MAX_LINES (blank lines counted) are not searched for."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(HEADER)
    sheet.append(candidate_row(1))
    buffer = io.BytesIO()
    workbook.save(buffer)
    content = buffer.getvalue()
    source = zipfile.ZipFile(io.BytesIO(content))
    target = io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as out:
        for member in source.infolist():
            data = source.read(member.filename)
            if member.filename.startswith("xl/worksheets/sheet"):
                far = '<row r="1000000"><c r="A1000000" t="inlineStr"><is><t>x</t></is></c></row>'
                data = data.replace(b"</sheetData>", far.encode() + b"</sheetData>")
            out.writestr(member, data)
    problems = only_problem(cohort, "promo.xlsx", target.getvalue())
    assert problems == [
        f"le fichier compte plus de {number(MAX_LINES)} lignes, lignes vides comprises : "
        "supprimez les lignes vides ou importez la promotion en plusieurs fichiers"
    ]


@pytest.mark.parametrize("filename", ["promo.csv", "promo.xlsx"])
def test_a_sheet_wider_than_the_limit_is_refused(cohort, filename):
    wide = [*HEADER, *(f"colonne {n}" for n in range(MAX_COLUMNS))]
    rows = [wide, candidate_row(1) + [""] * MAX_COLUMNS]
    content = streamed_xlsx(rows) if filename.endswith(".xlsx") else csv_file(rows[1:], wide)
    assert only_problem(cohort, filename, content) == [
        f"ligne 1 : plus de {MAX_COLUMNS} colonnes remplies ; "
        "ne gardez que les colonnes de l'import"
    ]


def test_empty_columns_beyond_the_limit_are_ignored(cohort):
    """Excel's CSV export may end each line with empty cells: they are no columns."""
    rows = [candidate_row(1) + [""] * (MAX_COLUMNS * 2)]
    content = csv_file(rows, [*HEADER, *([""] * (MAX_COLUMNS * 2))])
    assert len(plan_import(cohort, "promo.csv", content).to_create) == 1


def test_many_bad_rows_show_the_first_problems_then_their_count(cohort):
    rows = [candidate_row(n, date_naissance="31/02/2004") for n in range(MAX_PROBLEMS + 30)]
    plan = plan_import(cohort, "promo.csv", csv_file(rows))

    assert len(plan.problems) == MAX_PROBLEMS + 1
    assert [problem.line for problem in plan.problems[:MAX_PROBLEMS]] == list(
        range(2, MAX_PROBLEMS + 2)
    )
    assert str(plan.problems[-1]) == "… et 30 autres problèmes : corrigez d'abord ceux-ci"
    assert not plan.is_valid


def test_a_utf8_file_with_one_stray_windows_1252_byte_is_refused_at_its_line(cohort):
    content = csv_file([LEA, JULIEN]).replace(b"Julien", "J\xe9r\xf4me".encode("cp1252"))
    problems = refused_with(cohort, "promo.csv", content)
    assert problems == [
        "ligne 3 : caractère invalide en UTF-8 (octet 0xE9), alors que le reste du fichier "
        "est en UTF-8 ; corrigez cette ligne ou enregistrez de nouveau le fichier en "
        "« CSV UTF-8 »"
    ]


def test_a_utf8_file_with_a_bom_and_a_stray_byte_is_refused(cohort):
    content = b"\xef\xbb\xbf" + csv_file([JULIEN]).replace(b"Lille", b"L\xe9ille")
    problems = only_problem(cohort, "promo.csv", content)
    assert problems[0].startswith("ligne 2 : caractère invalide en UTF-8 (octet 0xE9)")


def test_a_windows_1252_file_is_imported_with_its_accents(cohort, admin_user):
    content = csv_file(
        [LEA, {**JULIEN, "prenoms": "Jérôme Œdipe", "commune_naissance": "Évry"}], encoding="cp1252"
    )
    plan = apply_import(cohort, "promo.csv", content, by=admin_user)
    assert len(plan.to_create) == 2
    assert Candidate.objects.get(birth_name="Moreau").first_names == "Jérôme Œdipe"
    assert Candidate.objects.get(birth_name="Martin").first_names == "Léa Camille"


def test_a_cell_longer_than_the_csv_limit_gets_a_french_message(cohort):
    content = csv_file([LEA]) + b'"' + b"x" * 200_000
    problems = only_problem(cohort, "promo.csv", content)
    assert problems == [
        "fichier CSV illisible à la ligne 3 : une cellule dépasse 131\u202f072 caractères "
        '(un guillemet « " » ouvert et jamais fermé ?)'
    ]


@pytest.mark.parametrize(
    "content",
    [
        csv_file([LEA]).replace(b"Nantes", b"Nan\x00tes"),
        "nom_naissance;prenoms\r\nMartin;Léa\r\n".encode("utf-16"),
    ],
)
def test_a_nul_character_in_a_csv_file_is_refused(cohort, content):
    problems = only_problem(cohort, "promo.csv", content)
    assert "caractère nul" in problems[0]


def test_a_compressed_bomb_is_refused_before_it_is_opened(cohort):
    padding = b" " * (MAX_XLSX_UNCOMPRESSED + 1)
    content = streamed_xlsx([HEADER, candidate_row(1)])
    buffer = io.BytesIO(content)
    with zipfile.ZipFile(buffer, "a", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/padding.xml", padding)
    problems = only_problem(cohort, "promo.xlsx", buffer.getvalue())
    assert problems == [
        "classeur trop volumineux une fois décompressé (plus de 50 Mo) : enregistrez la "
        "liste des candidats seule dans un nouveau classeur"
    ]
