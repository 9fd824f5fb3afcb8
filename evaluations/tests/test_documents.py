"""The documents of an exam session: the convocations (one page per
candidate, the merged file kept in storage until the session changes), the
attendance sheet; the convocation details the office sets on the session;
who may print what; queries that do not grow with the number of candidates;
and the office printing convocations in the browser."""

import datetime
import html
import re

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django_tasks import default_task_backend
from playwright.sync_api import expect

from candidates.models import Enrolment
from candidates.services import enrol, withdraw
from candidates.tests.factories import bulk_enrol, make_candidate
from core.models import Action, AuditEvent
from core.tests.browser import sign_in
from core.tests.pdf import pdf_words, read_pdf
from evaluations import documents
from evaluations.models import ExamSession
from evaluations.sessions import cancel_session, create_session, edit_session
from evaluations.tests.factories import fill, open_session

DAY = datetime.date(2027, 3, 15)
INSTRUCTIONS = "Apportez votre ordinateur portable chargé.\nAccès par la cour, bâtiment B."


def body(response):
    if response.streaming:
        return b"".join(response.streaming_content)
    return response.content


def convene(session, *, by=None, **changes):
    """The convocation details set on the session, as the office does."""
    values = {
        "date": session.date,
        "place": "Studio Méliès, 12 rue de l'Œuvre, Paris",
        "assessors": list(session.assessors.all()),
        "lead": session.lead,
        "jury": session.jury,
        "convocation_time": datetime.time(9, 30),
        "duration_minutes": 150,
        "convocation_instructions": INSTRUCTIONS,
        **changes,
    }
    edit_session(session, **values, by=by)
    return documents.document_session(session.pk)


@pytest.fixture
def classmates(cohort, candidate):
    """Four more candidates whose names sort differently with and without the
    French rules: Durand, Éluard, Faure and Œhler, around Emma Petit."""
    people = [
        ("Faure", "Léa", "F"),
        ("Œhler", "Marc", "M"),
        ("Éluard", "Paul", "M"),
        ("Durand", "Zoé", "F"),
    ]
    for number, (name, first, sex) in enumerate(people, start=300):
        enrol(
            make_candidate(number, birth_name=name, first_names=first, sex=sex),
            cohort,
            access_route=Enrolment.AccessRoute.INITIAL,
            by=None,
        )
    return ["Durand Zoé", "Éluard Paul", "Faure Léa", "Œhler Marc", "Petit Emma Louise"]


@pytest.fixture
def written(cohort, classmates, trainer):
    """M2.1 for the five candidates, scored by the trainer, convened."""
    return convene(open_session("M2.1", cohort, [trainer], lead=trainer))


@pytest.fixture
def oral(cohort, classmates, jury, jury_member, second_jury_member):
    """M1.1 before the jury (jury1 presides and leads, jury2 external), convened."""
    session = open_session(
        "M1.1", cohort, [jury_member, second_jury_member], lead=jury_member, jury=jury
    )
    return convene(session, convocation_time=datetime.time(14, 0), duration_minutes=45)


# --- The convocations ---------------------------------------------------------------


@pytest.mark.django_db
class TestConvocations:
    def test_one_page_per_candidate_in_french_alphabetical_order(self, written, classmates):
        merged = documents.merged_convocations(written)
        assert merged.count == 5
        pages, _ = read_pdf(documents.render_pdf(merged.html))
        assert len(pages) == 5
        named = [next(name for name in classmates if name in page) for page in pages]
        assert named == classmates
        for page, name in zip(pages, classmates, strict=True):
            assert sum(other in page for other in classmates) == 1, page  # only their own
            for expected in [
                "Convocation à une épreuve de certification",
                "certification professionnelle « Assistant de production »",
                "Bloc 2 « Gestion de la production",
                "M2.1",
                "Date lundi 15 mars 2027",
                "Heure de convocation 9 h 30",
                "Durée de l'épreuve 2 h 30",
                "Lieu Studio Méliès, 12 rue de l'Œuvre, Paris",
                "Apportez votre ordinateur portable chargé. Accès par la cour, bâtiment B.",
                "pièce d'identité",
                f"Convocation · M2.1 {written.modality.title} · 15 mars 2027 · {name}",
            ]:
                assert expected in page, (expected, page)
        assert "Madame," in pages[0] and "Monsieur," in pages[1]  # Zoé, then Paul

    def test_an_oral_exam_says_so_and_a_resit_its_attempt(self, oral, candidate):
        oral.assessments.filter(enrolment__candidate=candidate).update(attempt=2)
        assessment = oral.assessments.get(enrolment__candidate=candidate)
        text = pdf_words(documents.render_convocation(assessment))
        assert "Heure de convocation 14 h 00" in text
        assert "Durée de l'épreuve 45 minutes" in text
        assert "épreuve orale devant un jury" in text
        assert "Tentative n° 2" in text
        assert "Petit Emma Louise" in text and "Durand" not in text

    def test_no_convocation_without_a_time_and_a_duration(self, cohort, candidate, trainer):
        session = documents.document_session(open_session("M2.1", cohort, [trainer]).pk)
        with pytest.raises(ValidationError, match="l'heure de convocation et la durée"):
            documents.merged_convocations(session)
        assessment = documents.session_assessments(session)[0]
        with pytest.raises(ValidationError, match="l'heure de convocation"):
            documents.render_convocation(assessment)
        assert documents.store_convocations(session.pk) is None

    def test_a_cancelled_session_convenes_nobody(self, cohort, candidate, trainer, admin_user):
        session = create_session(
            modality=written_modality(cohort),
            cohort=cohort,
            date=DAY,
            place="Salle",
            assessors=[trainer],
            convocation_time=datetime.time(9, 0),
            duration_minutes=60,
            by=admin_user,
        )
        cancel_session(session, reason="Grève", by=admin_user)
        session = documents.document_session(session.pk)
        with pytest.raises(ValidationError, match="annulée"):
            documents.merged_convocations(session)
        with pytest.raises(ValidationError, match="annulée"):
            documents.render_attendance_sheet(session)

    def test_the_merged_file_is_kept_until_the_session_changes(
        self, written, admin_user, monkeypatch
    ):
        first = documents.store_convocations(written.pk)
        assert default_storage.exists(first)
        renders = []
        monkeypatch.setattr(documents, "render_pdf", lambda html: renders.append(html) or b"%PDF")
        assert documents.store_convocations(written.pk) == first
        assert renders == []  # unchanged: never rendered again
        convene(written, place="Salle Lumière", by=admin_user)
        second = documents.store_convocations(written.pk)
        assert second != first and len(renders) == 1 and "Salle Lumière" in renders[0]
        assert default_storage.exists(second) and not default_storage.exists(first)


def written_modality(cohort):
    from blocks.models import EvaluationModality

    return EvaluationModality.objects.get(
        bloc__certification_version=cohort.certification_version, code="M2.1"
    )


# --- The attendance sheet -----------------------------------------------------------


@pytest.mark.django_db
class TestAttendanceSheet:
    def test_the_candidates_sign_in_french_order_and_the_jury_below(self, oral, classmates):
        text = pdf_words(documents.render_attendance_sheet(oral))
        for expected in [
            "Feuille d'émargement",
            "Date lundi 15 mars 2027, convocation à 14 h 00",
            "Durée de l'épreuve 45 minutes",
            "Lieu Studio Méliès, 12 rue de l'Œuvre, Paris",
            "devant le jury « Jury de certification 2027 »",
            "Promotion Promotion 2027",
            "Candidats convoqués 5",
            "N° Nom et prénoms Tentative Signature",
            "Membres du jury Nom Signature",
            "Jury1 Président(e) du jury, responsable de la session · CEFPF",
            "Jury2 Membre du jury · Les Films du Lendemain",
        ]:
            assert expected in text, (expected, text)
        numbered = re.findall(r"(\d+) ([^\d]+?) né\(e\) le", text)
        assert [f"{n} {name}" for n, name in numbered] == [
            f"{n} {name}" for n, name in enumerate(classmates, start=1)
        ]
        # The president signs before the member.
        assert text.index("Jury1 Président(e)") < text.index("Jury2 Membre")

    def test_a_candidate_withdrawn_since_is_neither_convened_nor_listed(
        self, written, candidate, login, admin_user
    ):
        enrolment = candidate.enrolments.get()
        assessment = written.assessments.get(enrolment=enrolment)
        withdraw(enrolment, reason="Abandon de la formation", by=admin_user)
        assert "Petit" not in pdf_words(documents.render_attendance_sheet(written))
        merged = documents.merged_convocations(written)
        assert merged.count == 4 and "Petit" not in merged.html
        url = reverse("evaluations:convocation", args=[assessment.pk])
        assert login(admin_user).get(url).status_code == 404

    def test_a_written_exam_lists_its_assessors(self, written):
        text = pdf_words(documents.render_attendance_sheet(written))
        assert "Évaluateurs Nom Signature Formateur Évaluateur(rice), responsable" in text
        assert "Membres du jury" not in text

    def test_the_time_and_duration_are_optional_on_the_sheet(self, cohort, candidate, trainer):
        session = documents.document_session(open_session("M2.1", cohort, [trainer]).pk)
        text = pdf_words(documents.render_attendance_sheet(session))
        assert "Date lundi 15 mars 2027 Lieu Salle Lumière" in text
        assert "convocation à" not in text and "Durée" not in text


# --- The office sets the convocation details --------------------------------------


@pytest.mark.django_db
class TestConvocationDetails:
    def test_the_office_sets_them_when_creating_a_session(self, login, admin_user, cohort, trainer):
        response = login(admin_user).post(
            reverse("evaluations:session_create"),
            {
                "modality": written_modality(cohort).pk,
                "cohort": cohort.pk,
                "date": "2027-03-15",
                "place": "Salle Lumière",
                "convocation_time": "08:45",
                "duration_minutes": "90",
                "convocation_instructions": "  Calculatrice autorisée.  ",
                "assessors": [trainer.pk],
            },
        )
        session = ExamSession.objects.get()
        assert response.status_code == 302
        assert (session.convocation_time, session.duration_minutes) == (datetime.time(8, 45), 90)
        assert session.convocation_instructions == "Calculatrice autorisée."
        event = AuditEvent.objects.get(action=Action.SESSION_CREATED)
        assert event.data["convocation_time"] == "8\u00a0h\u00a045"
        assert event.data["duration_minutes"] == 90

    def test_the_office_changes_them_audited(self, login, admin_user, written, trainer):
        url = reverse("evaluations:session_edit", args=[written.pk])
        page = login(admin_user).get(url).content.decode()
        assert 'value="09:30"' in page and 'value="150"' in page and "bâtiment B" in page
        response = login(admin_user).post(
            url,
            {
                "date": "2027-03-15",
                "place": written.place,
                "convocation_time": "10:00",
                "duration_minutes": "150",
                "convocation_instructions": INSTRUCTIONS,
                "assessors": [trainer.pk],
                "lead": trainer.pk,
            },
        )
        assert response.status_code == 302
        written.refresh_from_db()
        assert written.convocation_time == datetime.time(10, 0)
        event = AuditEvent.objects.filter(action=Action.SESSION_CHANGED).order_by("pk").last()
        changes = event.data["changes"]
        assert changes == [
            {"field": "heure de convocation", "old": "9\u00a0h\u00a030", "new": "10\u00a0h\u00a000"}
        ]

    @pytest.mark.parametrize("duration", ["0", "-5", "abc", "99999"])
    def test_a_wrong_duration_is_refused_by_the_form(
        self, login, admin_user, written, trainer, duration
    ):
        response = login(admin_user).post(
            reverse("evaluations:session_edit", args=[written.pk]),
            {
                "date": "2027-03-15",
                "place": "Salle",
                "convocation_time": "25:99",
                "duration_minutes": duration,
                "assessors": [trainer.pk],
            },
        )
        assert response.status_code == 200
        errors = response.context["forms"][0].errors
        assert set(errors) == {"convocation_time", "duration_minutes"}
        written.refresh_from_db()
        assert written.duration_minutes == 150

    def test_a_nul_in_the_instructions_is_refused_by_the_form(
        self, login, admin_user, written, trainer, settings
    ):
        # Without the guard that refuses any NUL at the door, the form does.
        guard = "core.middleware.RejectNulMiddleware"
        settings.MIDDLEWARE = [name for name in settings.MIDDLEWARE if name != guard]
        response = login(admin_user).post(
            reverse("evaluations:session_edit", args=[written.pk]),
            {
                "date": "2027-03-15",
                "place": "Salle",
                "convocation_instructions": "Stylo\x00noir",
                "assessors": [trainer.pk],
            },
        )
        assert response.status_code == 200
        assert set(response.context["forms"][0].errors) == {"convocation_instructions"}
        written.refresh_from_db()
        assert written.convocation_instructions == INSTRUCTIONS

    def test_frozen_like_the_date_once_a_grid_is_handed_in(self, written, trainer, admin_user):
        fill(written.assessments.first(), trainer, 2, submit=True)
        with pytest.raises(ValidationError, match="déjà remises"):
            convene(written, convocation_time=datetime.time(11, 0), by=admin_user)
        written.refresh_from_db()
        assert written.convocation_time == datetime.time(9, 30)

    def test_an_edit_without_them_keeps_them(self, written, trainer, admin_user):
        edit_session(
            written,
            date=written.date,
            place="Salle Lumière",
            assessors=[trainer],
            lead=trainer,
            by=admin_user,
        )
        written.refresh_from_db()
        assert (written.convocation_time, written.duration_minutes) == (datetime.time(9, 30), 150)
        assert written.convocation_instructions == INSTRUCTIONS


# --- Pages: who prints what ---------------------------------------------------------


def urls_of(session):
    return {
        "convocations": reverse("evaluations:session_convocations", args=[session.pk]),
        "convocation": reverse(
            "evaluations:convocation", args=[session.assessments.order_by("pk").first().pk]
        ),
        "attendance": reverse("evaluations:attendance", args=[session.pk]),
    }


@pytest.mark.django_db
class TestAccess:
    def test_anonymous_users_are_sent_to_sign_in(self, client, written):
        for url in urls_of(written).values():
            response = client.get(url)
            assert (response.status_code, response.url) == (302, f"/connexion/?next={url}")

    def test_the_office_prints_everything(self, login, admin_user, written, classmates):
        client = login(admin_user)
        for name, url in urls_of(written).items():
            response = client.get(url)
            assert response.status_code == 200, name
            assert response["Content-Type"] == "application/pdf"
            assert "attachment" in response["Content-Disposition"]
            text = pdf_words(body(response))
            assert "Petit Emma Louise" in text or name == "convocation"
        one = pdf_words(body(client.get(urls_of(written)["convocation"])))
        assert sum(name in one for name in classmates) == 1

    def test_the_session_assessors_print_the_attendance_sheet_only(self, login, written, trainer):
        client = login(trainer)
        urls = urls_of(written)
        assert client.get(urls["attendance"]).status_code == 200
        assert client.get(urls["convocations"]).status_code == 403
        assert client.get(urls["convocation"]).status_code == 403

    def test_others_get_nothing(
        self, login, written, oral, other_trainer, jury_member, candidate_user, outsider
    ):
        urls = urls_of(written)
        # Not an assessor of this session: as if it did not exist.
        assert login(other_trainer).get(urls["attendance"]).status_code == 404
        assert login(jury_member).get(urls["attendance"]).status_code == 404
        assert login(jury_member).get(urls_of(oral)["attendance"]).status_code == 200
        for user in (candidate_user, outsider):
            for url in urls.values():
                assert login(user).get(url).status_code == 403

    def test_a_missing_session_or_candidate_is_404(self, login, admin_user, written):
        client = login(admin_user)
        assert client.get(reverse("evaluations:attendance", args=[9999])).status_code == 404
        assert (
            client.get(reverse("evaluations:session_convocations", args=[9999])).status_code == 404
        )
        assert client.get(reverse("evaluations:convocation", args=[9999])).status_code == 404

    def test_convocations_not_ready_send_the_office_back_with_the_reason(
        self, login, admin_user, cohort, candidate, trainer
    ):
        session = open_session("M2.1", cohort, [trainer])
        client = login(admin_user)
        for url in list(urls_of(session).values())[:2]:
            response = client.get(url, follow=True)
            assert response.redirect_chain == [(session.get_absolute_url(), 302)]
            assert "indiquez d'abord l'heure de convocation et la durée" in html.unescape(
                response.content.decode()
            )
        page = client.get(session.get_absolute_url()).content.decode()
        assert "Convocations (PDF)" not in page and "indiquez l'heure de convocation" in page

    def test_the_session_page_offers_the_documents(self, login, admin_user, trainer, written):
        page = login(admin_user).get(written.get_absolute_url()).content.decode()
        urls = urls_of(written)
        assert urls["convocations"] in page and urls["attendance"] in page
        assert page.count("/convocation.pdf") == 5  # one per candidate
        assert "Convocation à 9 h 30 · durée : 150 min" in page
        page = login(trainer).get(written.get_absolute_url()).content.decode()
        assert urls["attendance"] in page and urls["convocations"] not in page
        assert "/convocation.pdf" not in page

    @override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}})
    def test_a_worker_renders_the_merged_file_later(self, login, admin_user, written):
        """With a real task queue, the first download queues the rendering and
        says so; the next one, once the worker ran, serves the file."""
        default_task_backend.clear()
        client = login(admin_user)
        url = urls_of(written)["convocations"]
        response = client.get(url, follow=True)
        assert response.redirect_chain[-1][0] == written.get_absolute_url()
        assert "Les 5 convocations sont en cours de production" in response.content.decode()
        queued = default_task_backend.results
        assert [(r.task.name, r.args) for r in queued] == [("generate_convocations", [written.pk])]
        documents.generate_convocations.call(written.pk)  # what the worker does
        response = client.get(url)
        assert response.status_code == 200 and len(default_task_backend.results) == 1
        assert len(read_pdf(body(response))[0]) == 5


# --- Queries that do not grow with the session --------------------------------------


def session_of(cohort, trainer, size, start):
    """A session of `size` candidates in a cohort of their own, convened."""
    from candidates.models import Cohort

    promotion = Cohort.objects.create(
        name=f"Promotion de {size}",
        certification_version=cohort.certification_version,
        start_date=cohort.start_date,
        end_date=cohort.end_date,
    )
    bulk_enrol(promotion, size, start=start)
    return convene(open_session("M2.1", promotion, [trainer], lead=trainer))


@pytest.mark.django_db
def test_documents_read_a_session_in_the_same_queries_for_3_or_30_candidates(
    login, admin_user, cohort, trainer, monkeypatch
):
    monkeypatch.setattr(documents, "render_pdf", lambda html: b"%PDF-1.7")
    client = login(admin_user)
    client.get("/")  # the session and the user's roles, read once
    counts = {}
    for size, start in ((3, 500), (30, 600)):
        session = session_of(cohort, trainer, size, start)
        for name, url in urls_of(session).items():
            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            counts.setdefault(name, []).append(len(queries))
    assert all(small == large for small, large in counts.values()), counts


# --- In the browser: the office prints the convocations -----------------------------


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_the_office_sets_the_convocation_and_prints_it(
    page, admin_user, cohort, classmates, trainer, tmp_path
):
    session = open_session("M2.1", cohort, [trainer], lead=trainer)
    sign_in(page, "admin")
    page.goto(session.get_absolute_url())
    expect(page.get_by_text("indiquez l'heure de convocation et la durée")).to_be_visible()
    page.get_by_role("link", name="Modifier").click()
    page.get_by_label("Heure de convocation").fill("09:30")
    page.get_by_label("Durée de l'épreuve (minutes)").fill("150")
    page.get_by_label("Consignes aux candidats").fill(INSTRUCTIONS)
    page.get_by_label("Lieu").fill("Studio Méliès")
    page.screenshot(path="/tmp/h4/convocation-form.png", full_page=True)
    page.get_by_role("button", name="Enregistrer").click()
    expect(page.get_by_text("Session modifiée.")).to_be_visible()
    expect(page.get_by_text("Convocation à 9 h 30 · durée : 150 min")).to_be_visible()
    page.screenshot(path="/tmp/h4/session-documents.png", full_page=True)

    with page.expect_download() as download:
        page.get_by_role("link", name="Convocations (PDF)").click()
    saved = tmp_path / "convocations.pdf"
    download.value.save_as(saved)
    assert download.value.suggested_filename == "convocations-M2.1-2027-03-15.pdf"
    pages, _ = read_pdf(saved.read_bytes())
    assert len(pages) == 5
    assert [next(n for n in classmates if n in text) for text in pages] == classmates
    for text in pages:
        assert "Date lundi 15 mars 2027" in text and "Heure de convocation 9 h 30" in text
        assert "Lieu Studio Méliès" in text and "Durée de l'épreuve 2 h 30" in text
        assert "Accès par la cour, bâtiment B." in text

    with page.expect_download() as download:
        page.get_by_role("link", name="Feuille d'émargement (PDF)").click()
    sheet = tmp_path / "emargement.pdf"
    download.value.save_as(sheet)
    text = pdf_words(sheet.read_bytes())
    assert "1 Durand Zoé" in text and "5 Petit Emma Louise" in text
