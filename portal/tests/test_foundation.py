import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import override_settings
from django.urls import reverse

from blocks.models import CertificationVersion
from candidates.models import Candidate, Cohort, Enrolment
from candidates.tests.factories import PASSWORD
from core import roles
from core.roles import roles_of
from evaluations.models import Deliberation, ExamSession

pytestmark = pytest.mark.django_db


def test_login_page_is_in_french(client):
    page = client.get(reverse("login")).content.decode()
    assert '<html lang="fr">' in page
    assert "Nom d’utilisateur" in page
    assert "Se connecter" in page
    assert "bootstrap/css/bootstrap.min.css" in page
    assert "cdn" not in page.lower()


def test_wrong_password_gets_a_french_message(client, trainer):
    response = client.post(reverse("login"), {"username": "formateur", "password": "faux"})
    assert response.status_code == 200
    assert "Saisissez un nom d’utilisateur et un mot de passe valides" in response.content.decode()


def test_sign_in_then_out(client, trainer):

    response = client.post(reverse("login"), {"username": "formateur", "password": PASSWORD})
    assert response.status_code == 302
    assert client.get(reverse("blocks:versions")).status_code == 200
    client.post(reverse("logout"))
    signed_out = client.get(reverse("blocks:versions"))
    assert signed_out.status_code == 302
    assert signed_out.url == f"/connexion/?next={reverse('blocks:versions')}"


def test_navigation_depends_on_the_role(login, referential, trainer, admin_user):
    assert "Administration" not in login(trainer).get(reverse("blocks:versions")).content.decode()
    assert "Administration" in login(admin_user).get(reverse("blocks:versions")).content.decode()


def test_admin_site_refuses_non_staff(login, trainer):
    response = login(trainer).get(reverse("admin:index"))
    assert response.status_code == 302
    assert response.url == f"{reverse('admin:login')}?next={reverse('admin:index')}"


@override_settings(DEBUG=False)
def test_seed_demo_is_refused_outside_debug(empty_database):
    with pytest.raises(CommandError, match="mode développement"):
        call_command("seed_demo")
    assert not get_user_model().objects.exists()
    assert not CertificationVersion.objects.exists()


@override_settings(DEBUG=True)
def test_seed_demo_is_idempotent(empty_database, capsys):
    call_command("seed_demo")
    # Six demo accounts; Emma Petit and her five classmates of the finished
    # cycle, the twelve people of the sample import in the current one.
    counts = [model.objects.count() for model in (get_user_model(), Candidate, Enrolment)]
    assert counts == [6, 18, 18]
    call_command("seed_demo")
    assert [model.objects.count() for model in (get_user_model(), Candidate, Enrolment)] == counts
    users = {u.username: u for u in get_user_model().objects.prefetch_related("groups")}
    assert sorted(users) == ["admin", "candidat", "formateur", "formateur2", "jury1", "jury2"]
    assert all(u.check_password("demo1234") for u in users.values())
    assert [name for name, u in users.items() if u.is_staff] == ["admin"]
    assert {name: roles_of(u) for name, u in users.items()} == {
        "admin": {roles.ADMIN},
        "formateur": {roles.TRAINER},
        "formateur2": {roles.TRAINER},
        "jury1": {roles.JURY_MEMBER},
        "jury2": {roles.JURY_MEMBER},
        "candidat": {roles.CANDIDATE},
    }
    finished, current = Cohort.objects.order_by("start_date")
    for cohort in (finished, current):
        assert set(cohort.trainers.values_list("username", flat=True)) == {
            "formateur",
            "formateur2",
        }
    assert (finished.enrolments.count(), current.enrolments.count()) == (6, 12)
    assert users["candidat"].candidate.enrolments.get().cohort == finished
    assert CertificationVersion.objects.count() == 1
    assert "demo1234" in capsys.readouterr().out


@override_settings(DEBUG=True)
def test_the_demo_tells_one_coherent_story(empty_database, login):
    """A finished cycle, deliberated on sessions all closed, and a cycle in
    progress that no PV has decided yet; Emma Petit re-sits her bloc 2."""
    call_command("seed_demo", verbosity=0)
    finished, current = Cohort.objects.order_by("start_date")
    deliberation = Deliberation.objects.get()
    assert deliberation.cohort == finished and deliberation.published_at
    assert (
        not finished.sessions.filter(assessments__in=deliberation.covered_assessments.all())
        .exclude(status=ExamSession.Status.CLOSED)
        .exists()
    )
    assert not current.deliberations.exists()
    statuses = set(current.sessions.values_list("status", flat=True))
    assert statuses == {"closed", "open", "planned"}
    emma = get_user_model().objects.get(username="candidat")
    home = login(emma).get(reverse("portal:candidate_home")).content.decode()
    assert "En cours · décision publiée" not in home
    assert "À repasser" in home and "18 janvier 2027" in home
