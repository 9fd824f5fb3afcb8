"""The spreadsheet writer: both formats read back, formulas made inert."""

import datetime
import io
from decimal import Decimal

import pytest
from django.http import Http404
from openpyxl import load_workbook

from core.exports import export, filename, neutralise
from core.tests.spreadsheets import content_of, csv_rows, xlsx_rows

HEADER = ["Nom", "Prénoms", "Date de naissance", "Note"]
ROWS = [
    ["Périer", "Zoé", datetime.date(2001, 4, 12), Decimal("2.50")],
    ['=HYPERLINK("http://x.example","clic")', "+33 6 12", None, -3],
    ["@SUM(A1)", "-1+1", datetime.date(1999, 12, 31), 0],
    ["\tTab", "\rRetour", None, None],
]


def test_formula_like_texts_get_an_apostrophe_and_numbers_stay_numbers():
    assert neutralise("=1+1") == "'=1+1"
    for start in "+-@\t\r":
        assert neutralise(f"{start}x") == f"'{start}x"
    assert neutralise("Périer") == "Périer"
    assert neutralise(-3) == -3
    assert neutralise(Decimal("-1.5")) == Decimal("-1.5")


def test_the_csv_is_french_excel_csv_read_back_exactly():
    response = export("csv", title="Résultats 2027", header=HEADER, rows=iter(ROWS))
    assert response.streaming
    assert response["Content-Type"] == "text/csv; charset=utf-8"
    today = datetime.date.today().isoformat()
    assert f'filename="resultats-2027-{today}.csv"' in response["Content-Disposition"]
    data = content_of(response)
    assert b";" in data.splitlines()[0]
    assert csv_rows(data) == [
        HEADER,
        ["Périer", "Zoé", "12/04/2001", "2,50"],
        ['\'=HYPERLINK("http://x.example","clic")', "'+33 6 12", "", "-3"],
        ["'@SUM(A1)", "'-1+1", "31/12/1999", "0"],
        ["'\tTab", "'\rRetour", "", ""],
    ]


def test_the_xlsx_keeps_numbers_and_dates_and_holds_no_formula():
    response = export("xlsx", title="Résultats 2027", header=HEADER, rows=iter(ROWS))
    assert response.streaming  # FileResponse: read from its temporary file
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "resultats-2027-" in response["Content-Disposition"]
    rows = xlsx_rows(content_of(response))
    assert rows == [
        HEADER,
        ["Périer", "Zoé", datetime.datetime(2001, 4, 12), 2.5],
        ['\'=HYPERLINK("http://x.example","clic")', "'+33 6 12", None, -3],
        ["'@SUM(A1)", "'-1+1", datetime.datetime(1999, 12, 31), 0],
        ["'\tTab", "'\rRetour", None, None],
    ]


def test_a_formula_written_as_is_would_be_one_in_the_xlsx(monkeypatch):
    """What the neutralisation prevents: openpyxl stores "=..." as a formula."""
    monkeypatch.setattr("core.exports.neutralise", lambda value: value)
    response = export("xlsx", title="x", header=["A"], rows=iter([["=1+1"]]))

    sheet = load_workbook(io.BytesIO(content_of(response))).active
    assert sheet["A2"].data_type == "f"


def test_rows_are_read_as_they_are_written():
    """A generator is consumed while the CSV streams, not before."""
    seen = []

    def rows():
        for n in range(3):
            seen.append(n)
            yield [n]

    response = export("csv", title="x", header=["n"], rows=rows())
    assert seen == []
    chunks = iter(response.streaming_content)
    next(chunks)  # the header
    next(chunks)
    assert seen == [0]


def test_an_unknown_format_is_a_missing_page():
    with pytest.raises(Http404):
        export("pdf", title="x", header=[], rows=iter([]))


def test_the_filename_is_french_and_dated():
    assert filename("Registre des certificats", "xlsx", today=datetime.date(2026, 11, 27)) == (
        "registre-des-certificats-2026-11-27.xlsx"
    )
