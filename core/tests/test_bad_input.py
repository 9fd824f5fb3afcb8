"""Bad input never answers 500, on PostgreSQL too (issue 14, point 5).

PostgreSQL refuses a text holding a NUL character where SQLite finds nothing;
a number parsed by hand from a parameter fails on "²". Each test runs twice:
with the NUL guard (``core.middleware.RejectNulMiddleware``), which refuses any
NUL at the door, and without it, where each view's form must refuse the value
itself with a French message."""

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from certification.models import Certificate
from certification.tests.factories import issued
from evaluations.models import Deliberation

pytestmark = pytest.mark.django_db

GUARD = "core.middleware.RejectNulMiddleware"
NUL_MESSAGE = "Le caractère nul n’est pas autorisé."


@pytest.fixture(params=["guarded", "unguarded"])
def guard(request, settings):
    """The NUL guard in MIDDLEWARE (after MessageMiddleware: the error pages
    need the user and the messages), or not at all."""
    middleware = [name for name in django_settings.MIDDLEWARE if name != GUARD]
    if request.param == "guarded":
        at = middleware.index("django.contrib.messages.middleware.MessageMiddleware") + 1
        middleware.insert(at, GUARD)
    settings.MIDDLEWARE = middleware
    return request.param == "guarded"


def messages_of(response):
    return [str(message) for message in response.context["messages"]] if response.context else []


def test_a_verification_path_holding_a_nul_is_not_found(client, guard):
    assert client.get("/verifier/a%00b/").status_code == 404


@pytest.mark.parametrize("code", ["a%00b", "%C2%B2", "a" * 65, "a.b"])
def test_a_malformed_verification_code_gets_the_neutral_answer(client, code):
    response = client.get(f"/verifier/{code}/")
    assert response.status_code == 404


def test_the_verification_form_refuses_a_nul(client, guard):
    response = client.get(reverse("certification:verify_form"), {"code": "a\x00b"})
    assert response.status_code == (400 if guard else 200)
    if not guard:
        assert "Un code de vérification ne contient que" in response.content.decode() or (
            NUL_MESSAGE in response.content.decode()
        )


@pytest.mark.parametrize(
    ("url", "role"),
    [
        ("certification:certificates", "admin_user"),
        ("candidates:candidates", "admin_user"),
        ("candidates:candidates", "trainer"),
        ("evaluations:sessions", "admin_user"),
    ],
)
@pytest.mark.parametrize(
    "query",
    [
        {"q": "\x00"},
        {"q": "Mar\x00tin"},
        {"statut": "\x00"},
        {"promotion": "\x00"},
        {"promotion": "²"},
        {"promotion": "9" * 40},
        {"statut": "inconnu"},
        {"q": "x" * 500},
    ],
)
def test_list_pages_answer_a_bad_parameter_without_error(login, request, guard, url, role, query):
    response = login(request.getfixturevalue(role)).get(reverse(url), query)
    holds_nul = any("\x00" in value for value in query.values())
    assert response.status_code == (400 if guard and holds_nul else 200)


def test_revocation_with_a_nul_in_its_reason_changes_nothing(
    login, admin_user, decision, guard, django_capture_on_commit_callbacks
):
    certificate = issued(decision, django_capture_on_commit_callbacks)
    url = reverse("certification:revoke", args=[certificate.number])
    response = login(admin_user).post(url, {"reason": "Fraude\x00"}, follow=True)
    if guard:
        assert response.status_code == 400
    else:
        assert response.status_code == 200
        assert f"Motif de la révocation : {NUL_MESSAGE}" in messages_of(response)
    certificate.refresh_from_db()
    assert certificate.status == Certificate.Status.VALID
    assert certificate.revocation_reason == ""


def test_issuing_again_with_a_nul_in_its_reason_changes_nothing(
    login, admin_user, decision, guard, django_capture_on_commit_callbacks
):
    certificate = issued(decision, django_capture_on_commit_callbacks)
    login(admin_user).post(
        reverse("certification:revoke", args=[certificate.number]), {"reason": "Fraude"}
    )
    count = Certificate.objects.count()
    url = reverse("certification:issue_again", args=[certificate.number])
    response = login(admin_user).post(url, {"reason": "Erreur\x00"}, follow=True)
    assert response.status_code == (400 if guard else 200)
    if not guard:
        assert f"Motif de la nouvelle délivrance : {NUL_MESSAGE}" in messages_of(response)
    assert Certificate.objects.count() == count


def test_rectification_with_a_nul_in_its_reason_opens_nothing(login, signed, jury_member, guard):
    url = reverse("evaluations:rectify", args=[signed.pk])
    response = login(jury_member).post(url, {"reason": "Erreur\x00de report"}, follow=True)
    if guard:
        assert response.status_code == 400
    else:
        assert response.status_code == 200
        assert f"Motif de la rectification : {NUL_MESSAGE}" in messages_of(response)
    assert not Deliberation.objects.filter(rectifies=signed).exists()


@pytest.mark.parametrize("value", ["abc", "²", "9" * 40, "", "1\x00"])
@pytest.mark.parametrize("field", ["decision", "enrolment"])
def test_issuing_an_unknown_decision_is_not_found(login, admin_user, guard, field, value):
    response = login(admin_user).post(reverse("certification:issue"), {field: value})
    assert response.status_code == (400 if guard and "\x00" in value else 404)
    assert Certificate.objects.count() == 0


@pytest.mark.parametrize("value", ["abc", "²", "9" * 40])
def test_deliberating_an_unknown_row_or_bloc_is_not_found(login, jury_member, deliberation, value):
    client = login(jury_member)
    decide = client.post(
        reverse("evaluations:decide", args=[deliberation.pk]), {"enrolment": value}
    )
    adopt = client.post(reverse("evaluations:adopt", args=[deliberation.pk]), {"bloc": value})
    assert (decide.status_code, adopt.status_code) == (404, 404)


@pytest.mark.parametrize("token", ["", "x" * 500, "\x00"])
def test_confirming_an_import_with_a_bad_token_says_the_preview_is_stale(
    login, admin_user, cohort, guard, token
):
    url = reverse("candidates:cohort_import", args=[cohort.pk])
    response = login(admin_user).post(url, {"token": token}, follow=True)
    if guard and "\x00" in token:
        assert response.status_code == 400
    else:
        assert response.status_code == 200
        assert messages_of(response)


def test_the_guard_refuses_a_nul_in_a_field_name(login, admin_user, cohort, settings):
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, GUARD]
    client = login(admin_user)
    assert client.get(reverse("candidates:candidates"), {"a\x00": "1"}).status_code == 400
    upload = SimpleUploadedFile("promo\x00.csv", b"nom_naissance\n")
    url = reverse("candidates:cohort_import", args=[cohort.pk])
    assert client.post(url, {"file": upload}).status_code == 200  # Django cleans the name
    form = "application/x-www-form-urlencoded"
    assert client.post(url, "token%00=1", content_type=form).status_code == 400


def test_a_certificate_number_holding_a_nul_is_not_found(login, admin_user, guard):
    assert login(admin_user).get("/certificats/AP-2026%00/").status_code == 404
