"""Errors are seen: production logs to standard error and, with DJANGO_ADMINS,
e-mails errors to the admins; a certificate whose PDF rendering fails after
commit is logged with its number, and stays issued."""

import json
import logging
import os
import subprocess
import sys
from unittest import mock

import pytest
from django.conf import settings

from certification.models import Certificate
from certification.tests.factories import issued
from core.signing import demo_seal_path

SECRET = "une-cle-de-test-longue-et-aleatoire-4f9c2a7e1b8d6035e2f1a9c7b4d8e6f0a3c5"


def run_production(code, **environment):
    """`code` after django.setup() under the production settings, in a fresh
    interpreter whose environment has no DJANGO_* variable but these."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("DJANGO_")}
    env.update(
        DJANGO_SETTINGS_MODULE="certification.settings.production",
        DJANGO_SECRET_KEY=SECRET,
        DJANGO_EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend",
        PDF_SIGNING_PKCS12=str(demo_seal_path()),  # the seal production requires
        **environment,
    )
    return subprocess.run(
        [sys.executable, "-c", f"import django\ndjango.setup()\n{code}"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


LOG_AN_ERROR = """
import json, logging
from django.conf import settings
from django.core import mail
mail.outbox = []
logging.getLogger("django.request").error("Internal Server Error: /boom/")
logging.getLogger("certification.rendering").error("Échec du rendu PDF du certificat AP-1")
logging.getLogger("blocks").warning("un avertissement")
logging.getLogger("blocks").info("une information")
print(json.dumps({
    "admins": settings.ADMINS,
    "server_email": settings.SERVER_EMAIL,
    "mails": [[m.subject, m.to] for m in mail.outbox],
}))
"""


def test_errors_go_to_stderr_and_no_mail_without_admins():
    result = run_production(LOG_AN_ERROR)
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["admins"] == []
    assert values["mails"] == []
    assert "ERROR django.request: Internal Server Error: /boom/" in result.stderr
    assert "Échec du rendu PDF du certificat AP-1" in result.stderr
    assert "WARNING blocks: un avertissement" in result.stderr
    assert "une information" not in result.stderr
    # Once each: Django's own "django" handlers are replaced, not added to.
    assert result.stderr.count("/boom/") == 1


def test_errors_are_mailed_to_the_admins_of_django_admins():
    result = run_production(
        LOG_AN_ERROR,
        DJANGO_ADMINS="Marie Curie <marie@example.org>, bureau@example.org,",
        DJANGO_SERVER_EMAIL="Certification <erreurs@example.org>",
    )
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout)
    assert values["admins"] == [["Marie Curie", "marie@example.org"], ["", "bureau@example.org"]]
    assert values["server_email"] == "Certification <erreurs@example.org>"
    to = ["marie@example.org", "bureau@example.org"]
    assert sorted(values["mails"]) == [
        ["[Django] ERROR: Internal Server Error: /boom/", to],
        ["[Django] ERROR: Échec du rendu PDF du certificat AP-1", to],
    ]
    assert "/boom/" in result.stderr  # still printed too


@pytest.mark.django_db
def test_a_failing_render_after_commit_is_logged_with_the_certificate_number(
    decision, admin_user, django_capture_on_commit_callbacks, caplog
):
    with (
        mock.patch("certification.rendering.render_pdf", side_effect=OSError("Pango absent")),
        caplog.at_level(logging.ERROR),
    ):
        certificate = issued(decision, django_capture_on_commit_callbacks, admin_user)

    # Issued all the same; the PDF is rendered again on download.
    assert Certificate.objects.filter(pk=certificate.pk).exists()
    assert not certificate.pdf
    ours = [r for r in caplog.records if r.name == "certification.rendering"]
    assert len(ours) == 1
    assert ours[0].levelno == logging.ERROR
    assert certificate.number in ours[0].getMessage()
    assert "Pango absent" in str(ours[0].exc_info[1])


def test_a_failing_render_is_raised_again_to_the_caller(caplog):
    from certification.rendering import render_certificate

    certificate = mock.Mock(number="AP-2026-00042")
    with (
        mock.patch("certification.rendering.certificate_html", return_value="<p>x</p>"),
        mock.patch("certification.rendering.render_pdf", side_effect=RuntimeError("boom")),
        caplog.at_level(logging.ERROR, logger="certification.rendering"),
        pytest.raises(RuntimeError),
    ):
        render_certificate(certificate)
    assert "AP-2026-00042" in caplog.text


@pytest.mark.django_db
def test_a_refusal_is_logged_on_one_line(login, trainer, caplog):
    """A 403 is an answer, not a crash: no traceback in the console."""
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = login(trainer).get("/personnes/")
    assert response.status_code == 403
    (record,) = [r for r in caplog.records if r.name == "django.request"]
    assert record.getMessage() == "Forbidden (Permission denied): /personnes/"
    assert record.exc_info is None and not record.exc_text
    assert "Traceback" not in caplog.text


def test_the_production_log_keeps_refusals_on_one_line():
    result = run_production(
        "import logging; f = logging.getLogger('django.request').filters;"
        "print([type(x).__name__ for x in f])"
    )
    assert result.returncode == 0, result.stderr
    assert "OneLineRefusals" in result.stdout
