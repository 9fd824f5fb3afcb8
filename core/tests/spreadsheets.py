"""Reading a download back, as a spreadsheet would: rows of text cells."""

import csv
import datetime
import io

from openpyxl import load_workbook


def content_of(response):
    return b"".join(response.streaming_content)


def csv_rows(data):
    """The rows of a CSV export; its UTF-8 byte order mark checked and removed."""
    assert data.startswith(b"\xef\xbb\xbf"), data[:10]
    return list(csv.reader(io.StringIO(data.decode("utf-8-sig"), newline=""), delimiter=";"))


def xlsx_rows(data):
    """The rows of an XLSX export's only sheet, each cell's value as read by openpyxl."""
    workbook = load_workbook(io.BytesIO(data), read_only=True)
    (sheet,) = workbook.worksheets
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    width = max((len(row) for row in rows), default=0)
    return [row + [None] * (width - len(row)) for row in rows]  # trailing empty cells


def as_text(value):
    """An XLSX cell as the CSV export writes it (for comparing the two); the
    exports' only numbers are means, which the CSV writes with two decimals."""
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, float | int):
        return f"{value:.2f}".replace(".", ",")  # the exports' numbers: means, to 0.01
    return str(value)


def parsed(response):
    """Both formats as lists of text rows: CSV as written, XLSX through as_text."""
    data = content_of(response)
    if response["Content-Type"].startswith("text/csv"):
        return csv_rows(data)
    return [[as_text(cell) for cell in row] for row in xlsx_rows(data)]
