"""Workbooks of a few kilobytes that unfold into millions of cells (issue 14,
point 6): refused in French before openpyxl parses them, in bounded memory.
openpyxl reads a whole row before cutting it to the columns asked for, so a
row of millions of empty cells once took 31 s and 1.6 GB. Times are measured
by scripts/benchmark_import.py, not asserted here."""

import io
import tracemalloc
import zipfile

import pytest

from candidates.importing import plan_import
from candidates.importing.readers import MAX_CELLS, MAX_ROW_CELLS, number

from .test_import import HEADER
from .test_import_limits import candidate_row, streamed_xlsx

pytestmark = pytest.mark.django_db

MEMORY_LIMIT = 100 * 1024 * 1024


def bomb(*, rows, cells_per_row, filled=False):
    """A workbook of a header, a candidate, then from line 9 `rows` rows of
    `cells_per_row` cells (empty `<c/>`, or each holding a number); the sheet
    written to the archive in chunks, compressed to a few kilobytes."""
    source = zipfile.ZipFile(io.BytesIO(streamed_xlsx([HEADER, candidate_row(1)])))
    cell = b"<c><v>1</v></c>" if filled else b"<c/>"
    target = io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in source.infolist():
            data = source.read(member.filename)
            if not member.filename.startswith("xl/worksheets/sheet"):
                archive.writestr(member, data)
                continue
            head, _, tail = data.partition(b"</sheetData>")
            with archive.open(member.filename, "w", force_zip64=True) as sheet:
                sheet.write(head)
                for line in range(9, 9 + rows):
                    sheet.write(b'<row r="%d">' % line)
                    for _ in range(cells_per_row // 10_000):
                        sheet.write(cell * 10_000)
                    sheet.write(cell * (cells_per_row % 10_000) + b"</row>")
                sheet.write(b"</sheetData>" + tail)
    return target.getvalue()


def refused_in_bounded_memory(cohort, content):
    tracemalloc.start()
    try:
        plan = plan_import(cohort, "promo.xlsx", content)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < MEMORY_LIMIT, f"pic de mémoire : {peak // (1024 * 1024)} Mo"
    assert not plan.rows
    return [str(problem) for problem in plan.problems]


def test_one_row_of_millions_of_empty_cells_is_refused_in_bounded_memory(cohort):
    content = bomb(rows=1, cells_per_row=2_000_000)
    assert len(content) < 50_000  # a few kilobytes sent...
    assert refused_in_bounded_memory(cohort, content) == [
        f"ligne 9 : plus de {number(MAX_ROW_CELLS)} cellules, vides comprises ; ne gardez "
        "que les colonnes de l'import dans un nouveau classeur"
    ]


def test_many_rows_of_filled_cells_are_refused_in_bounded_memory(cohort):
    content = bomb(rows=45_000, cells_per_row=40, filled=True)
    assert len(content) < 250_000
    assert refused_in_bounded_memory(cohort, content) == [
        f"le classeur compte plus de {number(MAX_CELLS)} cellules, vides comprises : ne "
        "gardez que les colonnes et les lignes de l'import dans un nouveau classeur"
    ]


def rewritten(changes, added=None):
    """A one-candidate workbook, some parts changed by changes[name](bytes),
    `added` parts ({name: bytes}) written beside them."""
    content = streamed_xlsx([HEADER, candidate_row(1)])
    buffer = io.BytesIO()
    with (
        zipfile.ZipFile(io.BytesIO(content)) as source,
        zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as target,
    ):
        for member in source.infolist():
            data = source.read(member.filename)
            target.writestr(member, changes.get(member.filename, lambda data: data)(data))
        for name, data in (added or {}).items():
            target.writestr(name, data)
    return buffer.getvalue()


def test_a_workbook_declaring_a_dtd_is_refused(cohort):
    content = rewritten(
        {"xl/workbook.xml": lambda data: b'<!DOCTYPE x [<!ENTITY a "aaaa">]>' + data}
    )
    assert refused_in_bounded_memory(cohort, content) == [
        "fichier .xlsx illisible : est-ce bien un classeur Excel ?"
    ]


def test_styles_by_the_hundred_thousand_are_refused(cohort):
    style = b'<xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/>'
    content = rewritten(
        {"xl/styles.xml": lambda data: data.replace(b"</cellXfs>", style * 100_000 + b"</cellXfs>")}
    )
    assert len(content) < 50_000
    assert refused_in_bounded_memory(cohort, content) == [
        "classeur trop complexe (styles ou éléments en trop grand nombre) : copiez la "
        "liste des candidats seule, en valeurs, dans un nouveau classeur"
    ]


def test_more_shared_texts_than_the_cells_allowed_are_refused(cohort):
    shared = "application/vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"
    relation = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings"
    content = rewritten(
        {
            "[Content_Types].xml": lambda data: data.replace(
                b"</Types>",
                f'<Override PartName="/xl/sharedStrings.xml" ContentType="{shared}"/>'
                "</Types>".encode(),
            ),
            "xl/_rels/workbook.xml.rels": lambda data: data.replace(
                b"</Relationships>",
                f'<Relationship Id="rIdTexts" Type="{relation}" Target="sharedStrings.xml"/>'
                "</Relationships>".encode(),
            ),
        },
        added={
            "xl/sharedStrings.xml": (
                b'<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
                + b"<si><t>x</t></si>" * (MAX_CELLS + 1)
                + b"</sst>"
            )
        },
    )
    assert refused_in_bounded_memory(cohort, content) == [
        f"le classeur compte plus de {number(MAX_CELLS)} textes : copiez la liste des "
        "candidats seule, en valeurs, dans un nouveau classeur"
    ]


def test_a_full_promotion_passes_the_scan(cohort):
    rows = [HEADER, *(candidate_row(line) for line in range(1, 301))]
    plan = plan_import(cohort, "promo.xlsx", streamed_xlsx(rows))
    assert plan.is_valid, plan.problems
    assert len(plan.rows) == 300
