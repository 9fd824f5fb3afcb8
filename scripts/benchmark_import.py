#!/usr/bin/env python
"""Time of a large promotion import: planning (the preview) and applying it.

Builds a throwaway database (SQLite in a temporary folder) with the shipped
referential and one promotion, then plans and applies a CSV file of COUNT
candidates (one in three choosing the optional bloc 4), and prints the time
and the number of queries of each step; then the time taken to refuse a
workbook beyond the import's limits (200 000 rows declared) and of two
workbooks of a few kilobytes unfolding into millions of cells. The test suite
checks the behaviour and the number of queries; the speed is measured here,
not asserted.

    .venv/bin/python scripts/benchmark_import.py [COUNT]   # 2000 by default
"""

import csv
import datetime
import io
import os
import shutil
import sys
import tempfile
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
WORKDIR = tempfile.mkdtemp(prefix="benchmark-import-")
os.environ["DATABASE_URL"] = f"sqlite:///{WORKDIR}/benchmark.sqlite3"
os.environ["DJANGO_MEDIA_ROOT"] = f"{WORKDIR}/media"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "certification.settings.development")
sys.path.insert(0, str(ROOT))

import django  # noqa: E402

django.setup()

from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from blocks.export import SHIPPED_FILE  # noqa: E402
from blocks.services import load_referential  # noqa: E402
from candidates.importing import COLUMNS, plan_import  # noqa: E402
from candidates.models import Candidate, Cohort, Enrolment  # noqa: E402
from candidates.services import apply_import  # noqa: E402


def promotion_file(count):
    """The bytes of a CSV file of `count` different candidates."""
    header = [column.name for column in COLUMNS]
    first_day = datetime.date(1980, 1, 1)
    text = io.StringIO(newline="")
    writer = csv.writer(text, delimiter=";", lineterminator="\r\n")
    writer.writerow(header)
    for number in range(count):
        row = {
            "nom_naissance": f"Candidat{number}",
            "prenoms": "Camille",
            "sexe": "FM"[number % 2],
            "date_naissance": f"{first_day + datetime.timedelta(days=number * 2):%d/%m/%Y}",
            "code_insee_naissance": "75056",
            "email": f"candidat{number}@example.org",
            "voie_acces": Enrolment.AccessRoute.values[number % 6],
            "blocs_optionnels": "4" if number % 3 == 0 else "",
        }
        writer.writerow([row.get(column, "") for column in header])
    return text.getvalue().encode("utf-8")


def oversized_workbook():
    """A .xlsx of MAX_ROWS + 1 candidates declaring 200 000 rows and 16 384
    columns: what the import must refuse at once, in bounded memory."""
    from openpyxl import Workbook

    from candidates.importing.readers import MAX_ROWS

    rows = list(csv.reader(io.StringIO(promotion_file(MAX_ROWS + 1).decode()), delimiter=";"))
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    source = zipfile.ZipFile(io.BytesIO(buffer.getvalue()))
    target = io.BytesIO()
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for member in source.infolist():
            data = source.read(member.filename)
            if member.filename.startswith("xl/worksheets/sheet"):
                data = data.replace(b"<sheetPr", b'<dimension ref="A1:XFD200000"/><sheetPr', 1)
            archive.writestr(member, data)
    return target.getvalue()


def build():
    call_command("migrate", verbosity=0)
    version = load_referential(SHIPPED_FILE.read_text(encoding="utf-8")).version
    return Cohort.objects.create(
        name="Banc d'essai",
        certification_version=version,
        start_date=datetime.date(2026, 9, 1),
        end_date=datetime.date(2027, 6, 30),
    )


def timed(step):
    with CaptureQueriesContext(connection) as queries:
        started = time.perf_counter()
        outcome = step()
        elapsed = time.perf_counter() - started
    return outcome, elapsed, len(queries)


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
    print(f"Préparation d'un fichier de {count} candidats dans {WORKDIR}…", flush=True)
    cohort = build()
    content = promotion_file(count)

    plan, planning, planning_queries = timed(
        lambda: plan_import(cohort, "grande-promo.csv", content)
    )
    if not plan.is_valid:
        sys.exit("Fichier refusé : " + "; ".join(str(problem) for problem in plan.problems))
    applied, applying, applying_queries = timed(
        lambda: apply_import(cohort, "grande-promo.csv", content, by=None)
    )
    if len(applied.to_create) != count or Candidate.objects.count() != count:
        sys.exit("Import incomplet.")

    print(f"Candidats : {count}")
    print(f"Aperçu (plan_import) : {planning:.2f} s, {planning_queries} requête(s)")
    print(f"Import (apply_import) : {applying:.2f} s, {applying_queries} requête(s)")
    total = planning + applying
    print(f"Total : {total:.2f} s, {total / count * 1000:.2f} ms par candidat")
    bomb = oversized_workbook()
    refused, refusing, _ = timed(lambda: plan_import(cohort, "bombe.xlsx", bomb))
    print(
        f"Classeur trop long ({len(bomb) // 1024} ko, 200 000 lignes déclarées) refusé en "
        f"{refusing:.2f} s : {refused.problems[0]}"
    )
    from candidates.tests.test_import_bombs import bomb

    for label, wide in [
        ("une ligne de 5 000 000 cellules vides", bomb(rows=1, cells_per_row=5_000_000)),
        (
            "45 000 lignes de 40 cellules remplies",
            bomb(rows=45_000, cells_per_row=40, filled=True),
        ),
    ]:
        refused, refusing, _ = timed(lambda wide=wide: plan_import(cohort, "bombe.xlsx", wide))
        print(
            f"Classeur piégé ({len(wide) // 1024} ko, {label}) refusé en "
            f"{refusing:.2f} s : {refused.problems[0]}"
        )
    shutil.rmtree(WORKDIR, ignore_errors=True)


if __name__ == "__main__":
    main()
