#!/usr/bin/env python
"""Time per certificate: the whole issuing pipeline against WeasyPrint alone.

Builds a throwaway database (SQLite in a temporary folder) with COUNT
candidates (candidates.tests.factories.bulk_enrol) whose bloc 1 a signed and
published deliberation validated, then measures, in
one loop, alternating for each certificate:
  1. issuing it: lock and number, mentions, audit, render after commit,
     store the PDF;
  2. WeasyPrint alone rendering the very same HTML;
  3. the seal alone, applied to that PDF.
and prints the time per certificate of each (mean and median), their ratio
(of the sums, and of the medians, steadier on a busy machine), what remains
outside WeasyPrint and the seal, and the load average before and after.

    .venv/bin/python scripts/benchmark_certificates.py [COUNT]   # 200 by default
    BENCHMARK_DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_certificats \
        .venv/bin/python scripts/benchmark_certificates.py 100
"""

import datetime
import os
import sys
import tempfile
import time
from pathlib import Path
from statistics import median

ROOT = Path(__file__).resolve().parent.parent
WORKDIR = tempfile.mkdtemp(prefix="benchmark-certificats-")
# SQLite in the temporary folder by default. BENCHMARK_DATABASE_URL, a
# PostgreSQL database (dropped and created again, then dropped), measures on
# production's database: a commit there waits for one write to the disk,
# where SQLite's waits for several.
DATABASE_URL = os.environ.get("BENCHMARK_DATABASE_URL") or f"sqlite:///{WORKDIR}/benchmark.sqlite3"
if DATABASE_URL.startswith("postgres"):
    import smoke_production  # its helper to drop and create a database

    smoke_production.recreate_database(DATABASE_URL)
os.environ["DATABASE_URL"] = DATABASE_URL
os.environ["DJANGO_MEDIA_ROOT"] = f"{WORKDIR}/media"
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "certification.settings.development")
sys.path.insert(0, str(ROOT))

import django  # noqa: E402

django.setup()

from django.contrib.auth import get_user_model  # noqa: E402
from django.core.management import call_command  # noqa: E402

from blocks.export import SHIPPED_FILE  # noqa: E402
from blocks.services import load_referential  # noqa: E402
from candidates.models import Cohort  # noqa: E402
from candidates.tests.factories import bulk_enrol  # noqa: E402
from certification.rendering import certificate_html, seal_details  # noqa: E402
from certification.services import issue_bloc_certificate  # noqa: E402
from core import roles  # noqa: E402
from core.pdf import render_pdf  # noqa: E402
from core.signing import seal_pdf  # noqa: E402
from evaluations.deliberations import (  # noqa: E402
    open_deliberation,
    publish_results,
    record_decision,
    sign_minutes,
)
from evaluations.models import BlocDecision  # noqa: E402
from evaluations.tests.factories import another_jury  # noqa: E402


def build(count):
    call_command("migrate", verbosity=0)
    version = load_referential(SHIPPED_FILE.read_text(encoding="utf-8")).version
    version.rncp_code = "RNCP-BENCH"
    version.registration_decision_date = datetime.date(2024, 1, 1)
    version.national_level = version.european_level = version.nsf_codes = "BENCH"
    version.issue_place, version.signatory_name, version.signatory_title = "Paris", "X", "Y"
    version.registration_end_date = datetime.date(2099, 1, 1)
    version.save()
    for bloc in version.blocs.all():  # a frozen structure: the code only, by an update
        type(bloc).objects.filter(pk=bloc.pk).update(official_code=f"RNCP00000BC{bloc.number:02d}")
    cohort = Cohort.objects.create(
        name="Banc d'essai",
        certification_version=version,
        start_date=datetime.date(2026, 9, 1),
        end_date=datetime.date(2027, 6, 30),
    )
    bulk_enrol(cohort, count, start=0)
    president, member = (
        get_user_model().objects.create_user(username=name) for name in ("president", "membre")
    )
    for user in (president, member):
        user.groups.add(roles.group(roles.JURY_MEMBER))
    jury = another_jury(version, president, member, name="Jury du banc d'essai")
    bloc1 = version.blocs.get(number=1)
    # No exam here: the office adds bloc 1 to the deliberation for everyone.
    deliberation = open_deliberation(jury, cohort, added_blocs=[bloc1], by=None)
    for enrolment in cohort.enrolments.all():
        record_decision(
            deliberation,
            enrolment=enrolment,
            bloc=bloc1,
            decision=BlocDecision.Decision.VALIDATED,
            justification="Banc d'essai.",
            user=member,
        )
    sign_minutes(deliberation, user=member)
    sign_minutes(deliberation, user=president)
    publish_results(deliberation, by=None)
    return list(deliberation.decisions.filter(bloc=bloc1))


def main():
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    print(f"Préparation de {count} décisions validées dans {WORKDIR}…", flush=True)
    decisions = build(count)

    # Interleaved: each certificate is issued, then its very HTML rendered by
    # WeasyPrint alone, so that both measurements share the machine's load.
    load_before = os.getloadavg()
    pipeline, weasyprint_alone, sealing = [], [], []
    processor = {"pipeline": 0.0, "weasyprint": 0.0}  # CPU time of this process
    for decision in decisions:
        started, cpu = time.perf_counter(), time.process_time()
        certificate = issue_bloc_certificate(decision, by=None)
        pipeline.append(time.perf_counter() - started)
        processor["pipeline"] += time.process_time() - cpu
        certificate = certificate.__class__.objects.get(pk=certificate.pk)
        assert certificate.pdf
        html = certificate_html(certificate)
        started, cpu = time.perf_counter(), time.process_time()
        rendered = render_pdf(html)
        weasyprint_alone.append(time.perf_counter() - started)
        processor["weasyprint"] += time.process_time() - cpu
        started = time.perf_counter()
        seal_pdf(rendered, **seal_details(certificate))
        sealing.append(time.perf_counter() - started)
    load_after = os.getloadavg()

    def ms(times):
        mean = sum(times) / len(times)
        return f"{mean * 1000:.1f} ms par certificat (médiane {median(times) * 1000:.1f})"

    print(f"Certificats : {count}, mesures entrelacées, base {DATABASE_URL.split(':', 1)[0]}")
    print(f"Chaîne complète (numéro, mentions, audit, rendu, stockage) : {ms(pipeline)}")
    print(f"WeasyPrint seul, même HTML : {ms(weasyprint_alone)}")
    print(f"Cachet seul (signature PAdES du même PDF) : {ms(sealing)}")
    print(
        f"Rapport chaîne complète / WeasyPrint seul : {sum(pipeline) / sum(weasyprint_alone):.2f}"
    )
    print(
        "Rapport chaîne sans le cachet / WeasyPrint seul : "
        f"{(sum(pipeline) - sum(sealing)) / sum(weasyprint_alone):.2f}"
    )
    rest = (sum(pipeline) - sum(weasyprint_alone) - sum(sealing)) / count
    print(f"Reste hors WeasyPrint et cachet : {rest * 1000:.1f} ms par certificat")
    # Less sensitive to the other processes of the machine than the means.
    print(
        "Rapport des médianes chaîne complète / WeasyPrint seul : "
        f"{median(pipeline) / median(weasyprint_alone):.2f}"
    )
    # Without the waits (the disk's synchronisations at each commit, the other
    # processes of the machine): what the code itself costs.
    print(
        f"Temps processeur : chaîne complète {processor['pipeline'] / count * 1000:.1f} ms, "
        f"WeasyPrint seul {processor['weasyprint'] / count * 1000:.1f} ms par certificat, "
        f"rapport {processor['pipeline'] / processor['weasyprint']:.2f}"
    )
    print(
        "Charge (1/5/15 min) avant "
        + " ".join(f"{x:.2f}" for x in load_before)
        + ", après "
        + " ".join(f"{x:.2f}" for x in load_after)
    )


if __name__ == "__main__":
    try:
        main()
    finally:
        if DATABASE_URL.startswith("postgres"):
            from django.db import connections

            connections.close_all()
            smoke_production.recreate_database(DATABASE_URL, create=False)
