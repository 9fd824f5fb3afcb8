"""The bytes of an import file as lines of cells: a .csv file (UTF-8 or
Windows-1252, `;` or `,`) or the first sheet of a .xlsx workbook.

Both are read as a stream and within limits, so that a hostile or mistaken
file (a workbook declaring a million rows, a sheet thousands of columns wide, a
compressed "bomb") is refused in a moment, in bounded memory:

- at most ``MAX_ROWS`` candidate rows (non-blank lines after the header);
- at most ``MAX_LINES`` lines read in all, blank lines included;
- at most ``MAX_COLUMNS`` columns: a value further right refuses the file;
- a .xlsx whose parts would exceed ``MAX_XLSX_UNCOMPRESSED`` bytes once
  decompressed is refused before it is opened;
- a .xlsx is scanned before openpyxl opens it, in a stream (no tree built):
  at most ``MAX_ROW_CELLS`` cells in a row, ``MAX_CELLS`` cells in its sheets,
  ``MAX_PART_ELEMENTS`` XML elements in its styles and other small parts and
  ``MAX_ELEMENTS`` in all. openpyxl parses a whole row before cutting it to
  the columns asked for, and every style: a few kilobytes declaring one row of
  millions of empty cells, or styles by the hundred thousand, would otherwise
  take minutes and gigabytes;
- a NUL character anywhere refuses the file (PostgreSQL cannot store one).
"""

import codecs
import csv
import io
import re
import zipfile
from pathlib import PurePath
from xml.parsers import expat

from openpyxl import load_workbook

UNSUPPORTED_FORMAT = "format non pris en charge : utilisez un fichier .csv ou .xlsx"

MAX_ROWS = 5000
MAX_LINES = 20000
MAX_COLUMNS = 50
MAX_XLSX_UNCOMPRESSED = 50 * 1024 * 1024
# Excel's widest row (column XFD): no real sheet has more cells in a row.
MAX_ROW_CELLS = 16384
# Every cell of MAX_ROWS rows of MAX_COLUMNS columns; a promotion needs a tenth.
MAX_CELLS = MAX_ROWS * MAX_COLUMNS
# Every part of the workbook (sheets, shared strings, styles...) together.
MAX_ELEMENTS = 1_000_000
# Each of the small parts openpyxl reads whole into objects (styles, workbook,
# relations...): a real one holds hundreds of elements; 600 000 styles in a
# 110 kB file once took two minutes to load.
MAX_PART_ELEMENTS = 10_000
SMALL_PARTS = re.compile(
    r"(xl/styles\.xml|xl/workbook\.xml|\[Content_Types\]\.xml|.*\.rels|docProps/.*"
    r"|xl/theme/.*)",
    re.IGNORECASE,
)
SPREADSHEET_NS = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
# The csv module's own limit of a cell's length (131 072 characters by default).
MAX_CELL_CHARS = csv.field_size_limit()

# A well-formed UTF-8 sequence of two to four bytes (an accented letter...).
UTF8_MULTIBYTE = re.compile(
    rb"[\xc2-\xdf][\x80-\xbf]|[\xe0-\xef][\x80-\xbf]{2}|[\xf0-\xf4][\x80-\xbf]{3}"
)


class Unreadable(Exception):
    """The file cannot be read at all; its message is the problem to show."""


def number(value):
    """5000 as « 5 000 » (a narrow no-break space between thousands)."""
    return f"{value:,}".replace(",", "\u202f")


TOO_MANY_ROWS = (
    f"le fichier compte plus de {number(MAX_ROWS)} lignes de candidats : "
    "importez la promotion en plusieurs fichiers"
)
TOO_MANY_LINES = (
    f"le fichier compte plus de {number(MAX_LINES)} lignes, lignes vides comprises : "
    "supprimez les lignes vides ou importez la promotion en plusieurs fichiers"
)
NUL_CHARACTER = "caractère nul (code 0) dans le fichier"


def read_records(filename, content):
    """[(line, cells)] of the file's non-blank lines, within the limits above;
    Unreadable (a French message) beyond them."""
    extension = PurePath(filename or "").suffix.lower()
    if extension == ".csv":
        return _within_limits(_csv_lines(content))
    if extension == ".xlsx":
        return _xlsx_records(content)
    raise Unreadable(UNSUPPORTED_FORMAT)


def _within_limits(lines):
    """The non-blank (line, cells) of `lines`, read only as far as the limits allow."""
    records = []
    for line, cells in lines:
        if line > MAX_LINES:
            raise Unreadable(TOO_MANY_LINES)
        if is_blank(cells):
            continue
        if _last_filled(cells) > MAX_COLUMNS:
            raise Unreadable(
                f"ligne {line} : plus de {MAX_COLUMNS} colonnes remplies ; "
                "ne gardez que les colonnes de l'import"
            )
        if any(isinstance(cell, str) and "\x00" in cell for cell in cells):
            raise Unreadable(f"ligne {line} : {NUL_CHARACTER}")
        records.append((line, list(cells[:MAX_COLUMNS])))
        if len(records) > MAX_ROWS + 1:  # the header and MAX_ROWS candidates
            raise Unreadable(TOO_MANY_ROWS)
    return records


def _last_filled(cells):
    """The position (from 1) of the last non-empty cell; 0 if none."""
    for position in range(len(cells), 0, -1):
        if cell_text(cells[position - 1]) != "":
            return position
    return 0


# --- CSV ------------------------------------------------------------------------


def _decode(content):
    """The text of a CSV file: UTF-8 (strictly), or else Windows-1252 if no
    part of it is UTF-8. A UTF-8 file with one stray byte (a cell pasted from
    an old file) is refused at that byte's line rather than imported garbled."""
    if b"\x00" in content:
        line = content.count(b"\n", 0, content.index(b"\x00")) + 1
        raise Unreadable(
            f"ligne {line} : {NUL_CHARACTER} ; enregistrez le fichier en « CSV UTF-8 » "
            "(l'UTF-16 n'est pas pris en charge)"
        )
    has_bom = content.startswith(codecs.BOM_UTF8)
    body = content[len(codecs.BOM_UTF8) :] if has_bom else content
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError as error:
        bad = error.start
    if has_bom or UTF8_MULTIBYTE.search(body):
        line = body.count(b"\n", 0, bad) + 1
        raise Unreadable(
            f"ligne {line} : caractère invalide en UTF-8 (octet 0x{body[bad]:02X}), "
            "alors que le reste du fichier est en UTF-8 ; corrigez cette ligne ou "
            "enregistrez de nouveau le fichier en « CSV UTF-8 »"
        )
    try:
        return content.decode("cp1252")
    except UnicodeDecodeError:
        raise Unreadable(
            "encodage du fichier non reconnu : enregistrez-le en « CSV UTF-8 »"
        ) from None


def _csv_lines(content):
    """(line, cells) of each record of the CSV file, as read."""
    text = _decode(content)
    header = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = ";" if header.count(";") >= header.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    line = 1
    try:
        for cells in reader:
            yield line, cells
            # A quoted cell may span several lines: the next record starts after it.
            line = reader.line_num + 1
    except csv.Error as error:
        if "field larger than field limit" in str(error):
            reason = (
                f"une cellule dépasse {number(MAX_CELL_CHARS)} caractères "
                '(un guillemet « " » ouvert et jamais fermé ?)'
            )
        else:
            reason = 'ligne mal formée (guillemets « " » mal placés ?)'
        raise Unreadable(f"fichier CSV illisible à la ligne {line} : {reason}") from None


# --- XLSX -----------------------------------------------------------------------


def _xlsx_records(content):
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            unpacked = sum(member.file_size for member in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        raise Unreadable("fichier .xlsx illisible : est-ce bien un classeur Excel ?") from None
    if unpacked > MAX_XLSX_UNCOMPRESSED:
        raise Unreadable(
            f"classeur trop volumineux une fois décompressé (plus de "
            f"{MAX_XLSX_UNCOMPRESSED // (1024 * 1024)} Mo) : enregistrez la liste "
            "des candidats seule dans un nouveau classeur"
        )
    _scan_xlsx(content)
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # a damaged workbook fails in many ways inside openpyxl
        raise Unreadable("fichier .xlsx illisible : est-ce bien un classeur Excel ?") from None
    try:
        sheet = workbook.worksheets[0]
        # The sheet's declared size is not trusted: rows are read one by one as
        # far as the limits, each cut one column beyond the widest allowed.
        rows = sheet.iter_rows(max_col=MAX_COLUMNS + 1, values_only=True)
        return _within_limits(enumerate(rows, start=1))
    except Unreadable:
        raise
    except Exception:
        raise Unreadable("fichier .xlsx illisible : est-ce bien un classeur Excel ?") from None
    finally:
        workbook.close()


class _TooLarge(Exception):
    """Stops the scan at the first limit passed; its message is the problem."""


def _scan_xlsx(content):
    """Refuse, before openpyxl parses anything, a workbook whose XML holds more
    elements, cells, cells in a row or texts than the limits. Expat reads each part in
    chunks and builds nothing, so time and memory stay bounded by the limits."""
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        # Shared strings too: openpyxl builds each one (some 60 µs apiece), and
        # no sheet within MAX_CELLS uses more texts than it has cells.
        budget = {"elements": MAX_ELEMENTS, "cells": MAX_CELLS, "strings": MAX_CELLS}
        for member in archive.infolist():
            if not member.filename.lower().endswith((".xml", ".rels")):
                continue
            small = SMALL_PARTS.fullmatch(member.filename) is not None
            try:
                with archive.open(member) as stream:
                    _scan_part(stream, budget, MAX_PART_ELEMENTS if small else None)
            except _TooLarge as error:
                raise Unreadable(str(error)) from None
            except (expat.ExpatError, zipfile.BadZipFile, OSError, ValueError):
                raise Unreadable(
                    "fichier .xlsx illisible : est-ce bien un classeur Excel ?"
                ) from None


def _scan_part(stream, budget, part_limit):
    parser = expat.ParserCreate(namespace_separator=" ")
    row = {"line": 0, "cells": 0}
    part = {"elements": 0}

    def start(name, attributes):
        budget["elements"] -= 1
        part["elements"] += 1
        if budget["elements"] < 0 or (part_limit and part["elements"] > part_limit):
            raise _TooLarge(
                "classeur trop complexe (styles ou éléments en trop grand nombre) : "
                "copiez la liste des candidats seule, en valeurs, dans un nouveau classeur"
            )
        if name == f"{SPREADSHEET_NS} si":
            budget["strings"] -= 1
            if budget["strings"] < 0:
                raise _TooLarge(
                    f"le classeur compte plus de {number(MAX_CELLS)} textes : copiez la "
                    "liste des candidats seule, en valeurs, dans un nouveau classeur"
                )
        elif name == f"{SPREADSHEET_NS} row":
            number_ = attributes.get("r", "")  # rows may skip numbers: the sheet's own
            row["line"] = (
                int(number_) if number_.isascii() and number_.isdigit() else row["line"] + 1
            )
            row["cells"] = 0
        elif name == f"{SPREADSHEET_NS} c":
            row["cells"] += 1
            budget["cells"] -= 1
            if row["cells"] > MAX_ROW_CELLS:
                raise _TooLarge(
                    f"ligne {row['line']} : plus de {number(MAX_ROW_CELLS)} cellules, "
                    "vides comprises ; ne gardez que les colonnes de l'import dans un "
                    "nouveau classeur"
                )
            if budget["cells"] < 0:
                raise _TooLarge(
                    f"le classeur compte plus de {number(MAX_CELLS)} cellules, vides "
                    "comprises : ne gardez que les colonnes et les lignes de l'import "
                    "dans un nouveau classeur"
                )

    def no_doctype(*args):
        # A workbook never declares a DTD; one that does may expand entities.
        raise expat.ExpatError("DTD")

    parser.StartElementHandler = start
    parser.StartDoctypeDeclHandler = no_doctype
    while chunk := stream.read(64 * 1024):
        parser.Parse(chunk, False)
    parser.Parse(b"", True)


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
