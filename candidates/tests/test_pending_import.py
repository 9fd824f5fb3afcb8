"""A previewed import waits in a PendingImport, not in the session: only its
owner confirms it, for its cohort, within the hour, once."""

import base64
import datetime
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from candidates.importing import SAMPLE_FILE
from candidates.models import Candidate, Cohort, Enrolment, PendingImport
from candidates.tests.factories import make_user
from core import roles
from core.idle_sessions import REFRESHED_AT, STAFF_SIGNED_IN_AT
from core.models import AuditEvent

pytestmark = pytest.mark.django_db

CONTENT = (
    "nom_naissance;prenoms;sexe;date_naissance;code_insee_naissance;voie_acces\n"
    "Roux;Paul Émile;M;01/02/2003;75056;vae\n"
).encode()
STALE = "Cet aperçu n&#x27;est plus valable : déposez de nouveau le fichier"


def import_url(cohort):
    return reverse("candidates:cohort_import", args=[cohort.pk])


def preview(client, cohort, content=CONTENT, name="promotion.csv"):
    return client.post(import_url(cohort), {"file": SimpleUploadedFile(name, content)})


def confirm(client, cohort, token):
    return client.post(import_url(cohort), {"token": token}, follow=True)


def written():
    return (
        Candidate.objects.count(),
        Enrolment.objects.count(),
        AuditEvent.objects.filter(action__startswith="candidates.").count(),
    )


def refused(response, cohort, before):
    """The confirmation was refused: back on the upload page, told why, nothing written."""
    assert response.redirect_chain == [(import_url(cohort), 302)]
    assert STALE in response.content.decode()
    assert written() == before
    return True


@pytest.fixture
def other_admin(db):
    return make_user("admin2", roles.ADMIN, is_staff=True)


class TestAccess:
    def test_anonymous_is_sent_to_login(self, client, cohort):
        url = import_url(cohort)
        for response in (client.get(url), client.post(url, {"token": "x"})):
            assert response.status_code == 302
            assert response.url == f"/connexion/?next={url}"
        assert not PendingImport.objects.exists()

    @pytest.mark.parametrize("person", ["trainer", "jury_member", "candidate_user", "outsider"])
    def test_other_roles_get_403(self, request, login, cohort, person):
        client = login(request.getfixturevalue(person))
        assert client.get(import_url(cohort)).status_code == 403
        assert preview(client, cohort).status_code == 403
        assert client.post(import_url(cohort), {"token": "x"}).status_code == 403
        assert not PendingImport.objects.exists()

    def test_the_office_gets_the_upload_page_and_the_preview(self, login, admin_user, cohort):
        client = login(admin_user)
        assert client.get(import_url(cohort)).status_code == 200
        assert preview(client, cohort).status_code == 200


def test_a_valid_preview_keeps_the_file_for_its_owner_for_an_hour(login, admin_user, cohort):
    client = login(admin_user)
    before = timezone.now()
    token = preview(client, cohort).context["token"]
    pending = PendingImport.objects.get()
    assert (pending.token, pending.owner, pending.cohort) == (token, admin_user, cohort)
    assert (pending.filename, bytes(pending.content)) == ("promotion.csv", CONTENT)
    assert len(token) >= 40  # secrets.token_urlsafe(32)
    hour = datetime.timedelta(hours=1)
    assert before + hour <= pending.expires_at <= timezone.now() + hour
    assert preview(client, cohort).context["token"] != token
    assert written() == (0, 0, 0)


def test_a_refused_file_is_not_kept(login, admin_user, cohort):
    client = login(admin_user)
    response = preview(client, cohort, CONTENT.replace(b"01/02/2003", b"31/02/2003"))
    assert "date de naissance invalide" in response.content.decode()
    assert response.context["token"] == ""
    assert not PendingImport.objects.exists()


def test_nothing_of_the_file_is_kept_in_the_session(login, admin_user, cohort):
    client = login(admin_user)
    content = SAMPLE_FILE.read_bytes()
    assert preview(client, cohort, content, name="ma-promotion.csv").context["token"]
    session = dict(client.session.items())
    signed_in = {"_auth_user_id", "_auth_user_backend", "_auth_user_hash"}
    assert set(session) <= signed_in | {REFRESHED_AT, STAFF_SIGNED_IN_AT}  # two times
    stored = json.dumps(session)
    for piece in (
        "ma-promotion",
        "Martin",
        "nom_naissance",
        base64.b64encode(content).decode()[:40],
    ):
        assert piece not in stored


def test_the_owner_confirms_once_and_the_file_is_gone(login, admin_user, cohort):
    client = login(admin_user)
    token = preview(client, cohort).context["token"]
    done = confirm(client, cohort, token)
    assert done.redirect_chain == [(cohort.get_absolute_url(), 302)]
    assert "Import terminé : 1 candidat(s) créé(s)" in done.content.decode()
    assert not PendingImport.objects.exists()
    assert cohort.enrolments.get().candidate.first_names == "Paul Émile"
    assert refused(confirm(client, cohort, token), cohort, written())


def test_another_admin_cannot_confirm_someone_elses_preview(
    login, client, admin_user, other_admin, cohort
):
    token = preview(login(admin_user), cohort).context["token"]
    client.logout()
    assert refused(confirm(login(other_admin), cohort, token), cohort, (0, 0, 0))
    assert PendingImport.objects.filter(token=token).exists()  # still the owner's to confirm
    client.logout()
    done = confirm(login(admin_user), cohort, token)
    assert "Import terminé" in done.content.decode()


def test_an_expired_preview_is_refused(login, admin_user, cohort):
    client = login(admin_user)
    token = preview(client, cohort).context["token"]
    PendingImport.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    assert refused(confirm(client, cohort, token), cohort, (0, 0, 0))


@pytest.mark.parametrize(
    "tamper",
    [
        pytest.param(lambda token: token[:-1] + ("A" if token[-1] != "A" else "B"), id="changed"),
        pytest.param(lambda token: token + "x", id="longer"),
        pytest.param(lambda token: "", id="empty"),
        pytest.param(lambda token: "x" * 1000, id="huge"),
        pytest.param(lambda token: "' OR 1=1 --", id="quote"),
    ],
)
def test_a_tampered_token_is_refused(login, admin_user, cohort, tamper):
    client = login(admin_user)
    token = preview(client, cohort).context["token"]
    assert refused(confirm(client, cohort, tamper(token)), cohort, (0, 0, 0))
    assert PendingImport.objects.filter(token=token).exists()


def test_a_token_works_only_for_its_cohort(login, admin_user, cohort):
    other = Cohort.objects.create(
        name="Promotion du soir",
        certification_version=cohort.certification_version,
        start_date=cohort.start_date,
        end_date=cohort.end_date,
    )
    client = login(admin_user)
    token = preview(client, cohort).context["token"]
    assert refused(confirm(client, other, token), other, (0, 0, 0))
    assert not other.enrolments.exists()


def test_a_new_preview_purges_the_expired_ones(login, admin_user, other_admin, cohort):
    client = login(admin_user)
    expired = preview(client, cohort).context["token"]
    alive = preview(login(other_admin), cohort).context["token"]
    PendingImport.objects.filter(token=expired).update(
        expires_at=timezone.now() - datetime.timedelta(minutes=1)
    )
    latest = preview(login(admin_user), cohort).context["token"]
    assert set(PendingImport.objects.values_list("token", flat=True)) == {alive, latest}


def test_a_file_refused_at_confirmation_writes_nothing_and_waits(login, admin_user, cohort):
    """Someone created the same person between the preview and the confirmation,
    with the email of the file under another identity: the file is refused."""
    client = login(admin_user)
    content = (
        "nom_naissance;prenoms;sexe;date_naissance;code_insee_naissance;voie_acces;email\n"
        "Roux;Paul Émile;M;01/02/2003;75056;vae;paul.roux@example.org\n"
    ).encode()
    token = preview(client, cohort, content).context["token"]
    Candidate.objects.create(
        birth_name="Autre",
        first_names="Personne",
        sex=Candidate.Sex.MALE,
        birth_date=datetime.date(1990, 1, 1),
        birth_country="Belgique",
        email="paul.roux@example.org",
    )
    before = written()
    response = confirm(client, cohort, token)
    assert response.redirect_chain == [(import_url(cohort), 302)]
    assert "adresse électronique déjà utilisée par un autre candidat" in (response.content.decode())
    assert written() == before
    assert PendingImport.objects.filter(token=token).exists()
