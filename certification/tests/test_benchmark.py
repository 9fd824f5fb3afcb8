"""The benchmark script runs on its own database: this test needs none, so it
runs once, in the SQLite pass (see --database-tests-only in conftest.py)."""

import os
import re
import subprocess
import sys

from django.conf import settings


def test_the_benchmark_script_measures_both_in_one_run():
    run = subprocess.run(
        [sys.executable, "scripts/benchmark_certificates.py", "2"],
        cwd=settings.BASE_DIR,
        capture_output=True,
        text=True,
        timeout=300,
        env={key: value for key, value in os.environ.items() if key != "DATABASE_URL"},
    )
    assert run.returncode == 0, run.stderr
    assert "Certificats : 2" in run.stdout
    assert re.search(r"Rapport chaîne complète / WeasyPrint seul : \d+\.\d\d", run.stdout)
