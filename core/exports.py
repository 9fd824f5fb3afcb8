"""Spreadsheet exports: one writer for CSV and XLSX.

A view gives a French header row and the rows as an iterable (a generator:
nothing needs to sit in memory), and gets back a download:

- CSV for French Excel: UTF-8 with a byte order mark (without it Excel reads
  "Périer" as "PÃ©rier"), ";" between cells (French Excel takes "," as the
  decimal separator), decimal commas, dates as 27/11/2026; streamed line by
  line (StreamingHttpResponse).
- XLSX: openpyxl in write-only mode (rows written as they come, memory stays
  flat) into a temporary file, then streamed from it (FileResponse); numbers
  and dates stay numbers and dates.

Either way a text a spreadsheet would run as a formula (starting with =, +,
-, @, a tab or a carriage return: OWASP "CSV injection") gets a leading
apostrophe, in both formats, so that a file saved again in the other format
stays inert. Numbers are not texts: -3 stays the number -3.
"""

import csv
import datetime
import tempfile
from decimal import Decimal

from django.http import FileResponse, Http404, StreamingHttpResponse
from django.utils import timezone
from django.utils.text import slugify
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

FORMATS = ("csv", "xlsx")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def neutralise(value):
    """A cell's value with a formula-like text made inert; anything else as is."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def filename(title, fmt, *, today=None):
    """'Résultats 2026 A' -> 'resultats-2026-a-2026-11-27.xlsx'."""
    today = today or timezone.localdate()
    return f"{slugify(title) or 'export'}-{today.isoformat()}.{fmt}"


def export(fmt, *, title, header, rows):
    """The download of `rows` under `header` as `fmt` ("csv" or "xlsx"); an
    unknown format is a missing page."""
    if fmt not in FORMATS:
        raise Http404
    name = filename(title, fmt)
    if fmt == "csv":
        response = StreamingHttpResponse(
            _csv_lines(header, rows), content_type="text/csv; charset=utf-8"
        )
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response
    return FileResponse(
        _xlsx_file(title, header, rows), as_attachment=True, filename=name, content_type=XLSX_TYPE
    )


class _Line:
    """csv.writer's file: hands back the line it is given."""

    def write(self, line):
        return line


def _csv_cell(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%d/%m/%Y %H:%M")
    if isinstance(value, datetime.date):
        return value.strftime("%d/%m/%Y")
    if isinstance(value, int | float | Decimal):
        return str(value).replace(".", ",")  # a number, never a formula
    return neutralise(str(value))


def _csv_lines(header, rows):
    writer = csv.writer(_Line(), delimiter=";", lineterminator="\r\n")
    yield "\ufeff" + writer.writerow([neutralise(cell) for cell in header])
    for row in rows:
        yield writer.writerow([_csv_cell(cell) for cell in row])


def _xlsx_cell(sheet, value):
    if isinstance(value, bool):
        return "oui" if value else "non"
    if isinstance(value, datetime.date):
        is_datetime = isinstance(value, datetime.datetime)
        cell = WriteOnlyCell(
            sheet, timezone.localtime(value).replace(tzinfo=None) if is_datetime else value
        )
        cell.number_format = "DD/MM/YYYY HH:MM" if is_datetime else "DD/MM/YYYY"
        return cell
    return neutralise(value)


def _xlsx_file(title, header, rows):
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(_sheet_title(title))
    sheet.append([neutralise(cell) for cell in header])
    for row in rows:
        sheet.append([_xlsx_cell(sheet, cell) for cell in row])
    file = tempfile.TemporaryFile()  # noqa: SIM115 (FileResponse closes it, which deletes it)
    workbook.save(file)
    file.seek(0)
    return file


def _sheet_title(title):
    """A sheet title Excel accepts: 31 characters, none of []:*?/\\."""
    return "".join(c for c in title if c not in "[]:*?/\\")[:31] or "Export"
