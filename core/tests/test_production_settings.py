"""The production settings, each read in a fresh interpreter (settings are
read once per process), and what production serves: static files, favicon,
French error pages."""

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.template import loader
from django.test import Client, RequestFactory
from django.views.defaults import server_error

from core.signing import write_demo_pkcs12

PRODUCTION = "certification.settings.production"
SECRET = "une-cle-de-test-longue-et-aleatoire-4f9c2a7e1b8d6035e2f1a9c7b4d8e6f0a3c5"
# The production environment the README documents: the example file an
# administrator copies (README, « Configuration » and « Mise en production »).
DOCUMENTED_FILE = settings.BASE_DIR / "deploy" / "certification.env.example"
# What each server has of its own, replaced by the tests' values.
SECRETS = ["DJANGO_SECRET_KEY", "PDF_SIGNING_PKCS12", "PDF_SIGNING_PASSPHRASE"]
SEAL_PASSPHRASE = "phrase-de-passe-du-cachet-d-essai"


def documented_file():
    """The NAME=value lines of the example environment file, as systemd reads them."""
    variables = {}
    for line in DOCUMENTED_FILE.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            name, _, value = line.partition("=")
            variables[name.strip()] = value.strip()
    return variables


@pytest.fixture(scope="module")
def documented(tmp_path_factory):
    """Exactly the documented environment, its secrets replaced by a random key
    and a seal generated for the test (a .p12 with its passphrase)."""
    environment = documented_file()
    seal = write_demo_pkcs12(
        tmp_path_factory.mktemp("cachet") / "cachet.p12", passphrase=SEAL_PASSPHRASE.encode()
    )
    ours = {
        "DJANGO_SECRET_KEY": SECRET,
        "PDF_SIGNING_PKCS12": str(seal),
        "PDF_SIGNING_PASSPHRASE": SEAL_PASSPHRASE,
    }
    # Only the variables the file names: one it forgets stays missing.
    return {**environment, **{name: ours[name] for name in SECRETS if name in environment}}


def run_django(code, **environment):
    """Run code after django.setup() under the production settings, in a
    process whose environment has no variable of the platform but these."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "REDIS_URL", "PDF_", "PUBLIC_"))
    }
    env.update({"DJANGO_SETTINGS_MODULE": PRODUCTION, **environment})
    return subprocess.run(
        [sys.executable, "-c", f"import django\ndjango.setup()\n{code}"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def production_settings(**environment):
    names = [
        "DEBUG",
        "ALLOWED_HOSTS",
        "CSRF_TRUSTED_ORIGINS",
        "SECURE_PROXY_SSL_HEADER",
        "SECURE_SSL_REDIRECT",
        "SESSION_COOKIE_SECURE",
        "CSRF_COOKIE_SECURE",
        "SECURE_HSTS_SECONDS",
        "SECURE_HSTS_INCLUDE_SUBDOMAINS",
        "SESSION_COOKIE_AGE",
        "STORAGES",
    ]
    result = run_django(
        "import json\nfrom django.conf import settings\n"
        f"print(json.dumps({{name: getattr(settings, name) for name in {names!r}}}))",
        **environment,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_production_refuses_to_start_without_a_secret_key():
    result = run_django("print('démarré')", DJANGO_ALLOWED_HOSTS="certif.example.org")

    assert result.returncode != 0
    assert "démarré" not in result.stdout
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_production_refuses_an_empty_secret_key():
    result = run_django("print('démarré')", DJANGO_SECRET_KEY="  ")

    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY" in result.stderr


def test_the_documented_environment_names_the_seal_and_its_passphrase():
    environment = documented_file()

    assert environment["DJANGO_SETTINGS_MODULE"] == PRODUCTION
    for name in SECRETS:
        assert name in environment


def test_check_deploy_reports_nothing_with_the_documented_environment(documented):
    result = run_django(
        "from django.core.management import call_command\n"
        "call_command('check', deploy=True, fail_level='WARNING')",
        **documented,
    )

    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout
    assert "WARNING" not in result.stdout + result.stderr


def test_production_is_secure_by_default(documented):
    values = production_settings(**documented)

    assert values["DEBUG"] is False
    assert values["ALLOWED_HOSTS"] == ["certif.example.org"]
    assert values["CSRF_TRUSTED_ORIGINS"] == ["https://certif.example.org"]
    assert values["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert values["SECURE_SSL_REDIRECT"] is True
    assert values["SESSION_COOKIE_SECURE"] is True
    assert values["CSRF_COOKIE_SECURE"] is True
    assert values["SECURE_HSTS_SECONDS"] == 365 * 24 * 60 * 60
    assert values["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert values["STORAGES"]["staticfiles"]["BACKEND"] == (
        "whitenoise.storage.CompressedManifestStaticFilesStorage"
    )


def test_django_secure_0_turns_https_off_for_a_plain_http_trial(documented):
    values = production_settings(
        **{name: documented[name] for name in SECRETS},
        DJANGO_SECURE="0",
        DJANGO_SESSION_AGE="900",
    )

    assert values["SECURE_PROXY_SSL_HEADER"] is None
    assert values["SECURE_SSL_REDIRECT"] is False
    assert values["SESSION_COOKIE_SECURE"] is False
    assert values["CSRF_COOKIE_SECURE"] is False
    assert values["SECURE_HSTS_SECONDS"] == 0
    assert values["SESSION_COOKIE_AGE"] == 900


def test_production_serves_collected_static_files_and_french_error_pages(tmp_path, documented):
    """collectstatic into a folder of the test's own, then pages and files
    asked through WhiteNoise, as gunicorn would. Manifest storage without the
    compression production adds on top (same hashed names; 40 s saved)."""
    (tmp_path / "uncompressed.py").write_text(
        f"from {PRODUCTION} import *  # noqa\n"
        "STORAGES = {**STORAGES, 'staticfiles': {'BACKEND': "
        "'django.contrib.staticfiles.storage.ManifestStaticFilesStorage'}}\n"
    )
    code = (
        "import re\n"
        "from django.core.management import call_command\n"
        "from django.test import Client\n"
        "call_command('collectstatic', interactive=False, verbosity=0)\n"
        "client = Client(HTTP_HOST='certif.example.org', headers={'X-Forwarded-Proto': 'https'})\n"
        "page = client.get('/cette-page-n-existe-pas/', secure=True)\n"
        "html = page.content.decode()\n"
        "print(page.status_code, 'Page introuvable' in html, 'Navigation principale' in html)\n"
        'for url in re.findall(r\'(?:href|src)="(/static/[^"]+)"\', html):\n'
        "    answer = client.get(url, secure=True)\n"
        "    print(url, answer.status_code, answer['Cache-Control'])\n"
    )
    result = run_django(
        code,
        **{
            **documented,
            "DJANGO_SETTINGS_MODULE": "uncompressed",
            "DJANGO_STATIC_ROOT": str(tmp_path / "static"),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "PYTHONPATH": os.pathsep.join([str(tmp_path), str(settings.BASE_DIR)]),
        },
    )

    assert result.returncode == 0, result.stderr
    first, *files = result.stdout.splitlines()
    assert first == "404 True True"
    served = {line.split()[0].split(".")[0]: line.split()[1:] for line in files}
    for name in ["/static/favicon", "/static/bootstrap/css/bootstrap", "/static/css/app"]:
        status, cache_control = served[name][0], " ".join(served[name][1:])
        assert status == "200"
        assert "immutable" in cache_control


def test_production_queues_long_work_in_the_database_by_default(documented):
    environment = {**documented}
    del environment["DJANGO_TASKS_BACKEND"]  # the production default, not the example's line

    result = run_django(
        "from django.conf import settings\nprint(settings.TASKS['default']['BACKEND'])",
        **environment,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "django_tasks_db.DatabaseBackend"


def test_a_login_behind_the_https_proxy_is_accepted(tmp_path, documented):
    """The issue's symptom: behind the TLS proxy every POST got a CSRF 403.
    A login posted as the browser does (Origin https://…), through the proxy's
    headers, signs in; a form posted from another origin gets the French 403."""
    code = (
        "from django.contrib.auth import get_user_model\n"
        "from django.core.management import call_command\n"
        "from django.test import Client\n"
        "call_command('migrate', verbosity=0)\n"
        "get_user_model().objects.create_user('nina', password='mot-de-passe-de-nina')\n"
        "proxy = {'X-Forwarded-Proto': 'https', 'X-Forwarded-For': '203.0.113.10'}\n"
        "client = Client(enforce_csrf_checks=True, HTTP_HOST='certif.example.org', headers=proxy)\n"
        "form = client.get('/connexion/')\n"
        "fields = {'username': 'nina', 'password': 'mot-de-passe-de-nina',\n"
        "          'csrfmiddlewaretoken': client.cookies['csrftoken'].value}\n"
        "def post(origin):\n"
        "    return client.post('/connexion/', fields, headers={\n"
        "        'Origin': origin, 'Referer': origin + '/connexion/'})\n"
        "elsewhere = post('https://ailleurs.example.net')\n"
        "answer = post('https://certif.example.org')\n"
        "print(form.status_code, answer.status_code, answer['Location'],\n"
        "      '_auth_user_id' in client.session)\n"
        "html = elsewhere.content.decode()\n"
        "print(elsewhere.status_code, 'Accès refusé' in html, 'Navigation principale' in html,\n"
        "      'Rechargez la page' in html)\n"
    )
    # Production's settings but static files named as they are (no collectstatic).
    (tmp_path / "plain_static.py").write_text(
        f"from {PRODUCTION} import *  # noqa\n"
        "STORAGES = {**STORAGES, 'staticfiles': {'BACKEND': "
        "'django.contrib.staticfiles.storage.StaticFilesStorage'}}\n"
    )
    result = run_django(
        code,
        **{
            **documented,
            "DJANGO_SETTINGS_MODULE": "plain_static",
            "PYTHONPATH": os.pathsep.join([str(tmp_path), str(settings.BASE_DIR)]),
            "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
            "DJANGO_MEDIA_ROOT": str(tmp_path / "media"),
        },
    )

    assert result.returncode == 0, result.stderr
    signed_in, refused = result.stdout.splitlines()
    assert signed_in.split()[:2] == ["200", "302"]
    assert signed_in.endswith("True")
    assert refused == "403 True True True"


@pytest.mark.django_db
def test_403_page_is_french_with_the_navigation(login, trainer):
    page = login(trainer).get("/statistiques/")  # the office's page
    html = page.content.decode()

    assert page.status_code == 403
    assert "Accès refusé" in html
    assert 'aria-label="Navigation principale"' in html
    assert "Se déconnecter" in html


@pytest.mark.django_db
def test_a_csrf_failure_answers_the_french_403_page_with_the_navigation():
    client = Client(enforce_csrf_checks=True)

    page = client.post("/connexion/", {"username": "nina", "password": "x"})
    html = page.content.decode()

    assert page.status_code == 403
    assert "Accès refusé" in html
    assert "Rechargez la page" in html
    assert 'aria-label="Navigation principale"' in html
    assert "Forbidden" not in html and "CSRF" not in html


def test_development_refuses_to_start_with_debug_off_and_no_secret_key():
    result = run_django(
        "print('démarré')",
        DJANGO_SETTINGS_MODULE="certification.settings.development",
        DJANGO_DEBUG="0",
    )

    assert result.returncode != 0
    assert "démarré" not in result.stdout
    assert "ImproperlyConfigured" in result.stderr
    assert "DJANGO_SECRET_KEY manque : avec DJANGO_DEBUG=0" in result.stderr


@pytest.mark.parametrize(
    "environment",
    [{"DJANGO_DEBUG": "1"}, {}, {"DJANGO_DEBUG": "0", "DJANGO_SECRET_KEY": SECRET}],
    ids=["make-run", "debug-unset", "debug-off-with-a-key"],
)
def test_development_starts_with_debug_on_or_with_a_key(environment):
    result = run_django(
        "from django.conf import settings\nprint(settings.DEBUG)",
        DJANGO_SETTINGS_MODULE="certification.settings.development",
        **environment,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == str(environment.get("DJANGO_DEBUG", "1") == "1")


def test_the_tests_keep_the_plain_static_storage():
    backend = settings.STORAGES["staticfiles"]["BACKEND"]
    assert backend == "django.contrib.staticfiles.storage.StaticFilesStorage"


def test_whitenoise_serves_static_files_with_debug_off(client):
    assert settings.DEBUG is False
    assert "whitenoise.middleware.WhiteNoiseMiddleware" in settings.MIDDLEWARE

    css = client.get("/static/bootstrap/css/bootstrap.min.css")
    icon = client.get("/static/favicon.svg")

    assert css.status_code == 200
    assert css["Content-Type"].startswith("text/css")
    assert icon.status_code == 200
    assert icon["Content-Type"].startswith("image/svg+xml")


@pytest.mark.django_db
def test_every_page_links_the_favicon(client):
    page = client.get("/connexion/")

    assert '<link rel="icon" href="/static/favicon.svg"' in page.content.decode()


@pytest.mark.django_db
def test_404_page_is_french_with_the_navigation(client):
    page = client.get("/cette-page-n-existe-pas/")
    html = page.content.decode()

    assert page.status_code == 404
    assert "Page introuvable" in html
    assert 'aria-label="Navigation principale"' in html
    assert "Vérifier un certificat" in html


@pytest.mark.django_db
def test_404_page_shows_the_navigation_of_a_signed_in_user(login, admin_user):
    page = login(admin_user).get("/cette-page-n-existe-pas/")
    html = page.content.decode()

    assert page.status_code == 404
    assert "Page introuvable" in html
    assert "Se déconnecter" in html
    assert "Promotions" in html


def test_500_page_renders_without_a_request():
    html = loader.get_template("500.html").render()

    assert "Une erreur est survenue" in html
    assert 'aria-label="Navigation principale"' in html


def test_500_handler_answers_the_french_page():
    response = server_error(RequestFactory().get("/"))

    assert response.status_code == 500
    assert "Une erreur est survenue" in response.content.decode()
