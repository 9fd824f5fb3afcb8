#!/usr/bin/env python
"""Throughput of the heavy pages, each as a ratio to a bare page of the same layout.

    .venv/bin/python scripts/benchmark_pages.py [--candidates 300] [--repeat 20]
        [--database postgres://postgres@127.0.0.1:5432/bench_pages | sqlite] [--keep]

1. a fresh database (PostgreSQL when the server answers, SQLite in a
   temporary folder otherwise, or --database), migrated with the production
   settings; a promotion of N candidates built through the services: bloc 1
   sat and graded by a trainer and a jury of two, a session of bloc 2 open
   with N rows (the trainer's drafts on half of them), a deliberation open on
   the promotion, one candidate with an account;
2. gunicorn (2 workers) with the production settings plus scripts/bench_urls.py
   (the bare view, a query counter), as scripts/smoke_production.py starts it;
3. one client through HTTP, each page followed by the bare view (A, bare, B,
   bare, ...), the whole round repeated R times after a warm-up round; prints
   a Markdown table: median ms, requests/s, throughput ratio to the bare view,
   size, SQL queries, with the load average before and after.

Only ratios measured in the same run mean something: the machine's load
changes the milliseconds, much less the ratios.
"""

import argparse
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

SCRIPTS = Path(__file__).resolve().parent
BASE_DIR = SCRIPTS.parent
sys.path.insert(0, str(SCRIPTS))

import smoke_production as smoke  # noqa: E402  (the production run's helpers)

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/bench_pages"
PASSWORD = smoke.DEMO_PASSWORD  # what smoke.Browser.sign_in types
BARE_PATH = "/__banc__/nu/"


# --- The data set (run in a subprocess with the benchmark's settings) ---------------


def build(count):
    """N candidates through the services; returns what the pages need."""
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()

    from django.contrib.auth import get_user_model

    from blocks.export import SHIPPED_FILE
    from blocks.services import activate_version, load_referential
    from candidates.models import Candidate, Cohort
    from candidates.services import enrol
    from core import roles
    from evaluations.deliberations import open_deliberation
    from evaluations.models import ExamSession
    from evaluations.sessions import change_session_status
    from evaluations.tests.factories import another_jury, fill, open_session, sit_bloc

    version = load_referential(SHIPPED_FILE.read_text(encoding="utf-8")).version
    version.rncp_code = "RNCP-BENCH"
    version.registration_decision_date = datetime.date(2024, 1, 1)
    version.national_level = version.european_level = version.nsf_codes = "BENCH"
    version.issue_place, version.signatory_name, version.signatory_title = "Paris", "X", "Y"
    version.registration_end_date = datetime.date(2099, 1, 1)
    version.save()
    if version.status == version.Status.DRAFT:
        version = activate_version(version, by=None)

    def user(username, role):
        account = get_user_model().objects.create_user(username=username, password=PASSWORD)
        account.groups.add(roles.group(role))
        return account

    trainer = user("formateur-banc", roles.TRAINER)
    president = user("president-banc", roles.JURY_MEMBER)
    member = user("membre-banc", roles.JURY_MEMBER)
    cohort = Cohort.objects.create(
        name="Promotion du banc d'essai",
        certification_version=version,
        start_date=datetime.date(2026, 9, 1),
        end_date=datetime.date(2027, 6, 30),
    )
    cohort.trainers.add(trainer)
    candidates = Candidate.objects.bulk_create(
        Candidate(
            birth_name=f"Banc{n:04d}",
            first_names=f"Prénom{n}",
            sex="F",
            birth_date=datetime.date(1990, 1, 1) + datetime.timedelta(days=n),
            birth_commune="Lyon",
            birth_insee_code="69123",
        )
        for n in range(count)
    )
    for candidate in candidates:
        enrol(candidate, cohort, access_route="vae", by=None)
    first = candidates[0]
    first.user = user("candidat-banc", roles.CANDIDATE)
    first.save(update_fields=["user"])

    jury = another_jury(version, president, member, name="Jury du banc d'essai")

    # Bloc 1 sat (its written modality by the trainer, its oral by the jury),
    # every grid handed in, the sessions closed.
    sit_bloc(cohort, 1, 2, trainer=trainer, jury=jury)
    for session in ExamSession.objects.filter(cohort=cohort, status=ExamSession.Status.OPEN):
        change_session_status(session, status="closed", by=None, confirmed=True)
    # A session of bloc 2 open to grading: N rows, the trainer's drafts on half.
    session = open_session("M2.1", cohort, [trainer], lead=trainer)
    assessments = list(session.assessments.order_by("pk"))
    for assessment in assessments[1::2]:
        fill(assessment, trainer, 1)
    deliberation = open_deliberation(jury, cohort, by=None)
    # The planner's statistics, as autovacuum keeps them on a production server
    # (a test server may run without it: estimates of a few rows then choose
    # plans that take tens of milliseconds on 300).
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    return {
        "cohort": cohort.pk,
        "session": session.pk,
        "assessment": assessments[0].pk,
        "deliberation": deliberation.pk,
        "trainer": trainer.username,
        "member": member.username,
        "candidate": first.user.username,
    }


# --- The servers ----------------------------------------------------------------------


def database_url(wanted, workdir):
    """`wanted`, or the default PostgreSQL database when its server answers,
    else SQLite in the temporary folder."""
    if wanted in ("sqlite", "sqlite3"):
        return f"sqlite:///{workdir / 'bench.sqlite3'}"
    url = wanted or DEFAULT_DATABASE
    if url.startswith("sqlite"):
        return url
    try:
        smoke.recreate_database(url)
    except Exception as error:
        if wanted:
            raise
        print(f"PostgreSQL indisponible ({type(error).__name__}) : SQLite.", file=sys.stderr)
        return f"sqlite:///{workdir / 'bench.sqlite3'}"
    return url


def drop_database(url):
    if url.startswith("postgres"):
        smoke.recreate_database(url, create=False)


def bench_env(workdir, port, url):
    """The production environment of the smoke test, plus the benchmark's
    settings module (bench_urls and its query counter), on `url`."""
    env = smoke.production_env(workdir, port)
    env["DATABASE_URL"] = url
    (workdir / "bench_settings.py").write_text(
        "from certification.settings.production import *  # noqa: F403\n"
        "ROOT_URLCONF = 'bench_urls'\n"
        "MIDDLEWARE = ['bench_urls.QueryCount', *MIDDLEWARE]  # noqa: F405\n"
    )
    env["DJANGO_SETTINGS_MODULE"] = "bench_settings"
    env["PYTHONPATH"] = os.pathsep.join(
        filter(None, [str(workdir), str(SCRIPTS), str(BASE_DIR), env.get("PYTHONPATH")])
    )
    return env


def step(message):
    """smoke_production's progress lines, on stderr: stdout is the table's."""
    print(f"-- {time.monotonic() - smoke.STARTED:5.1f} s  {message}", file=sys.stderr, flush=True)


# --- Measuring ------------------------------------------------------------------------


class Page:
    def __init__(self, name, browser, path, data=None):
        self.name, self.browser, self.path, self.data = name, browser, path, data
        self.times, self.size, self.queries, self.error = [], 0, None, None

    def fetch(self):
        """One request, timed; an autosave's data is renewed from its answer."""
        data = self.data() if callable(self.data) else self.data
        body = None
        headers = {}
        if data is not None:
            data = {"csrfmiddlewaretoken": self.browser.csrf_token(), **data}
            body = urllib.parse.urlencode(data).encode()
            headers = {"Referer": self.browser.base + self.path, "X-Requested-With": "fetch"}
        request = urllib.request.Request(self.browser.base + self.path, data=body, headers=headers)
        started = time.perf_counter()
        try:
            response = self.browser.opener.open(request, timeout=60)
        except urllib.error.HTTPError as error:
            response = error
        content = response.read()
        elapsed = time.perf_counter() - started
        final = urllib.parse.urlsplit(response.geturl()).path
        smoke.check(
            response.status == 200 and final == self.path,
            f"{self.name} : {self.path} -> {response.status} {final}\n"
            f"{content[:1500].decode(errors='replace')}",
        )
        self.size = len(content)
        self.queries = response.headers.get("X-Bench-Queries")
        if callable(self.data):
            self.data(answer=content)
        return elapsed


class Autosave:
    """The grid's autosave: the revision of the last answer, a value that changes."""

    def __init__(self, browser, path):
        import re

        _, grid = browser.get(path)
        self.revision = int(re.search(r'name="revision" value="(\d+)"', grid).group(1))
        radios = re.findall(r'<input[^>]*name="(value_\d+)"[^>]*value="(\d+)"', grid)
        smoke.check(radios, f"Pas de critère à noter dans {path}")
        self.field = radios[0][0]
        self.levels = sorted({int(v) for name, v in radios if name == self.field})
        self.turn = 0

    def __call__(self, answer=None):
        if answer is not None:
            saved = json.loads(answer)
            smoke.check(saved.get("revision") == self.revision + 1, f"Autosave : {saved}")
            self.revision = saved["revision"]
            return None
        self.turn += 1
        return {
            "revision": str(self.revision),
            self.field: str(self.levels[self.turn % len(self.levels)]),
        }


def measure(pages, bare, repeat):
    """Warm-up, then R rounds of page, bare, page, bare... A page that fails
    in the warm-up is left out (its error shown in the table), the others go on."""
    for _ in range(2):  # warm-up: both workers load their templates and caches
        for page in pages:
            if page.error is None:
                try:
                    page.fetch()
                except smoke.SmokeFailure as failure:
                    page.error = str(failure).splitlines()[0]
                    print(f"   {page.name} : ÉCHEC, page écartée\n{failure}", file=sys.stderr)
            bare.fetch()
    for _ in range(repeat):
        for page in pages:
            if page.error is not None:
                continue
            page.times.append(page.fetch())
            bare.times.append(bare.fetch())


def size(count):
    return f"{count / 1024:.1f} Ko" if count >= 1024 else f"{count} o"


def table(pages, bare):
    bare_median = statistics.median(bare.times)
    lines = [
        "| page | médiane (ms) | requêtes/s | débit / vue nue | taille | requêtes SQL |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for page in [*pages, bare]:
        if page.error is not None:
            lines.append(f"| {page.name} | échec : {page.error} | | | | |")
            continue
        median = statistics.median(page.times)
        lines.append(
            f"| {page.name} | {median * 1000:.1f} | {len(page.times) / sum(page.times):.1f} "
            f"| {bare_median / median:.2f} | {size(page.size)} | {page.queries or '?'} |"
        )
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--candidates", type=int, default=300, help="candidats (300)")
    parser.add_argument("--repeat", type=int, default=20, help="tours mesurés (20)")
    parser.add_argument(
        "--database",
        help=f"URL PostgreSQL, ou « sqlite » (défaut : {DEFAULT_DATABASE}, SQLite sans serveur)",
    )
    parser.add_argument("--keep", action="store_true", help="garder la base (et le dossier)")
    parser.add_argument("--build", type=int, help=argparse.SUPPRESS)  # the subprocess
    args = parser.parse_args(argv)
    if args.build is not None:
        print(json.dumps(build(args.build)))
        return 0

    workdir = Path(tempfile.mkdtemp(prefix="benchmark-pages-"))
    port = smoke.free_port()
    base = f"http://127.0.0.1:{port}"
    url = database_url(args.database, workdir)
    env = bench_env(workdir, port, url)
    web = None
    ok = False
    try:
        step(f"base {url} : migrate (réglages de production)")
        smoke.manage(env, "migrate", "--noinput")
        step(f"{args.candidates} candidats par les services")
        built = subprocess.run(
            [smoke.PYTHON, __file__, "--build", str(args.candidates)],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
        )
        smoke.check(not built.returncode, f"Construction en échec :\n{built.stderr}")
        ids = json.loads(built.stdout.strip().splitlines()[-1])
        step("collectstatic (sans compression)")
        smoke.collect_static(env, workdir)
        step(f"gunicorn (2 workers) sur {base}")
        web = smoke.Process(
            "gunicorn",
            [
                smoke.PYTHON,
                "-m",
                "gunicorn",
                "certification.wsgi:application",
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{port}",
                "--timeout",
                "120",
                "--no-control-socket",
            ],
            env,
            workdir / "gunicorn.log",
        )
        smoke.wait_until_up(base, web)
        trainer, member, candidate = (smoke.Browser(base) for _ in range(3))
        trainer.sign_in(ids["trainer"])
        member.sign_in(ids["member"])
        candidate.sign_in(ids["candidate"])
        grid = f"/evaluations/{ids['assessment']}/grille/"
        pages = [
            Page("grille de notation (GET)", trainer, grid),
            Page(
                f"session d'examen ({args.candidates} lignes)",
                trainer,
                f"/sessions/{ids['session']}/",
            ),
            Page(
                "carte de chaleur de la promotion",
                trainer,
                f"/tableau-de-bord/promotions/{ids['cohort']}/",
            ),
            Page("accueil du candidat", candidate, "/mon-parcours/"),
            Page(
                "tableau de délibération (membre votant)",
                member,
                f"/deliberations/{ids['deliberation']}/",
            ),
            Page(
                "tableau de bord du jury (délibération ouverte)", member, "/tableau-de-bord/jury/"
            ),
            Page("enregistrement automatique (POST)", trainer, grid, Autosave(trainer, grid)),
        ]
        bare = Page("vue nue (base.html, connecté)", trainer, BARE_PATH)
        load_before = os.getloadavg()
        step(f"mesure : {args.repeat} tours entrelacés (page, vue nue, page, ...)")
        measure(pages, bare, args.repeat)
        load_after = os.getloadavg()
        print()
        print(
            f"{args.candidates} candidats · {args.repeat} tours · "
            f"{'PostgreSQL' if url.startswith('postgres') else 'SQLite'} · gunicorn 2 workers · "
            f"{os.cpu_count()} CPU · charge (1/5/15 min) avant "
            f"{' '.join(f'{x:.2f}' for x in load_before)}, après "
            f"{' '.join(f'{x:.2f}' for x in load_after)}"
        )
        print()
        print(table(pages, bare))
        print()
        print(
            "Débit / vue nue : requêtes/s de la page divisées par celles de la vue nue "
            "(1 = aussi rapide que la mise en page seule). Requêtes SQL : celles de la "
            "requête, session et utilisateur compris."
        )
        ok = not any(page.error for page in pages)
    except smoke.SmokeFailure as failure:
        print(f"ÉCHEC : {failure}", file=sys.stderr)
    finally:
        if web is not None:
            web.stop()
            if not ok:
                print(f"\n===== journal de gunicorn =====\n{web.text()}", file=sys.stderr)
        if args.keep:
            print(f"Base gardée : {url} (dossier {workdir})", file=sys.stderr)
        else:
            drop_database(url)
            shutil.rmtree(workdir, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
