"""Decision letters: one per candidate of a published PV, made after commit by
a background task, kept; their text (blocs decided, capitalised, what remains
for the title, the appeal); the office's merged PDF and its page."""

import pytest
from django.urls import reverse
from pypdf import PdfReader

from candidates.tests.factories import fill_cohort
from core.dates import french_date
from core.tests.pdf import read_pdf
from evaluations import letters
from evaluations.deliberations import (
    adopt_proposals,
    open_deliberation,
    publish_results,
    record_decision,
)
from evaluations.models import BlocDecision, DecisionLetter
from evaluations.tests.factories import bloc, decide_as_proposed, sign_all, sit_bloc

pytestmark = pytest.mark.django_db


def text_of(data):
    pages, reader = read_pdf(data)
    return " ".join(pages), reader


def stored_text(field):
    with field.open("rb") as stored:
        return text_of(stored.read())


def publish(deliberation, admin_user, capture):
    """Publication, its after-commit task run (inline, as in development)."""
    with capture(execute=True):
        publish_results(deliberation, by=admin_user)
    deliberation.refresh_from_db()
    return deliberation


@pytest.fixture
def signed_three(
    cohort,
    candidate,
    trainer,
    jury,
    jury_member,
    second_jury_member,
    django_capture_on_commit_callbacks,
):
    """Emma and two candidates who chose bloc 4: bloc 1 passed, bloc 2 failed, bloc 3
    passed; the jury adjourns Emma's bloc 3 with a justification. Signed, not published."""
    fill_cohort(cohort, 2)
    sit_bloc(cohort, 1, 2, trainer=trainer, jury=jury)
    sit_bloc(cohort, 2, 1, trainer=trainer, jury=jury)
    sit_bloc(cohort, 3, 3, trainer=trainer, jury=jury)
    deliberation = open_deliberation(jury, cohort, by=None)
    emma = candidate.enrolments.get()
    record_decision(
        deliberation,
        enrolment=emma,
        bloc=bloc(emma, 3),
        decision=BlocDecision.Decision.POSTPONED,
        justification="Dossier de stage à compléter.",
        user=second_jury_member,
    )
    adopt_proposals(deliberation, user=second_jury_member)
    return sign_all(
        deliberation, jury_member, second_jury_member, django_capture_on_commit_callbacks
    )


@pytest.fixture
def published_three(signed_three, admin_user, django_capture_on_commit_callbacks):
    return publish(signed_three, admin_user, django_capture_on_commit_callbacks)


def letter_text(deliberation, candidate):
    letter = DecisionLetter.objects.get(deliberation=deliberation, enrolment__candidate=candidate)
    return stored_text(letter.pdf)[0]


class TestGeneration:
    def test_nothing_before_publication(self, signed_three):
        assert not DecisionLetter.objects.exists()
        assert not signed_three.letters_pdf

    def test_one_letter_per_candidate_stored_at_publication(self, published_three, cohort):
        stored = list(published_three.letters.select_related("enrolment__candidate"))
        assert len(stored) == 3 and all(letter.pdf for letter in stored)
        assert {letter.enrolment.candidate.full_name for letter in stored} == {
            e.candidate.full_name for e in cohort.enrolments.all()
        }
        merged, reader = stored_text(published_three.letters_pdf)
        assert merged.count("Objet : décisions du jury de certification") == 3
        assert len(reader.pages) == sum(
            len(PdfReader(letter.pdf.open("rb")).pages) for letter in stored
        )
        for letter in stored:
            assert merged.count(f"PV n° {published_three.pk} · {letter.enrolment.candidate}") >= 1
        # Published again by the task (a retry): nothing is rendered twice.
        names = sorted(letter.pdf.name for letter in stored)
        assert letters.store_letters(published_three.pk) == 3
        assert sorted(letter.pdf.name for letter in published_three.letters.all()) == names

    def test_the_letter_says_what_was_decided_and_what_remains(self, published_three, candidate):
        text = letter_text(published_three, candidate)
        for expected in [
            "Centre Européen de Formation à la Production de Films (CEFPF)",
            "Petit Emma Louise né(e) le 12 avril 2001 emma.petit@example.org",
            f"Le {french_date(published_three.published_at)}",
            f"procès-verbal n° {published_three.pk}",
            "Madame,",
            "Le jury « Jury de certification 2027 », réuni le "
            f"{french_date(published_three.held_on)} à CEFPF, Paris",
            # Blocs presented and decided; the justification of a departure.
            "Bloc 1 « Préparation d’un projet de production",
            "magazine) » Validé Bloc 2 « Gestion de la production",
            "magazine) » Non validé Bloc 3",
            "Bloc 3 « Suivi administratif et juridique d’une société de production » Ajourné "
            "Motif du jury : Dossier de stage à compléter.",
            # What remains for the title: the mandatory blocs not validated.
            "Il vous reste à valider : Bloc 2 « Gestion de la production",
            "(non validé par ce jury) Bloc 3 « Suivi administratif et juridique d’une société "
            "de production » (ajourné par ce jury)",
            # No appeal text configured: the neutral sentence.
            "Voies de recours " + letters.DEFAULT_APPEAL,
            "Le bureau de la certification Centre Européen",
            f"Lettre de décision · PV n° {published_three.pk} · Petit Emma Louise · page 1 / 1",
        ]:
            assert expected in text, expected
        assert "Blocs déjà acquis" not in text
        assert "Bloc 4" not in text  # not chosen: neither decided nor due for the title
        assert "Nom100" not in text

    def test_capitalised_blocs_the_title_and_the_appeal_of_the_version(
        self,
        published_three,
        mentions,
        cohort,
        candidate,
        trainer,
        jury,
        jury_member,
        second_jury_member,
        admin_user,
        django_capture_on_commit_callbacks,
    ):
        """Emma validated bloc 1; she re-sits blocs 2 and 3 and a later jury validates
        them: her letter lists bloc 1 as acquired and the title as obtained."""
        mentions.appeal_information = (
            "Recours gracieux auprès du président du jury dans un délai de deux mois.\n"
            "CEFPF, 12 rue des Studios, 75011 Paris."
        )
        mentions.save()
        sit_bloc(cohort, 2, 3, trainer=trainer, jury=jury)
        sit_bloc(cohort, 3, 3, trainer=trainer, jury=jury)
        later = open_deliberation(jury, cohort, by=None)
        decide_as_proposed(later, candidate.enrolments.get(), second_jury_member)
        adopt_proposals(later, user=second_jury_member)
        later = sign_all(later, jury_member, second_jury_member, django_capture_on_commit_callbacks)
        publish(later, admin_user, django_capture_on_commit_callbacks)
        text = letter_text(later, candidate)
        decided, acquired = text.split("Blocs déjà acquis")
        assert "Bloc 2 « Gestion de la production et suivi de la postproduction" in decided
        assert "magazine) » Validé Bloc 3 « Suivi administratif" in decided
        assert "société de production » Validé" in decided
        assert "Bloc 1 « Préparation d’un projet de production" not in decided
        assert "Bloc 1 « Préparation d’un projet de production" in acquired
        assert "Vous avez validé l'ensemble des blocs obligatoires" in text
        assert "Il vous reste à valider" not in text
        assert "(RNCP99999)" in text
        assert "Recours gracieux auprès du président du jury dans un délai de deux mois." in text
        assert "CEFPF, 12 rue des Studios, 75011 Paris." in text
        assert letters.DEFAULT_APPEAL not in text
        assert f"Paris, le {french_date(later.published_at)}" in text
        assert "Pour Centre Européen de Formation à la Production de Films (CEFPF), " in text
        assert "Jeanne Delorme Directrice du CEFPF" in text
        # The first letter is kept as it was: bloc 2 and 3 still to validate.
        assert "Il vous reste à valider : Bloc 2" in letter_text(published_three, candidate)

    def test_a_failed_rendering_leaves_the_publication_and_renders_on_download(
        self, signed_three, admin_user, login, monkeypatch, django_capture_on_commit_callbacks
    ):
        def broken(*args, **kwargs):
            raise RuntimeError("WeasyPrint indisponible")

        monkeypatch.setattr(letters, "render_letter", broken)
        published = publish(signed_three, admin_user, django_capture_on_commit_callbacks)
        assert published.published_at
        assert published.letters.count() == 3
        assert not any(letter.pdf for letter in published.letters.all())
        assert not published.letters_pdf
        monkeypatch.undo()
        response = login(admin_user).get(reverse("evaluations:letters", args=[published.pk]))
        assert response.status_code == 200
        text, _ = text_of(b"".join(response.streaming_content))
        assert text.count("Objet : décisions du jury de certification") == 3
        published.refresh_from_db()
        assert published.letters_pdf
        assert all(letter.pdf for letter in published.letters.all())


class TestOfficePage:
    def test_roles(
        self, client, login, published_three, admin_user, trainer, jury_member, candidate_user
    ):
        url = reverse("evaluations:letters", args=[published_three.pk])
        anonymous = client.get(url)
        assert (anonymous.status_code, anonymous.url) == (302, f"/connexion/?next={url}")
        for user in (trainer, jury_member, candidate_user):
            assert login(user).get(url).status_code == 403
        response = login(admin_user).get(url)
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
        with published_three.letters_pdf.open("rb") as stored:
            assert b"".join(response.streaming_content) == stored.read()
        assert (
            login(admin_user)
            .get(reverse("evaluations:letters", args=[published_three.pk + 1000]))
            .status_code
            == 404
        )

    def test_the_link_once_published_for_the_office_only(
        self, login, signed_three, admin_user, jury_member, django_capture_on_commit_callbacks
    ):
        page = reverse("evaluations:deliberation", args=[signed_three.pk])
        url = reverse("evaluations:letters", args=[signed_three.pk])
        assert url not in login(admin_user).get(page).content.decode()
        assert login(admin_user).get(url).status_code == 404  # signed, not published
        publish(signed_three, admin_user, django_capture_on_commit_callbacks)
        assert "Télécharger les lettres de décision (PDF)" in (
            login(admin_user).get(page).content.decode()
        )
        assert url not in login(jury_member).get(page).content.decode()
