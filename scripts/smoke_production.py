"""Smoke test of the production run: gunicorn serving the platform with the
production settings and `manage.py db_worker` running its background tasks, on
a fresh PostgreSQL database, exercised through HTTP only.

    .venv/bin/python scripts/smoke_production.py

What it does, as an administrator would (README, « Mise en production »):

1. drops and creates the database `certif_smoke` (SMOKE_DATABASE_URL to
   change it), migrates it with the production settings, loads the demo data
   (seed_demo refuses outside DEBUG: it alone runs with the development
   settings, against the same database), collects the static files (without
   their compression, see collect_static);
2. starts gunicorn (2 workers, a free port on 127.0.0.1) and a db_worker, both
   with the production settings and the database task backend;
3. through HTTP: signs in as the trainer and saves a score in a grid of an
   open session (the autosave's fetch post, with its revision); signs in as
   the office admin and starts the printing of the certificates a published PV
   makes due; the job is completed by the worker, not inline (the task's row
   in the database queue names the worker that ran it); opens the public
   verification page of a printed certificate and checks its PDF (from the
   ZIP) there: the issued file, its seal intact; a copy with one byte
   changed: neither; fetches the CSS;
4. a large published PV (`--certificates N`, 300 by default, 0 to skip; the
   PV of N candidates is built through the services once the servers run,
   its signed PV and letters rendered by the worker): the office prints it;
   while the worker issues and bundles, the web answers (each page in under
   WEB_WHILE_PRINTING seconds), a second request for the same PV is answered
   "already running" and shows the running job; the job ends done with N
   certificates in its ZIP and N pages in its PDF.

    .venv/bin/python scripts/smoke_production.py --certificates 20   # quicker

It stops both processes in every case, prints their logs on failure, and
exits non-zero on any failure.
"""

import http.cookiejar
import io
import json
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import traceback
import urllib.error
import urllib.parse
import urllib.request
import zipfile
from html import unescape
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
DATABASE_URL = os.environ.get(
    "SMOKE_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/certif_smoke"
)
DEMO_PASSWORD = "demo1234"  # portal/management/commands/seed_demo.py
TIMEOUT = 10  # seconds, each HTTP request
JOB_DEADLINE = 40  # seconds for the worker to print the demo's certificates
PER_CERTIFICATE = 1.0  # seconds allowed per certificate of the large job (0.2 measured)
WEB_WHILE_PRINTING = 3.0  # seconds at most for a page while the worker prints

# A published PV validating bloc 1 for `count` new candidates, through the
# services (manage.py shell, production settings: its PV is queued for the
# worker). Prints the deliberation's id.
LARGE_PV = """
import datetime
from django.contrib.auth import get_user_model
from blocks.models import CertificationVersion
from candidates.models import Candidate, Cohort, Enrolment
from core import roles
from evaluations.deliberations import (
    open_deliberation, publish_results, record_decision, sign_minutes,
)
from evaluations.juries import add_member, create_jury, declare_independence
from evaluations.models import BlocDecision

count = {count}
version = CertificationVersion.objects.active().get()
cohort = Cohort.objects.create(
    name="Promotion nombreuse", certification_version=version,
    start_date=datetime.date(2026, 9, 1), end_date=datetime.date(2027, 6, 30),
)
candidates = Candidate.objects.bulk_create(
    Candidate(
        birth_name=f"Nombreux{{n:03d}}", first_names="Camille", sex="F",
        birth_date=datetime.date(2000, 1, 1) + datetime.timedelta(days=n),
        birth_commune="Lyon", birth_insee_code="69123",
    )
    for n in range(count)
)
Enrolment.objects.bulk_create(
    Enrolment(candidate=c, cohort=cohort, access_route="vae") for c in candidates
)
users = [get_user_model().objects.create_user(username=name) for name in ("pres-nb", "membre-nb")]
for user in users:
    user.groups.add(roles.group(roles.JURY_MEMBER))
jury = create_jury(
    name="Jury de la promotion nombreuse", certification_version=version,
    date=datetime.date(2027, 6, 20), place="Lyon", by=None,
)
add_member(jury, user=users[0], role="president", external=False, by=None)
add_member(jury, user=users[1], role="member", external=True, by=None)
for seat in jury.members.all():
    declare_independence(seat, user=seat.user)
bloc = version.blocs.get(number=1)
deliberation = open_deliberation(jury, cohort, added_blocs=[bloc], by=None)
for enrolment in cohort.enrolments.all():
    record_decision(
        deliberation, enrolment=enrolment, bloc=bloc,
        decision=BlocDecision.Decision.VALIDATED, justification="Test de production.",
        user=users[1],
    )
sign_minutes(deliberation, user=users[1])
sign_minutes(deliberation, user=users[0])
publish_results(deliberation, by=None)
print(deliberation.pk)
"""


class SmokeFailure(Exception):
    pass


STARTED = time.monotonic()


def step(message):
    print(f"-- {time.monotonic() - STARTED:5.1f} s  {message}", flush=True)


def check(condition, message):
    if not condition:
        raise SmokeFailure(message)


# --- The database -----------------------------------------------------------------


def server_connection(url):
    """An autocommit connection to the `postgres` database of `url`'s server,
    and the name of `url`'s database."""
    import psycopg2

    parts = urllib.parse.urlsplit(url)
    name = parts.path.lstrip("/")
    check(name, f"Pas de nom de base dans {url}")
    connection = psycopg2.connect(
        host=parts.hostname or "127.0.0.1",
        port=parts.port or 5432,
        user=urllib.parse.unquote(parts.username or "postgres"),
        password=urllib.parse.unquote(parts.password) if parts.password else None,
        dbname="postgres",
    )
    connection.autocommit = True
    return connection, name


def recreate_database(url, *, create=True):
    """Drop and create the database of `url`, through the server's `postgres`
    database (only drop it without `create`)."""
    from psycopg2 import sql

    connection, name = server_connection(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
            if create:
                cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        connection.close()


def query(url, statement, params=()):
    import psycopg2

    connection = psycopg2.connect(url)
    try:
        with connection.cursor() as cursor:
            cursor.execute(statement, params)
            return cursor.fetchall()
    finally:
        connection.close()


# --- The processes ----------------------------------------------------------------


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def production_env(workdir, port):
    """The environment of deploy/certification.env.example, for plain HTTP on 127.0.0.1."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "PUBLIC_BASE_URL"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="certification.settings.production",
        DJANGO_SECRET_KEY=secrets.token_urlsafe(50),
        DJANGO_ALLOWED_HOSTS="127.0.0.1",
        DJANGO_CSRF_TRUSTED_ORIGINS=f"http://127.0.0.1:{port}",
        DJANGO_SECURE="0",  # plain HTTP on 127.0.0.1: no HTTPS redirect, no secure cookies
        DATABASE_URL=DATABASE_URL,
        DJANGO_TASKS_BACKEND="django_tasks_db.DatabaseBackend",
        PUBLIC_BASE_URL=f"http://127.0.0.1:{port}",
        DJANGO_MEDIA_ROOT=str(workdir / "media"),
        DJANGO_STATIC_ROOT=str(workdir / "static"),
        DJANGO_EMAIL_BACKEND="django.core.mail.backends.console.EmailBackend",
        PYTHONUNBUFFERED="1",
        # Production refuses to start without the certifier's seal: a PKCS#12
        # made for this run (README, « Cachet des PDF »).
        PDF_SIGNING_PKCS12=str(trial_seal(workdir / "cachet.p12", SEAL_PASSPHRASE)),
        PDF_SIGNING_PASSPHRASE=SEAL_PASSPHRASE,
    )
    return env


SEAL_PASSPHRASE = "phrase-de-passe-du-cachet-d-essai"


def trial_seal(path, passphrase):
    """A self-signed signing certificate for this run, as core/signing.py
    generates the demonstration one (without Django's settings)."""
    sys.path.insert(0, str(BASE_DIR))
    from core.signing import write_demo_pkcs12

    return write_demo_pkcs12(
        path, passphrase=passphrase.encode(), organisation="Essai de production (smoke)"
    )


def manage(env, *args):
    result = subprocess.run(
        [PYTHON, "manage.py", *args],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise SmokeFailure(
            f"manage.py {' '.join(args)} a échoué ({result.returncode}) :\n"
            f"{result.stdout}\n{result.stderr}"
        )
    return result.stdout


def collect_static(env, workdir):
    """`collectstatic` as in production, but with the manifest storage that the
    production storage extends, without its gzip and brotli compression: that
    takes 40 s and changes nothing the web process reads (the same hashed
    names, the same staticfiles.json); WhiteNoise then serves the files
    uncompressed."""
    (workdir / "smoke_static_settings.py").write_text(
        "from certification.settings.production import *  # noqa: F403\n"
        "STORAGES = {**STORAGES, 'staticfiles': {'BACKEND': "  # noqa: F405
        "'django.contrib.staticfiles.storage.ManifestStaticFilesStorage'}}\n"
    )
    manage(
        {
            **env,
            "DJANGO_SETTINGS_MODULE": "smoke_static_settings",
            "PYTHONPATH": os.pathsep.join(filter(None, [str(workdir), env.get("PYTHONPATH")])),
        },
        "collectstatic",
        "--noinput",
    )


class Process:
    """A background process whose output goes to a log file."""

    def __init__(self, name, args, env, log):
        self.name = name
        self.log = log
        self.output = open(log, "w")  # noqa: SIM115 (closed in stop())
        self.popen = subprocess.Popen(
            args,
            cwd=BASE_DIR,
            env=env,
            stdout=self.output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def alive(self):
        return self.popen.poll() is None

    def text(self):
        if not self.output.closed:
            self.output.flush()
        return Path(self.log).read_text(errors="replace")

    def stop(self):
        if self.alive():
            os.killpg(self.popen.pid, signal.SIGTERM)
            try:
                self.popen.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait()
        self.output.close()


# --- HTTP -------------------------------------------------------------------------


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Browser:
    """One visitor: a cookie jar, and Django's CSRF token taken from the pages."""

    def __init__(self, base):
        self.base = base
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.cookies))

    def request(self, path, data=None, headers=None, expect=200):
        body = urllib.parse.urlencode(data).encode() if data is not None else None
        request = urllib.request.Request(self.base + path, data=body, headers=headers or {})
        try:
            response = self.opener.open(request, timeout=TIMEOUT)
        except urllib.error.HTTPError as error:
            response = error
        content = response.read()
        final = urllib.parse.urlsplit(response.geturl()).path
        check(
            response.status == expect,
            f"{'POST' if data is not None else 'GET'} {path} -> {response.status} {final} "
            f"(attendu {expect}) :\n{content[:2000].decode(errors='replace')}",
        )
        return final, content

    def get(self, path, expect=200):
        final, content = self.request(path, expect=expect)
        return final, content.decode()

    def csrf_token(self):
        for cookie in self.cookies:
            if cookie.name == "csrftoken":
                return cookie.value
        raise SmokeFailure("Pas de cookie csrftoken")

    def post(self, path, data, headers=None, expect=200):
        data = {"csrfmiddlewaretoken": self.csrf_token(), **data}
        final, content = self.request(
            path, data, headers={"Referer": self.base + path, **(headers or {})}, expect=expect
        )
        return final, content

    def sign_in(self, username):
        final, page = self.get("/connexion/")
        check('name="csrfmiddlewaretoken"' in page, "La page de connexion n'a pas de jeton CSRF")
        final, page = self.post("/connexion/", {"username": username, "password": DEMO_PASSWORD})
        check(final != "/connexion/", f"{username} n'est pas connecté (resté sur {final})")
        return page.decode()


def links(page, pattern):
    return list(dict.fromkeys(re.findall(pattern, page)))


# --- The journey ------------------------------------------------------------------


def save_a_grid(base):
    """The trainer opens a grid of an open session they assess and saves a score
    as the page's autosave does (fetch post with the revision)."""
    trainer = Browser(base)
    trainer.sign_in("formateur")
    _, sessions = trainer.get("/sessions/")
    for session_path in links(sessions, r'href="(/sessions/\d+/)"'):
        _, session = trainer.get(session_path)
        if "Ouverte à la notation" not in session:
            continue
        for grid_path in links(session, r'href="(/evaluations/\d+/grille/)"'):
            _, grid = trainer.get(grid_path)
            if 'name="submit"' not in grid:
                continue
            revision = re.search(r'name="revision" value="(\d+)"', grid)
            radios = re.findall(r'<input[^>]*name="(value_\d+)"[^>]*value="(\d+)"([^>]*)>', grid)
            if not revision or not radios:
                continue
            # A level of the first criterion other than the one already chosen.
            field = radios[0][0]
            level = max(
                int(value)
                for name, value, rest in radios
                if name == field and "checked" not in rest
            )
            _, answer = trainer.post(
                grid_path,
                {"revision": revision.group(1), field: str(level)},
                headers={"X-Requested-With": "fetch"},
            )
            saved = json.loads(answer)
            check(
                saved.get("revision") == int(revision.group(1)) + 1,
                f"Révision inattendue après l'enregistrement : {saved}",
            )
            _, grid = trainer.get(grid_path)
            check(
                re.search(rf'name="{field}"[^>]*value="{level}"[^>]*checked', grid),
                f"La note enregistrée n'apparaît pas dans la grille {grid_path}",
            )
            return f"{grid_path} ({field} = {level}, révision {saved['revision']})"
    raise SmokeFailure("Aucune grille à noter pour le formateur dans une session ouverte")


def print_certificates(base, env, worker):
    """The office starts a print job; the worker, not the web process, runs it."""
    office = Browser(base)
    office.sign_in("admin")
    _, page = office.get("/certificats/")
    form = re.search(r'action="/certificats/impression/".*?</form>', page, re.S)
    check(form, "Pas de formulaire d'impression sur /certificats/")
    options = re.findall(r'<option value="(\d+)"', form.group(0))
    check(options, "Aucun procès-verbal à imprimer")
    job_path, job_page = office.post("/certificats/impression/", {"deliberation": options[0]})
    job_page = job_page.decode()
    check(
        re.fullmatch(r"/certificats/impression/\d+/", job_path),
        f"La demande d'impression n'a pas mené à la tâche (arrivé sur {job_path})",
    )
    first_status = re.search(r"<p>([^<·]+?) ·", job_page)
    first_status = first_status.group(1).strip() if first_status else "?"
    deadline = time.monotonic() + JOB_DEADLINE
    while "Terminé" not in job_page:
        check("Échec" not in job_page, f"L'impression a échoué :\n{job_page}")
        check(worker.alive(), "Le db_worker s'est arrêté")
        check(time.monotonic() < deadline, f"Impression non terminée en {JOB_DEADLINE} s")
        time.sleep(0.5)
        _, job_page = office.get(job_path)
    # Not inline: the task went through the database queue and a worker ran it.
    rows = query(
        env["DATABASE_URL"],
        "SELECT status, worker_ids FROM django_tasks_database_dbtaskresult WHERE task_path = %s",
        ("certification.printing.print_certificates",),
    )
    check(len(rows) >= 1, f"Tâches d'impression dans la file : {rows}")
    status, worker_ids = rows[0]
    check(
        all(status == "SUCCESSFUL" and worker_ids for status, worker_ids in rows),
        f"La tâche n'a pas été exécutée par un worker : {rows}",
    )
    check(
        re.search(
            r"path=certification\.printing\.print_certificates state=SUCCESSFUL", worker.text()
        ),
        "Le journal du db_worker ne montre pas l'impression",
    )
    _, archive = office.request(job_path + "fichier.zip")
    with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
        numbers = [name.removesuffix(".pdf") for name in bundle.namelist()]
        check(numbers, "L'archive de l'impression est vide")
        first_pdf = bundle.read(bundle.namelist()[0])
    _, merged = office.request(job_path + "fichier.pdf")
    check(merged.startswith(b"%PDF"), "Le PDF de l'impression n'est pas un PDF")
    _, detail = office.get(f"/certificats/{urllib.parse.quote(numbers[0])}/")
    verification = re.search(r'href="([^"]*/verifier/[^"/]+/)"', detail)
    check(verification, f"Pas de lien de vérification sur la page du certificat {numbers[0]}")
    return (
        job_path,
        first_status,
        len(numbers),
        worker_ids,
        numbers[0],
        urllib.parse.urlsplit(unescape(verification.group(1))).path,
        first_pdf,
    )


def print_large_pv(base, env, worker, deliberation_id, count):
    """The office prints the large PV: the worker does it while the web answers,
    and a second request for the same PV is told the job is already running."""
    office = Browser(base)
    office.sign_in("admin")
    started = time.monotonic()
    job_path, job_page = office.post("/certificats/impression/", {"deliberation": deliberation_id})
    asked_in = time.monotonic() - started
    check(
        re.fullmatch(r"/certificats/impression/\d+/", job_path),
        f"La demande d'impression n'a pas mené à la tâche (arrivé sur {job_path})",
    )
    check(asked_in < WEB_WHILE_PRINTING, f"La demande d'impression a pris {asked_in:.1f} s")
    again_path, again = office.post("/certificats/impression/", {"deliberation": deliberation_id})
    check(
        again_path == job_path and "déjà en cours" in unescape(again.decode()),
        f"La seconde demande n'est pas dite « déjà en cours » (arrivé sur {again_path})",
    )
    slowest, answered, progress = 0.0, 0, set()
    deadline = time.monotonic() + JOB_DEADLINE + PER_CERTIFICATE * count
    job_page = job_page.decode()
    while "Terminé" not in job_page:
        check("Échec" not in job_page, f"L'impression a échoué :\n{job_page}")
        check(worker.alive(), "Le db_worker s'est arrêté")
        check(time.monotonic() < deadline, f"Impression de {count} certificats non terminée")
        for path in ("/certificats/", job_path):
            before = time.monotonic()
            _, page = office.get(path)
            slowest = max(slowest, time.monotonic() - before)
            answered += 1
        job_page = page
        done = re.search(r"(\d+) certificat\(s\) produit\(s\) sur (\d+)", job_page)
        if done and "En cours" in job_page:
            progress.add(int(done.group(1)))
        time.sleep(0.5)
    check(
        slowest < WEB_WHILE_PRINTING,
        f"Le web a mis {slowest:.1f} s à répondre pendant l'impression",
    )
    check(progress, "L'impression n'a jamais été vue en cours")
    done = re.search(r"(\d+) certificat\(s\) produit\(s\) sur (\d+)", job_page)
    check(
        done and int(done.group(1)) == int(done.group(2)) == count,
        f"Décompte inattendu : {done and done.group(0)} (attendu {count})",
    )
    _, archive = office.request(job_path + "fichier.zip")
    with zipfile.ZipFile(io.BytesIO(archive)) as bundle:
        check(len(bundle.namelist()) == count, f"{len(bundle.namelist())} PDF dans le ZIP")
    _, merged = office.request(job_path + "fichier.pdf")
    from pypdf import PdfReader

    pages = len(PdfReader(io.BytesIO(merged)).pages)
    check(pages == count, f"{pages} page(s) dans le PDF à imprimer (attendu {count})")
    return job_path, time.monotonic() - started, answered, slowest, len(progress)


def verify_publicly(base, path, number, pdf):
    """The public page, then the certificate's PDF (as archived by the
    printing) dropped on its JSON check: the issued file, its seal intact; one
    byte changed: neither."""
    visitor = Browser(base)
    _, page = visitor.get(path)
    check("Certificat valide" in page, f"La page {path} ne dit pas le certificat valide")
    check(number in page, f"La page {path} ne cite pas le numéro {number}")
    for data, expected in [(pdf, (True, "intact")), (tampered(pdf), (False, "altered"))]:
        boundary = secrets.token_hex(16)
        body = (
            (
                f'--{boundary}\r\nContent-Disposition: form-data; name="document"; '
                f'filename="certificat.pdf"\r\nContent-Type: application/pdf\r\n\r\n'
            ).encode()
            + data
            + f"\r\n--{boundary}--\r\n".encode()
        )
        request = urllib.request.Request(
            base + path + "fichier.json",
            data=body,
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            answer = json.loads(response.read())["file"]
        got = (answer["matches_issued"], answer["signature"]["status"])
        check(got == expected, f"Contrôle du PDF {number} : {got} (attendu {expected})")


def tampered(pdf):
    """One byte changed inside the first stream of the sealed PDF."""
    position = pdf.index(b"stream\n") + 30
    return pdf[:position] + bytes([pdf[position] ^ 0x01]) + pdf[position + 1 :]


def static_css(base):
    visitor = Browser(base)
    _, page = visitor.get("/connexion/")
    sheets = re.findall(r'<link[^>]+rel="stylesheet"[^>]+href="([^"]+)"', page)
    sheets += re.findall(r'<link[^>]+href="([^"]+\.css)"', page)
    check(sheets, "La page de connexion n'a pas de feuille de style")
    for sheet in dict.fromkeys(sheets):
        visitor.request(unescape(sheet))
    return len(set(sheets))


def wait_until_up(base, web):
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        check(web.alive(), "gunicorn s'est arrêté au démarrage")
        try:
            with urllib.request.urlopen(base + "/connexion/", timeout=TIMEOUT):
                return
        except OSError:  # refused while gunicorn binds, or its first answer is slow
            time.sleep(0.2)
    raise SmokeFailure("gunicorn ne répond pas après 20 s")


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--certificates",
        type=int,
        default=300,
        help="certificats de la grande impression (300 par défaut, 0 pour l'omettre)",
    )
    large_count = parser.parse_args(argv).certificates
    started = time.monotonic()
    workdir = Path(tempfile.mkdtemp(prefix="certif-smoke-"))
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    env = production_env(workdir, port)
    processes = []
    ok = False
    try:
        step(f"base neuve {DATABASE_URL}")
        recreate_database(DATABASE_URL)
        step("migrate (réglages de production)")
        manage(env, "migrate", "--noinput")
        step("seed_demo (réglages de développement, même base)")
        manage(
            {
                **env,
                "DJANGO_SETTINGS_MODULE": "certification.settings.development",
                "DJANGO_DEBUG": "1",
            },
            "seed_demo",
        )
        step("collectstatic (sans compression)")
        collect_static(env, workdir)

        step(f"gunicorn (2 workers) sur {base} et db_worker")
        web = Process(
            "gunicorn",
            [
                PYTHON,
                "-m",
                "gunicorn",
                "certification.wsgi:application",
                "--workers",
                "2",
                "--bind",
                f"127.0.0.1:{port}",
                "--access-logfile",
                "-",
                "--timeout",
                "30",
                "--no-control-socket",
            ],
            env,
            workdir / "gunicorn.log",
        )
        processes.append(web)
        worker = Process(
            "db_worker",
            [PYTHON, "manage.py", "db_worker", "--interval", "0.5", "--no-startup-delay"],
            env,
            workdir / "db_worker.log",
        )
        processes.append(worker)
        wait_until_up(base, web)

        step("formateur : connexion, note enregistrée dans une grille")
        print(f"   grille {save_a_grid(base)}")
        step("admin : connexion, impression des certificats dus")
        job, first_status, count, worker_ids, number, verify_path, pdf = print_certificates(
            base, env, worker
        )
        print(
            f"   {job} : « {first_status} » après la demande, {count} certificat(s) "
            f"imprimé(s) par le worker {worker_ids[0]}"
        )
        step(f"public : {verify_path}")
        verify_publicly(base, verify_path, number, pdf)
        if large_count:
            # Built once the servers run: its signed PV and its decision letters
            # are queued for the worker, which renders them before the printing.
            step(f"PV publié de {large_count} candidats (bloc 1 validé)")
            large_pv = manage(env, "shell", "-c", LARGE_PV.format(count=large_count)).split()[-1]
            step(f"admin : impression de {large_count} certificats, le web répond pendant ce temps")
            job, elapsed, answered, slowest, seen = print_large_pv(
                base, env, worker, large_pv, large_count
            )
            print(
                f"   {job} : {large_count} certificats en {elapsed:.1f} s par le worker ; "
                f"{answered} pages servies pendant ce temps, la plus lente en {slowest:.2f} s ; "
                "seconde demande : « déjà en cours »"
            )
        step("fichiers statiques")
        print(f"   {static_css(base)} feuille(s) de style servie(s)")
        check(web.alive() and worker.alive(), "Un processus s'est arrêté pendant le test")
        ok = True
    except SmokeFailure as failure:
        print(f"ÉCHEC : {failure}", file=sys.stderr)
    except Exception:
        traceback.print_exc()
    finally:
        for process in processes:
            process.stop()
        if not ok:
            for process in processes:
                print(f"\n===== journal de {process.name} =====\n{process.text()}", file=sys.stderr)
        shutil.rmtree(workdir, ignore_errors=True)
    elapsed = time.monotonic() - started
    if ok:
        print(f"Test de production réussi en {elapsed:.1f} s.")
        return 0
    print(f"Test de production en échec après {elapsed:.1f} s.", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(main())
