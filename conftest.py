"""The shared test world: the referential, and one person of each kind."""

import contextlib
import datetime
import json
import os
import shutil

import pytest
from django.db import connection

from blocks import frozen
from blocks.export import SHIPPED_FILE
from blocks.models import CertificationVersion
from blocks.services import load_referential
from candidates.models import Candidate, Cohort, Enrolment
from candidates.services import enrol
from candidates.tests.factories import make_user
from core import roles
from core.models import AuditEvent
from evaluations.tests.factories import open_session

# Fixtures of the stages above candidates, shared by the apps that build on them.
pytest_plugins = ["evaluations.tests.fixtures", "certification.tests.fixtures"]

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
DATABASE_FIXTURES = {"db", "transactional_db", "live_server", "django_db_reset_sequences"}
SHIPPED_IDENTITY = json.loads(SHIPPED_FILE.read_text(encoding="utf-8"))["certification"]


@pytest.fixture(autouse=True)
def media_in_tmp(settings, tmp_path):
    """Produced files (PV, certificates) go to a folder of the test's own."""
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture(autouse=True)
def frozen_structures_forgotten():
    """Each test builds its referential afresh, maybe under ids an earlier test used."""
    frozen.forget()


def pytest_addoption(parser):
    parser.addoption(
        "--database-tests-only",
        action="store_true",
        help="ne lancer que les tests qui utilisent la base (passe PostgreSQL de la CI)",
    )


def pytest_collection_modifyitems(config, items):
    """With --database-tests-only, leave out the tests that never touch the
    database (pure rules, property-based tests, the benchmark script): the
    SQLite pass already ran them, a second database would change nothing."""
    if not config.getoption("--database-tests-only"):
        return
    independent = [item for item in items if not uses_database(item)]
    if independent:
        config.hook.pytest_deselected(items=independent)
        items[:] = [item for item in items if uses_database(item)]


def uses_database(item):
    return item.get_closest_marker("django_db") is not None or bool(
        DATABASE_FIXTURES & set(item.fixturenames)
    )


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup, django_db_blocker):
    """The shipped referential, loaded once per test database (each xdist
    worker has its own): most tests need it, and loading it costs a second."""
    with django_db_blocker.unblock():
        load_referential(SHIPPED_FILE.read_text(encoding="utf-8"))


@pytest.fixture
def referential(db):
    """The shipped referential, loaded: an active, frozen version.

    Loaded again only after a transactional test emptied the database."""
    shipped = CertificationVersion.objects.filter(
        title=SHIPPED_IDENTITY["title"], version=SHIPPED_IDENTITY["version"]
    ).first()
    return shipped or load_referential(SHIPPED_FILE.read_text(encoding="utf-8")).version


@contextlib.contextmanager
def audit_log_writable():
    """Lift the triggers that refuse to rewrite the audit log (core migration
    0006) inside the current transaction: for tests only, which then roll
    the change back with everything else."""
    table = AuditEvent._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
            yield
            cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
        else:
            statements = sqlite_triggers(cursor, table)
            for name, _ in statements:
                cursor.execute(f'DROP TRIGGER "{name}"')
            yield
            for _, sql in statements:
                cursor.execute(sql)


def sqlite_triggers(cursor, table):
    cursor.execute(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = %s", [table]
    )
    return cursor.fetchall()


@pytest.fixture(scope="session", autouse=True)
def sqlite_flush_empties_the_audit_log():
    """Between transactional tests Django empties every table: PostgreSQL
    with TRUNCATE, which fires no row trigger, SQLite with DELETE, which the
    audit log's trigger refuses. On SQLite the flush drops the triggers,
    deletes, and creates them again, in one transaction."""
    from django.db.backends.sqlite3.base import DatabaseWrapper

    operations = DatabaseWrapper.ops_class
    original = operations.sql_flush
    table = AuditEvent._meta.db_table

    def sql_flush(self, style, tables, **kwargs):
        statements = original(self, style, tables, **kwargs)
        if table not in tables:
            return statements
        with self.connection.cursor() as cursor:
            triggers = sqlite_triggers(cursor, table)
        return [
            *(f'DROP TRIGGER "{name}"' for name, _ in triggers),
            *statements,
            *(sql for _, sql in triggers),
        ]

    operations.sql_flush = sql_flush
    yield
    operations.sql_flush = original


@pytest.fixture
def empty_database(db):
    """For the few tests that start from nothing: the preloaded referential
    and its audit events are removed inside the test's transaction."""
    with audit_log_writable():
        AuditEvent.objects.all().delete()
    CertificationVersion.objects.all().delete()


@pytest.fixture
def draft_version(referential):
    from blocks.services import duplicate_version

    return duplicate_version(referential, new_label="2", by=None)


@pytest.fixture
def admin_user(db):
    return make_user("admin", roles.ADMIN, is_staff=True, is_superuser=True)


@pytest.fixture
def trainer(db):
    return make_user("formateur", roles.TRAINER)


@pytest.fixture
def jury_member(db):
    return make_user("jury1", roles.JURY_MEMBER)


@pytest.fixture
def second_jury_member(db):
    return make_user("jury2", roles.JURY_MEMBER)


@pytest.fixture
def other_trainer(db):
    return make_user("formateur2", roles.TRAINER)


@pytest.fixture
def candidate_user(db):
    return make_user("candidat", roles.CANDIDATE)


@pytest.fixture
def outsider(db):
    return make_user("inconnu")


@pytest.fixture
def cohort(referential, trainer):
    """A promotion taught by `trainer`, on the shipped referential."""
    promotion = Cohort.objects.create(
        name="Promotion 2027",
        certification_version=referential,
        start_date=datetime.date(2026, 9, 1),
        end_date=datetime.date(2027, 6, 30),
    )
    promotion.trainers.add(trainer)
    return promotion


@pytest.fixture
def candidate(cohort, candidate_user):
    """Emma Petit, enrolled in `cohort`, signing in as `candidate_user`."""
    person = Candidate.objects.create(
        birth_name="Petit",
        first_names="Emma Louise",
        sex=Candidate.Sex.FEMALE,
        birth_date=datetime.date(2001, 4, 12),
        birth_commune="Lyon",
        birth_insee_code="69123",
        email="emma.petit@example.org",
        user=candidate_user,
    )
    enrol(person, cohort, access_route=Enrolment.AccessRoute.INITIAL, by=None)
    return person


@pytest.fixture
def jury(referential, jury_member, second_jury_member):
    """jury1 presides (from the centre), jury2 is an external professional; both
    have declared their independence."""
    from evaluations.juries import add_member, create_jury, declare_independence
    from evaluations.models import JuryMember

    panel = create_jury(
        name="Jury de certification 2027",
        certification_version=referential,
        date=datetime.date(2027, 6, 20),
        place="CEFPF, Paris",
        by=None,
    )
    add_member(
        panel,
        user=jury_member,
        role=JuryMember.Role.PRESIDENT,
        external=False,
        organisation="CEFPF",
        by=None,
    )
    add_member(
        panel,
        user=second_jury_member,
        role=JuryMember.Role.MEMBER,
        external=True,
        organisation="Les Films du Lendemain",
        by=None,
    )
    for member in panel.members.all():
        declare_independence(member, user=member.user)
    return panel


@pytest.fixture
def oral_session(cohort, candidate, jury, jury_member, second_jury_member):
    """M1.1, scored by the jury: jury1 (lead) and jury2; the candidate is assessed."""
    return open_session(
        "M1.1", cohort, [jury_member, second_jury_member], lead=jury_member, jury=jury
    )


@pytest.fixture
def written_session(cohort, candidate, trainer):
    """M2.1 (written test, one criterion-rich competence), scored by the trainer."""
    return open_session("M2.1", cohort, [trainer], lead=trainer)


@pytest.fixture
def login(client):
    def sign_in(user):
        client.force_login(user)
        return client

    return sign_in


@pytest.fixture(scope="session")
def chromium():
    """Debian's Chromium driven by Playwright; never a downloaded browser."""
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(f"Chromium introuvable ({CHROMIUM}) : installez le paquet Debian chromium.")
    # Playwright's sync API runs an event loop in this thread; the live
    # server's database work happens in its own thread, so this is safe.
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            headless=True,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(chromium, live_server):
    context = chromium.new_context(base_url=live_server.url, locale="fr-FR")
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
