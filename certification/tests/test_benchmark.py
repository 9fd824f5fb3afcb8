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
