"""The candidate's decision letters: their own only, and only once the PV's
results are published (404 before, and once a published rectifying PV
replaces it)."""

import pytest
from django.urls import reverse

from candidates.models import Enrolment
from candidates.services import enrol
from candidates.tests.factories import make_candidate, make_user
from core import roles
from core.tests.pdf import pdf_words
from evaluations.deliberations import publish_results, record_decision, rectify
from evaluations.models import BlocDecision, DecisionLetter
from evaluations.tests.factories import bloc, decide_as_proposed, sign_all

pytestmark = pytest.mark.django_db


def text_of(response):
    return pdf_words(b"".join(response.streaming_content))


@pytest.fixture
def other_user(db):
    return make_user("candidat2", roles.CANDIDATE)


@pytest.fixture
def decided_pair(
    mentions,
    cohort,
    candidate,
    other_user,
    trainer,
    jury,
    jury_member,
    second_jury_member,
    django_capture_on_commit_callbacks,
):
    """Emma and Nom200 (signing in as candidat2) decided in one signed PV, not published."""
    from evaluations.deliberations import open_deliberation
    from evaluations.tests.factories import sit_bloc

    other = make_candidate(200, user=other_user)
    enrol(other, cohort, access_route=Enrolment.AccessRoute.VAE, by=None)
    sit_bloc(cohort, 1, 2, trainer=trainer, jury=jury)
    deliberation = open_deliberation(jury, cohort, by=None)
    for enrolment in cohort.enrolments.all():
        decide_as_proposed(deliberation, enrolment, second_jury_member)
    return sign_all(
        deliberation, jury_member, second_jury_member, django_capture_on_commit_callbacks
    )


def publish(deliberation, admin_user, capture):
    with capture(execute=True):
        publish_results(deliberation, by=admin_user)
    deliberation.refresh_from_db()
    return deliberation


def test_roles(
    client,
    login,
    decided_pair,
    admin_user,
    trainer,
    jury_member,
    django_capture_on_commit_callbacks,
):
    publish(decided_pair, admin_user, django_capture_on_commit_callbacks)
    url = reverse("portal:decision_letter", args=[decided_pair.pk])
    anonymous = client.get(url)
    assert (anonymous.status_code, anonymous.url) == (302, f"/connexion/?next={url}")
    for user in (admin_user, trainer, jury_member):
        assert login(user).get(url).status_code == 403


def test_only_after_publication_and_only_their_own(
    login,
    decided_pair,
    candidate,
    candidate_user,
    other_user,
    admin_user,
    django_capture_on_commit_callbacks,
):
    url = reverse("portal:decision_letter", args=[decided_pair.pk])
    home = reverse("portal:candidate_home")
    assert login(candidate_user).get(url).status_code == 404  # signed, not published
    assert url not in login(candidate_user).get(home).content.decode()

    publish(decided_pair, admin_user, django_capture_on_commit_callbacks)
    page = login(candidate_user).get(home).content.decode()
    assert url in page and "Télécharger la lettre de décision (PDF)" in page
    response = login(candidate_user).get(url)
    assert response.status_code == 200
    assert response["Content-Disposition"].startswith("attachment")
    text = text_of(response)
    assert "Petit Emma Louise" in text and "Nom200" not in text
    letter = DecisionLetter.objects.get(deliberation=decided_pair, enrolment__candidate=candidate)
    with letter.pdf.open("rb") as stored:
        assert b"".join(login(candidate_user).get(url).streaming_content) == stored.read()

    # The other candidate of the same PV gets their own letter at the same address.
    theirs = text_of(login(other_user).get(url))
    assert "Nom200 Prénom200" in theirs and "Petit Emma Louise" not in theirs
    # Unknown or not theirs: one and the same 404.
    missing = reverse("portal:decision_letter", args=[decided_pair.pk + 1000])
    assert login(candidate_user).get(missing).status_code == 404


def test_a_candidate_outside_the_pv_gets_404(
    login, decided_pair, admin_user, django_capture_on_commit_callbacks, referential
):
    publish(decided_pair, admin_user, django_capture_on_commit_callbacks)
    stranger = make_user("candidat3", roles.CANDIDATE)
    make_candidate(300, user=stranger)
    url = reverse("portal:decision_letter", args=[decided_pair.pk])
    assert login(stranger).get(url).status_code == 404


def test_a_letter_not_yet_rendered_is_rendered_on_download(
    login, decided_pair, candidate_user, admin_user
):
    """Published, its task not run (a worker down): the letter is made on download."""
    publish_results(decided_pair, by=admin_user)  # the after-commit task never runs here
    assert not DecisionLetter.objects.exists()
    response = login(candidate_user).get(reverse("portal:decision_letter", args=[decided_pair.pk]))
    assert response.status_code == 200
    assert "Petit Emma Louise" in text_of(response)
    assert DecisionLetter.objects.get().pdf


def test_a_replaced_pv_gives_way_to_its_rectification(
    login,
    decided_pair,
    candidate,
    candidate_user,
    admin_user,
    jury_member,
    second_jury_member,
    django_capture_on_commit_callbacks,
):
    publish(decided_pair, admin_user, django_capture_on_commit_callbacks)
    old = reverse("portal:decision_letter", args=[decided_pair.pk])
    assert login(candidate_user).get(old).status_code == 200
    correction = rectify(decided_pair, reason="Attestation manquante", user=jury_member)
    enrolment = candidate.enrolments.get()
    record_decision(
        correction,
        enrolment=enrolment,
        bloc=bloc(enrolment, 1),
        decision=BlocDecision.Decision.POSTPONED,
        justification="Attestation de stage manquante.",
        user=second_jury_member,
    )
    correction = sign_all(
        correction, jury_member, second_jury_member, django_capture_on_commit_callbacks
    )
    assert login(candidate_user).get(old).status_code == 200  # signed, not yet published
    publish(correction, admin_user, django_capture_on_commit_callbacks)
    assert login(candidate_user).get(old).status_code == 404
    new = reverse("portal:decision_letter", args=[correction.pk])
    page = login(candidate_user).get(reverse("portal:candidate_home")).content.decode()
    assert new in page and old not in page
    text = text_of(login(candidate_user).get(new))
    assert f"Ce procès-verbal rectifie le procès-verbal n° {decided_pair.pk}" in text
    assert "Ajourné Motif du jury : Attestation de stage manquante." in text
