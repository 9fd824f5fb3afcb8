"""The candidate's transcript (relevé de notes): published results only, bloc
by bloc and competence by competence, the jury's decisions with their PV, the
capitalised blocs; downloaded by the candidate and by the office. And the
candidate's own convocation to an upcoming exam."""

import datetime

import pytest
from django.urls import reverse

from candidates.models import Enrolment
from candidates.services import enrol
from candidates.tests.factories import make_candidate, make_user
from core import roles
from core.dates import french_date
from core.tests.pdf import pdf_words, read_pdf
from evaluations.deliberations import open_deliberation, publish_results, record_decision
from evaluations.models import BlocDecision, ExamSession
from evaluations.sessions import edit_session
from evaluations.tests.factories import bloc, fill, open_session, sign_all
from portal.transcript import render_transcript

pytestmark = pytest.mark.django_db


def download(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert "attachment" in response["Content-Disposition"]
    return pdf_words(response.content)


def transcript(candidate):
    return pdf_words(render_transcript(candidate))


def signed_on(deliberation):
    return french_date(deliberation.signed_at)


# --- What the transcript says -------------------------------------------------------


def test_nothing_before_publication(signed, candidate):
    text = transcript(candidate)
    assert "Relevé de notes" in text and "Petit Emma Louise" in text
    assert "Né(e) le 12 avril 2001 à Lyon" in text
    assert text.count("Aucun résultat publié.") == 3  # blocs 1, 2, 3; bloc 4 not chosen
    assert "Bloc optionnel non choisi." in text
    assert "Aucune décision publiée pour l'instant." in text
    assert "Aucun bloc acquis pour l'instant." in text
    for published_only in ("Validé", "Non validé", f"PV n° {signed.pk}", "Acquise", "C1.1"):
        assert published_only not in text, published_only
    assert "Blocs obligatoires restant à valider : bloc 1, bloc 2, bloc 3." in text


def test_published_results_bloc_by_bloc_with_the_pv(published, candidate):
    text = transcript(candidate)
    pv = f"PV n° {published.pk} signé le {signed_on(published)}"
    jury = (
        f"décision du jury « Jury de certification 2027 » réuni le {french_date(published.held_on)}"
    )
    assert f"Validé · acquis définitivement (capitalisé) · {jury}, {pv}" in text
    assert f"Non validé · {jury}, {pv}, publié le {french_date(published.published_at)}" in text
    # Bloc 1 passed (2 on every criterion), bloc 2 failed (1 everywhere).
    bloc1 = text[text.index("Bloc 1 « Préparation") : text.index("Bloc 2 « Gestion")]
    assert "6 compétence(s) acquise(s) sur 6" in bloc1
    assert "C1.1 Lire et analyser" in bloc1 and "Acquise · 2 critères atteints sur 2" in bloc1
    assert "Non acquise" not in bloc1
    bloc2 = text[text.index("Bloc 2 « Gestion") : text.index("Bloc 3 « ")]
    assert "0 compétence(s) acquise(s) sur 12" in bloc2
    assert "C2.8" in bloc2 and "Non acquise · 0 critère atteint sur 1" in bloc2
    assert "Acquise ·" not in bloc2
    # Capitalised: blocs 1 and 3 for good; bloc 2 remains for the title.
    capitalised = text[text.index("Blocs acquis (capitalisés") : text.index("Blocs obligatoires")]
    assert "Bloc 1 « Préparation" in capitalised and "Bloc 3 « Suivi" in capitalised
    assert "Bloc 2" not in capitalised
    assert f"validé par le {pv}" in capitalised
    assert "Blocs obligatoires restant à valider : bloc 2." in text
    history = text[text.index("Décisions du jury publiées") :]
    assert history.count(f"PV n° {published.pk} signé le") == 3
    assert "Bloc 2 Non validé" in history


def test_a_published_rectification_replaces_the_pv_and_the_title_is_obtained(
    all_validated, published, candidate
):
    text = transcript(candidate)
    assert f"PV rectificatif n° {all_validated.pk}" in text
    history = text[text.index("Décisions du jury publiées") :]
    assert f"PV n° {published.pk} " not in history  # replaced: no longer in force
    assert "Tous les blocs obligatoires sont validés : la certification est acquise." in text
    assert "restant à valider" not in text


def test_a_bloc_validated_earlier_stays_capitalised_after_a_later_pv(
    published,
    candidate,
    cohort,
    trainer,
    jury,
    jury_member,
    second_jury_member,
    admin_user,
    django_capture_on_commit_callbacks,
):
    """Emma re-sits bloc 2 and passes it before a second jury; bloc 1 stays
    acquired from the first PV; the second PV is published only at the end."""
    resit = open_session("M2.1", cohort, [trainer])
    assert resit.assessments.get().attempt == 2
    fill(resit.assessments.get(), trainer, 3, submit=True)
    second = open_deliberation(jury, cohort, by=None)
    enrolment = candidate.enrolments.get()
    record_decision(
        second,
        enrolment=enrolment,
        bloc=bloc(enrolment, 2),
        decision=BlocDecision.Decision.VALIDATED,
        justification="Épreuve repassée avec succès.",
        user=second_jury_member,
    )
    second = sign_all(second, jury_member, second_jury_member, django_capture_on_commit_callbacks)
    before = transcript(candidate)
    assert f"PV n° {second.pk}" not in before  # signed, not yet published
    publish_results(second, by=admin_user)
    text = transcript(candidate)
    capitalised = text[text.index("Blocs acquis (capitalisés") : text.index("Tous les blocs")]
    assert "Bloc 1 « Préparation d’un projet de production" in capitalised
    assert f"validé par le PV n° {published.pk} signé le" in capitalised
    assert "Bloc 2 « Gestion de la production" in capitalised
    assert f"validé par le PV n° {second.pk} signé le" in capitalised
    history = text[text.index("Décisions du jury publiées") :]
    assert history.index(f"PV n° {published.pk}") < history.index(f"PV n° {second.pk}")


# --- Who downloads it ---------------------------------------------------------------


def test_the_candidate_downloads_their_own_from_their_home(login, published, candidate_user):
    client = login(candidate_user)
    url = reverse("portal:my_transcript")
    assert url in client.get(reverse("portal:candidate_home")).content.decode()
    text = download(client.get(url))
    assert "Petit Emma Louise" in text and f"PV n° {published.pk}" in text


def test_the_office_downloads_anyones_from_the_candidate_page(
    login, published, candidate, admin_user
):
    client = login(admin_user)
    url = reverse("portal:candidate_transcript", args=[candidate.pk])
    assert url in client.get(candidate.get_absolute_url()).content.decode()
    assert "Petit Emma Louise" in download(client.get(url))
    assert client.get(reverse("portal:candidate_transcript", args=[9999])).status_code == 404


def test_access(client, login, published, candidate, admin_user, trainer, jury_member, outsider):
    own = reverse("portal:my_transcript")
    office = reverse("portal:candidate_transcript", args=[candidate.pk])
    for url in (own, office):
        response = client.get(url)
        assert (response.status_code, response.url) == (302, f"/connexion/?next={url}")
    for user in (admin_user, trainer, jury_member, outsider):
        assert login(user).get(own).status_code == 403
    for user in (trainer, jury_member, outsider, candidate.user):
        assert login(user).get(office).status_code == 403
    # A trainer sees the candidate's page, not the link.
    page = login(trainer).get(candidate.get_absolute_url()).content.decode()
    assert office not in page


def test_a_candidate_never_gets_anothers(login, published, cohort):
    other_user = make_user("candidat2", roles.CANDIDATE)
    other = make_candidate(200, user=other_user)
    enrol(other, cohort, access_route=Enrolment.AccessRoute.VAE, by=None)
    text = download(login(other_user).get(reverse("portal:my_transcript")))
    assert "Nom200 Prénom200" in text and "Petit" not in text
    assert "Aucune décision publiée pour l'instant." in text


# --- The candidate's convocation ------------------------------------------------------


@pytest.fixture
def convened(written_session, admin_user):
    edit_session(
        written_session,
        date=written_session.date,
        place="Salle Lumière",
        assessors=list(written_session.assessors.all()),
        lead=written_session.lead,
        convocation_time=datetime.time(13, 15),
        duration_minutes=60,
        convocation_instructions="Stylo noir.",
        by=admin_user,
    )
    written_session.refresh_from_db()
    return written_session


def test_the_candidate_downloads_their_convocation_from_their_home(
    login, convened, candidate_user, cohort
):
    enrol(make_candidate(201), cohort, access_route=Enrolment.AccessRoute.VAE, by=None)
    client = login(candidate_user)
    url = reverse("portal:my_convocation", args=[convened.pk])
    assert url in client.get(reverse("portal:candidate_home")).content.decode()
    text = download(client.get(url))
    pages, _ = read_pdf(client.get(url).content)
    assert len(pages) == 1
    assert "Petit Emma Louise" in text and "Nom201" not in text
    assert "Date lundi 15 mars 2027 Heure de convocation 13 h 15" in text
    assert "Durée de l'épreuve 1 heure Lieu Salle Lumière" in text
    assert "Stylo noir." in text


def test_only_their_own_upcoming_convocation(
    client, login, convened, candidate_user, cohort, trainer, admin_user
):
    url = reverse("portal:my_convocation", args=[convened.pk])
    response = client.get(url)
    assert (response.status_code, response.url) == (302, f"/connexion/?next={url}")
    for user in (admin_user, trainer):
        assert login(user).get(url).status_code == 403
    # Another candidate, not convened to this session: as if it did not exist.
    other_user = make_user("candidat2", roles.CANDIDATE)
    make_candidate(202, user=other_user)
    assert login(other_user).get(url).status_code == 404
    assert login(candidate_user).get(url).status_code == 200
    # A missing session, a past one, a convocation not ready: 404 and no link.
    client = login(candidate_user)
    assert client.get(reverse("portal:my_convocation", args=[9999])).status_code == 404
    ExamSession.objects.filter(pk=convened.pk).update(date=datetime.date(2020, 1, 6))
    assert client.get(url).status_code == 404
    ExamSession.objects.filter(pk=convened.pk).update(
        date=datetime.date(2030, 1, 7), convocation_time=None
    )
    assert client.get(url).status_code == 404
    assert url not in client.get(reverse("portal:candidate_home")).content.decode()
