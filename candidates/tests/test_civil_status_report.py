"""A candidate reports an error in their civil status; the office sees it on
the candidate's page, answers and closes it; the candidate reads the answer."""

import datetime

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from candidates.models import Candidate, CivilStatusReport
from candidates.services import (
    MAX_OPEN_REPORTS,
    close_civil_status_report,
    report_civil_status_error,
)
from candidates.tests.factories import make_user
from core import roles
from core.history import describe_event
from core.models import Action, AuditEvent

pytestmark = pytest.mark.django_db

REPORT = reverse("candidates:civil_status_report")
MY_SPACE = reverse("candidates:my_space")
MESSAGE = "Mon nom de naissance s'écrit Petit-Martin, avec un trait d'union."


def close_url(report):
    return reverse("candidates:civil_status_report_close", args=[report.pk])


@pytest.fixture
def other_candidate(cohort):
    user = make_user("autre", roles.CANDIDATE)
    return Candidate.objects.create(
        birth_name="Durand",
        first_names="Léo",
        sex=Candidate.Sex.MALE,
        birth_date=datetime.date(2000, 5, 2),
        birth_country="Belgique",
        user=user,
    )


def test_the_candidate_reports_from_their_page(login, candidate, candidate_user):
    page = login(candidate_user).get(MY_SPACE).content.decode()
    assert "Une erreur dans votre état civil ?" in page
    response = login(candidate_user).post(REPORT, {"message": MESSAGE}, follow=True)
    assert "Votre signalement est transmis au bureau" in response.content.decode()
    report = CivilStatusReport.objects.get()
    assert (report.candidate, report.reported_by, report.message) == (
        candidate,
        candidate_user,
        MESSAGE,
    )
    assert "En attente de réponse du bureau." in response.content.decode()
    event = AuditEvent.objects.get(action=Action.CIVIL_STATUS_REPORTED)
    assert (event.actor, event.object_id) == (candidate_user, str(candidate.pk))
    assert describe_event(event) == f"Erreur d'état civil signalée : « {MESSAGE} »"


def test_a_candidate_reports_only_for_themselves(
    login, client, candidate, candidate_user, other_candidate, trainer, admin_user
):
    # The form names no candidate: the signed-in candidate's own record is used.
    login(other_candidate.user).post(REPORT, {"message": MESSAGE, "candidate": candidate.pk})
    assert CivilStatusReport.objects.get().candidate == other_candidate
    with pytest.raises(ValidationError, match="son propre état civil"):
        report_civil_status_error(candidate, message=MESSAGE, by=other_candidate.user)
    # Other roles do not report; anonymous users sign in first.
    for user in (trainer, admin_user):
        assert login(user).post(REPORT, {"message": MESSAGE}).status_code == 403
    client.logout()
    assert client.post(REPORT, {"message": MESSAGE}).status_code == 302
    assert login(candidate_user).get(REPORT).status_code == 405
    assert CivilStatusReport.objects.count() == 1


def test_an_empty_or_overlong_report_is_refused_in_french(login, candidate_user, candidate):
    response = login(candidate_user).post(REPORT, {"message": "   "}, follow=True)
    assert "Ce champ est obligatoire" in response.content.decode()
    response = login(candidate_user).post(REPORT, {"message": "x" * 2001}, follow=True)
    assert "2000 caractères" in response.content.decode()
    assert not CivilStatusReport.objects.exists()


def test_reports_waiting_are_limited(candidate, candidate_user):
    for _ in range(MAX_OPEN_REPORTS):
        report_civil_status_error(candidate, message=MESSAGE, by=candidate_user)
    with pytest.raises(ValidationError, match="signalements en attente"):
        report_civil_status_error(candidate, message=MESSAGE, by=candidate_user)


def test_the_office_sees_and_closes_a_report(login, candidate, candidate_user, admin_user, trainer):
    report = report_civil_status_error(candidate, message=MESSAGE, by=candidate_user)
    detail = reverse("candidates:candidate", args=[candidate.pk])
    page = login(admin_user).get(detail).content.decode()
    assert "Erreur d'état civil signalée par le candidat" in page
    assert "Petit-Martin" in page
    assert close_url(report) in page
    # The trainer sees the candidate, not the report.
    assert "Petit-Martin" not in login(trainer).get(detail).content.decode()

    response = login(admin_user).post(close_url(report), {"answer": ""}, follow=True)
    assert "Ce champ est obligatoire" in response.content.decode()
    response = login(admin_user).post(
        close_url(report), {"answer": "Fiche corrigée, merci."}, follow=True
    )
    assert f"Signalement de {candidate} traité." in response.content.decode()
    assert close_url(report) not in response.content.decode()  # no longer open
    report.refresh_from_db()
    assert (report.closed_by, report.answer) == (admin_user, "Fiche corrigée, merci.")
    assert report.closed_at is not None
    event = AuditEvent.objects.get(action=Action.CIVIL_STATUS_REPORT_CLOSED)
    assert describe_event(event) == (
        "Signalement d'état civil traité, réponse : « Fiche corrigée, merci. »"
    )
    # Closing twice is refused, in French.
    response = login(admin_user).post(close_url(report), {"answer": "Encore"}, follow=True)
    assert "Ce signalement est déjà traité." in response.content.decode()
    with pytest.raises(ValidationError):
        close_civil_status_report(report, answer="Encore", by=admin_user)

    # The candidate reads the answer.
    page = login(candidate_user).get(MY_SPACE).content.decode()
    assert "Réponse du bureau" in page and "Fiche corrigée, merci." in page


def test_only_the_office_closes_a_report(login, client, candidate, candidate_user, trainer):
    report = report_civil_status_error(candidate, message=MESSAGE, by=candidate_user)
    for user in (trainer, candidate_user):
        assert login(user).post(close_url(report), {"answer": "ok"}).status_code == 403
    client.logout()
    assert client.post(close_url(report), {"answer": "ok"}).status_code == 302
    report.refresh_from_db()
    assert report.closed_at is None


def test_closing_an_unknown_report_is_a_404(login, admin_user):
    url = reverse("candidates:civil_status_report_close", args=[987654])
    assert login(admin_user).post(url, {"answer": "ok"}).status_code == 404
