"""The benchmark scripts run on their own database: these tests need none, so
they run once, in the SQLite pass (see --database-tests-only in conftest.py).
They check that each script runs and prints its figures, never the figures."""

import os
import re
import subprocess
import sys

from django.conf import settings


def run_script(*arguments):
    return subprocess.run(
        [sys.executable, *arguments],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        env={key: value for key, value in os.environ.items() if key != "DATABASE_URL"},
    )


def test_the_benchmark_script_measures_both_in_one_run():
    run = run_script("scripts/benchmark_certificates.py", "2")
    assert run.returncode == 0, run.stderr
    assert "Certificats : 2" in run.stdout
    assert re.search(r"Rapport chaîne complète / WeasyPrint seul : \d+\.\d\d", run.stdout)


def test_the_import_benchmark_times_planning_and_applying():
    run = run_script("scripts/benchmark_import.py", "30")
    assert run.returncode == 0, run.stderr
    assert "Candidats : 30" in run.stdout
    assert re.search(r"Aperçu \(plan_import\) : \d+\.\d\d s, \d+ requête\(s\)", run.stdout)
    assert re.search(r"Import \(apply_import\) : \d+\.\d\d s, \d+ requête\(s\)", run.stdout)
    assert re.search(r"Total : \d+\.\d\d s, \d+\.\d\d ms par candidat", run.stdout)


def pages_benchmark():
    """scripts/benchmark_pages.py as a module: its pure parts, without servers."""
    import importlib

    sys.path.insert(0, str(settings.BASE_DIR / "scripts"))
    try:
        return importlib.import_module("benchmark_pages")
    finally:
        sys.path.remove(str(settings.BASE_DIR / "scripts"))


def test_the_pages_benchmark_table_gives_each_page_as_a_ratio_to_the_bare_view():
    bench = pages_benchmark()
    page = bench.Page("lourde", None, "/lourde/")
    page.times, page.size, page.queries = [0.040, 0.050, 0.060], 2048, "12"
    failed = bench.Page("cassée", None, "/cassee/")
    failed.error = "cassée : /cassee/ -> 500 /cassee/"
    bare = bench.Page("vue nue", None, bench.BARE_PATH)
    bare.times, bare.size, bare.queries = [0.010, 0.010, 0.010], 300, "4"
    lines = bench.table([page, failed], bare).splitlines()
    assert lines[0].startswith("| page | médiane (ms) | requêtes/s | débit / vue nue |")
    assert lines[2] == "| lourde | 50.0 | 20.0 | 0.20 | 2.0 Ko | 12 |"
    assert lines[3].startswith("| cassée | échec : cassée : /cassee/ -> 500")
    assert lines[4] == "| vue nue | 10.0 | 100.0 | 1.00 | 300 o | 4 |"


def test_the_pages_benchmark_takes_sqlite_when_asked(tmp_path):
    bench = pages_benchmark()
    assert bench.database_url("sqlite", tmp_path) == f"sqlite:///{tmp_path / 'bench.sqlite3'}"
    assert bench.database_url("sqlite:////tmp/x.sqlite3", tmp_path) == "sqlite:////tmp/x.sqlite3"
