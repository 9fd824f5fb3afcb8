"""The bytes of an import file as lines of cells: a .csv file (UTF-8 or
Windows-1252, `;` or `,`) or the first sheet of a .xlsx workbook."""

import csv
import io
from pathlib import PurePath

from openpyxl import load_workbook

UNSUPPORTED_FORMAT = "format non pris en charge : utilisez un fichier .csv ou .xlsx"


class Unreadable(Exception):
    """The file cannot be read at all; its message is the problem to show."""


def read_records(filename, content):
    """[(line, cells)] of the whole file, blank lines included."""
    extension = PurePath(filename or "").suffix.lower()
    if extension == ".csv":
        return _csv_records(content)
    if extension == ".xlsx":
        return _xlsx_records(content)
    raise Unreadable(UNSUPPORTED_FORMAT)


def _decode(content):
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("cp1252")
    except UnicodeDecodeError:
        raise Unreadable(
            "encodage du fichier non reconnu : enregistrez-le en « CSV UTF-8 »"
        ) from None


def _csv_records(content):
    text = _decode(content)
    header = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = ";" if header.count(";") >= header.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records = []
    line = 1
    try:
        for cells in reader:
            records.append((line, cells))
            # A quoted cell may span several lines: the next record starts after it.
            line = reader.line_num + 1
    except csv.Error as error:
        raise Unreadable(f"fichier CSV illisible à la ligne {line} : {error}") from None
    return records


def _xlsx_records(content):
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # a damaged workbook fails in many ways inside openpyxl
        raise Unreadable("fichier .xlsx illisible : est-ce bien un classeur Excel ?") from None
    try:
        sheet = workbook.worksheets[0]
        return list(enumerate((list(row) for row in sheet.iter_rows(values_only=True)), start=1))
    finally:
        workbook.close()


def cell_text(value, column_name=""):
    """A cell as text; a number gets back the leading zero a spreadsheet dropped."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        if column_name == "code_insee_naissance":
            return f"{value:05d}"  # 1053 was typed 01053 (Bourg-en-Bresse)
        if column_name == "telephone" and 100_000_000 <= value <= 999_999_999:
            return f"0{value}"  # 612345678 was typed 06 12 34 56 78
    return str(value).strip()


def is_blank(cells):
    return all(cell_text(cell) == "" for cell in cells)
