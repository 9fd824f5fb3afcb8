"""Sessions that change with the day: edited, cancelled, an assessor replaced,
created and opened at once, a whole bloc planned, closing confirmed; and
creations that stay single and numbered under double clicks and concurrency."""

import datetime
import html
import uuid

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from blocks.models import Bloc, EvaluationModality
from candidates.services import enrol
from candidates.tests.factories import make_candidate, make_user
from core import roles
from core.models import Action, AuditEvent
from evaluations.models import Assessment, AssessorReplacement, ExamSession, Grid
from evaluations.sessions import (
    UngradedCandidates,
    cancel_session,
    change_session_status,
    create_session,
    edit_session,
    expected_assessors,
    replace_assessor,
    schedule_bloc,
    set_presence,
    ungraded_candidates,
)
from evaluations.tests.factories import at_once, criteria_of, fill, open_session

pytestmark = pytest.mark.django_db

DAY = datetime.date(2027, 3, 15)


def modality(cohort, code):
    return EvaluationModality.objects.get(
        bloc__certification_version=cohort.certification_version, code=code
    )


def plan(cohort, code, assessors, **extra):
    return {
        "modality": modality(cohort, code),
        "cohort": cohort,
        "date": DAY,
        "place": "Salle Lumière",
        "assessors": assessors,
        **extra,
    }


@pytest.fixture
def colleague(db):
    return make_user("collegue", roles.TRAINER, last_name="Marchand")


# --- Editing ---------------------------------------------------------------------


def test_a_session_is_edited_until_a_grid_is_handed_in(
    written_session, trainer, colleague, admin_user, candidate
):
    edit_session(
        written_session,
        date=DAY + datetime.timedelta(days=1),
        place="Salle Méliès",
        assessors=[trainer, colleague],
        lead=colleague,
        by=admin_user,
    )
    written_session.refresh_from_db()
    assert (written_session.place, written_session.lead) == ("Salle Méliès", colleague)
    assert set(written_session.assessors.all()) == {trainer, colleague}
    event = AuditEvent.objects.filter(action=Action.SESSION_CHANGED).get()
    fields = {change["field"]: change for change in event.data["changes"]}
    assert fields["lieu"] == {"field": "lieu", "old": "Salle Lumière", "new": "Salle Méliès"}
    assert fields["responsable"]["new"] == "Collegue Marchand"

    fill(written_session.assessments.get(), trainer, 3, submit=True)
    with pytest.raises(ValidationError, match="déjà remises"):
        edit_session(
            written_session,
            date=DAY,
            place="Ailleurs",
            assessors=[trainer],
            lead=None,
            by=admin_user,
        )
    written_session.refresh_from_db()
    assert written_session.place == "Salle Méliès"


def test_an_edit_checks_the_assessors_like_a_creation(written_session, jury_member, admin_user):
    with pytest.raises(ValidationError, match="Jury1 n'a pas ce rôle"):
        edit_session(
            written_session,
            date=DAY,
            place="Salle",
            assessors=[jury_member],
            lead=None,
            by=admin_user,
        )
    assert list(written_session.assessors.values_list("username", flat=True)) == ["formateur"]


# --- Replacing an assessor ----------------------------------------------------------


@pytest.fixture
def two_candidates_session(cohort, candidate, trainer, colleague):
    enrol(make_candidate(1), cohort, access_route="vae", by=None)
    return open_session("M2.1", cohort, [trainer, colleague], lead=trainer)


def test_an_assessor_replaced_after_submission_keeps_their_grids_and_drafts(
    two_candidates_session, trainer, colleague, other_trainer, admin_user
):
    session = two_candidates_session
    first, second = session.assessments.order_by("pk")
    fill(first, colleague, 2, submit=True)
    draft = fill(second, colleague, 1)
    replace_assessor(
        session, replaced=colleague, replacement=other_trainer, reason="Malade", by=admin_user
    )
    assert set(session.assessors.all()) == {trainer, other_trainer}
    # The draft is kept, unchanged, and counts for nothing.
    draft.refresh_from_db()
    assert draft.status == Grid.Status.DRAFT and draft.scores.count() == len(criteria_of(session))
    # The replacement marks the second candidate, not the first.
    fill(second, other_trainer, 3, submit=True)
    with pytest.raises(ValidationError, match="évaluateur que vous remplacez"):
        fill(first, other_trainer, 3)
    # The first candidate still waits for the trainer only; the second for both.
    assert [c.full_name for c in ungraded_candidates(session)] == [
        first.enrolment.candidate.full_name,
        second.enrolment.candidate.full_name,
    ]
    fill(first, trainer, 3, submit=True)
    fill(second, trainer, 3, submit=True)
    assert ungraded_candidates(session) == []
    event = AuditEvent.objects.filter(action=Action.ASSESSOR_REPLACED).get()
    assert event.data == {
        "replaced": "Collegue Marchand",
        "replacement": "Formateur2",
        "reason": "Malade",
        "drafts_kept": 1,
    }


def test_a_replacement_needs_a_reason_and_the_right_role(
    written_session, trainer, other_trainer, jury_member, admin_user
):
    with pytest.raises(ValidationError, match="motif"):
        replace_assessor(
            written_session, replaced=trainer, replacement=other_trainer, reason=" ", by=admin_user
        )
    with pytest.raises(ValidationError, match="Jury1 n'a pas ce rôle"):
        replace_assessor(
            written_session,
            replaced=trainer,
            replacement=jury_member,
            reason="Absent",
            by=admin_user,
        )
    assert not AssessorReplacement.objects.exists()
    assert list(written_session.assessors.all()) == [trainer]


def test_the_replacement_of_the_lead_leads(written_session, trainer, other_trainer, admin_user):
    replace_assessor(
        written_session, replaced=trainer, replacement=other_trainer, reason="Absent", by=admin_user
    )
    written_session.refresh_from_db()
    assert written_session.lead == other_trainer


@pytest.mark.parametrize(
    ("current", "replacements", "submitted", "expected"),
    [
        ({1, 2}, [], set(), {1, 2}),
        ({1, 2}, [(3, 2)], set(), {1, 2}),  # 3 left before marking this candidate
        ({1, 2}, [(3, 2)], {3}, {1, 3}),  # 3 had handed it in: it counts, 2 does not mark
        ({1, 4}, [(3, 2), (2, 4)], {3}, {1, 3}),
        ({1, 4}, [(3, 2), (2, 4)], {2}, {1, 2}),
    ],
)
def test_who_marks_a_candidate_after_replacements(current, replacements, submitted, expected):
    assert expected_assessors(current, replacements, submitted) == expected


# --- Cancelling, creating and opening, planning a bloc ----------------------------------


def test_a_planned_session_is_cancelled_and_its_candidates_keep_their_attempt(
    cohort, candidate, trainer, admin_user
):
    planned = create_session(**plan(cohort, "M2.1", [trainer]), by=admin_user)
    assert planned.assessments.get().attempt == 1
    with pytest.raises(ValidationError, match="motif"):
        cancel_session(planned, reason="", by=admin_user)
    cancel_session(planned, reason="Salle indisponible", by=admin_user)
    planned.refresh_from_db()
    assert (planned.status, planned.cancellation_reason) == ("cancelled", "Salle indisponible")
    with pytest.raises(ValidationError, match="ne peut pas passer"):
        change_session_status(planned, status="open", by=admin_user)
    again = create_session(**plan(cohort, "M2.1", [trainer]), by=admin_user)
    assert again.assessments.get().attempt == 1
    event = AuditEvent.objects.filter(action=Action.SESSION_CANCELLED).get()
    assert event.data == {"reason": "Salle indisponible", "candidates": 1}


def test_an_open_session_is_not_cancelled(written_session, admin_user):
    with pytest.raises(ValidationError, match="Seule une session planifiée"):
        cancel_session(written_session, reason="Erreur", by=admin_user)
    assert written_session.assessments.count() == 1


def test_create_and_open_in_one_step(login, admin_user, cohort, candidate, trainer):
    response = login(admin_user).post(
        reverse("evaluations:session_create"),
        {
            "modality": modality(cohort, "M2.1").pk,
            "cohort": cohort.pk,
            "date": "2027-03-15",
            "place": "Salle",
            "assessors": [trainer.pk],
            "token": str(uuid.uuid4()),
            "open": "1",
        },
    )
    session = ExamSession.objects.get()
    assert response.status_code == 302 and session.status == "open"


def test_a_double_click_creates_one_session(login, admin_user, cohort, candidate, trainer):
    client = login(admin_user)
    page = client.get(reverse("evaluations:session_create"))
    token = page.context["forms"][0].initial["token"]
    post = {
        "modality": modality(cohort, "M2.1").pk,
        "cohort": cohort.pk,
        "date": "2027-03-15",
        "place": "Salle",
        "assessors": [trainer.pk],
        "token": str(token),
    }
    first = client.post(reverse("evaluations:session_create"), post)
    second = client.post(reverse("evaluations:session_create"), post)
    session = ExamSession.objects.get()
    assert first["Location"] == second["Location"] == session.get_absolute_url()
    assert Assessment.objects.count() == 1


def test_every_modality_of_a_bloc_planned_at_once_or_none(
    login, admin_user, cohort, candidate, trainer, jury, jury_member, second_jury_member
):
    bloc = Bloc.objects.get(certification_version=cohort.certification_version, number=1)
    modalities = list(bloc.modalities.order_by("code"))
    assert len(modalities) >= 2
    url = reverse("evaluations:bloc_schedule") + f"?cohort={cohort.pk}&bloc={bloc.pk}"
    client = login(admin_user)
    assert client.get(url).status_code == 200
    post = {"token": str(uuid.uuid4())}
    for m in modalities:
        oral = m.assessed_by == EvaluationModality.AssessedBy.JURY
        post |= {
            f"m{m.pk}-date": "2027-03-15",
            f"m{m.pk}-place": "Salle",
            f"m{m.pk}-assessors": [jury_member.pk, second_jury_member.pk] if oral else [trainer.pk],
            f"m{m.pk}-jury": jury.pk if oral else "",
        }
    # One plan wrong (an oral without its jury): nothing is created.
    oral = next(m for m in modalities if m.assessed_by == EvaluationModality.AssessedBy.JURY)
    refused = client.post(url, post | {f"m{oral.pk}-jury": ""})
    assert refused.status_code == 400
    assert "Une épreuve orale est notée par un jury" in refused.content.decode()
    assert not ExamSession.objects.exists()
    assert client.post(url, post).status_code == 302
    assert client.post(url, post).status_code == 302  # a double click
    assert ExamSession.objects.count() == len(modalities)
    assert {s.modality for s in ExamSession.objects.all()} == set(modalities)


def test_schedule_bloc_service_is_all_or_nothing(cohort, candidate, trainer, admin_user):
    def without_cohort(code):
        return {k: v for k, v in plan(cohort, code, [trainer]).items() if k != "cohort"}

    # M1.1 is an oral: a trainer alone cannot mark it, so M2.1 is not kept either.
    with pytest.raises(ValidationError, match="jury"):
        schedule_bloc(
            cohort=cohort, plans=[without_cohort("M2.1"), without_cohort("M1.1")], by=admin_user
        )
    assert not ExamSession.objects.exists()


# --- Closing ------------------------------------------------------------------------


def test_closing_with_ungraded_candidates_asks_for_confirmation(
    login, admin_user, two_candidates_session, trainer, colleague
):
    session = two_candidates_session
    first, second = session.assessments.order_by("pk")
    fill(first, trainer, 3, submit=True)
    fill(first, colleague, 3, submit=True)
    fill(second, trainer, 3, submit=True)  # the colleague has not handed in yet
    with pytest.raises(UngradedCandidates):
        change_session_status(session, status="closed", by=admin_user)
    client = login(admin_user)
    url = reverse("evaluations:session_status", args=[session.pk])
    asked = client.post(url, {"status": "closed"})
    assert asked.status_code == 409
    assert second.enrolment.candidate.full_name in asked.content.decode()
    assert first.enrolment.candidate.full_name not in asked.content.decode()
    session.refresh_from_db()
    assert session.status == "open"
    assert client.post(url, {"status": "closed", "confirm": "1"}).status_code == 302
    session.refresh_from_db()
    assert session.status == "closed"


def test_an_unknown_status_is_refused_in_french(login, admin_user, written_session):
    client = login(admin_user)
    response = client.post(
        reverse("evaluations:session_status", args=[written_session.pk]),
        {"status": "nimporte-quoi"},
        follow=True,
    )
    assert "Ce statut de session n'existe pas." in html.unescape(response.content.decode())


# --- Pages: anonymous, wrong role, office ------------------------------------------------


@pytest.mark.parametrize("name", ["session_edit", "session_replace", "session_cancel"])
def test_session_change_pages_are_for_the_office(
    login, client, name, written_session, trainer, admin_user
):
    url = reverse(f"evaluations:{name}", args=[written_session.pk])
    assert client.get(url)["Location"].startswith(reverse("login"))
    assert login(trainer).get(url).status_code == 403
    assert login(admin_user).get(url).status_code == 200


def test_bloc_schedule_page_is_for_the_office(login, client, trainer, admin_user):
    url = reverse("evaluations:bloc_schedule")
    assert client.get(url)["Location"].startswith(reverse("login"))
    assert login(trainer).get(url).status_code == 403
    assert login(admin_user).get(url).status_code == 200


def test_pages_replace_and_cancel(login, admin_user, written_session, trainer, other_trainer):
    client = login(admin_user)
    refused = client.post(
        reverse("evaluations:session_replace", args=[written_session.pk]),
        {"replaced": trainer.pk, "replacement": other_trainer.pk, "reason": ""},
    )
    assert "Indiquez le motif du remplacement." in refused.content.decode()
    assert (
        client.post(
            reverse("evaluations:session_replace", args=[written_session.pk]),
            {"replaced": trainer.pk, "replacement": other_trainer.pk, "reason": "Malade"},
        ).status_code
        == 302
    )
    assert list(written_session.assessors.all()) == [other_trainer]
    page = client.get(written_session.get_absolute_url()).content.decode()
    assert "remplacé(e) par" in page and "Malade" in page and "(remplacé·e)" in page
    refused = client.post(
        reverse("evaluations:session_cancel", args=[written_session.pk]), {"reason": "x"}
    )
    assert "Seule une session planifiée" in refused.content.decode()


# --- Integrity under double posts and concurrency --------------------------------------


def test_the_database_refuses_two_equal_attempt_numbers(written_session, trainer, admin_user):
    """A second session of the modality, emptied: the candidate's row may come
    back with the next attempt number, never with the first one's again."""
    assessment = written_session.assessments.get()
    second = create_session(**plan(written_session.cohort, "M2.1", [trainer]), by=None)
    second.assessments.all().delete()

    def add(attempt):
        Assessment.objects.create(
            session=second,
            enrolment=assessment.enrolment,
            modality=assessment.modality,
            attempt=attempt,
        )

    with pytest.raises(IntegrityError), transaction.atomic():
        add(assessment.attempt)
    add(assessment.attempt + 1)
    assert second.assessments.get().attempt == assessment.attempt + 1


def test_presence_is_locked_once_a_grid_is_handed_in(written_session, trainer):
    assessment = written_session.assessments.get()
    fill(assessment, trainer, 3, submit=True)
    with pytest.raises(ValidationError, match="déjà remise"):
        set_presence(assessment, present=False, by=trainer)
    assessment.refresh_from_db()
    assert assessment.present


def test_scores_outside_the_scale_are_refused_by_the_service(written_session, trainer):
    assessment = written_session.assessments.get()
    with pytest.raises(ValidationError, match="n'est pas un niveau de l'échelle"):
        fill(assessment, trainer, 9)
    assert not Grid.objects.filter(scores__isnull=False).exists()


def test_session_page_queries_do_not_grow_with_replacements(
    login, admin_user, two_candidates_session, trainer, colleague, other_trainer
):
    session = two_candidates_session
    client = login(admin_user)

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert client.get(session.get_absolute_url()).status_code == 200
        return len(queries)

    count()  # the frozen structure is read once per process (blocks.frozen)
    before = count()
    fill(session.assessments.first(), colleague, 3, submit=True)
    replace_assessor(
        session, replaced=colleague, replacement=other_trainer, reason="A", by=admin_user
    )
    third = make_user("formateur3", roles.TRAINER)
    replace_assessor(session, replaced=other_trainer, replacement=third, reason="B", by=admin_user)
    assert count() == before


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL (CI)")
def test_two_concurrent_creations_never_share_an_attempt_number(cohort, candidate, trainer):
    outcomes = at_once(
        lambda: create_session(**plan(cohort, "M2.1", [trainer]), by=None),
        lambda: create_session(**plan(cohort, "M2.1", [trainer]), by=None),
    )
    assert all(isinstance(outcome, ExamSession) for outcome in outcomes), outcomes
    attempts = sorted(Assessment.objects.values_list("attempt", flat=True))
    assert attempts == [1, 2]


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(connection.vendor != "postgresql", reason="row locks need PostgreSQL (CI)")
def test_two_concurrent_posts_of_one_form_create_one_session(cohort, candidate, trainer):
    token = uuid.uuid4()
    outcomes = at_once(
        lambda: create_session(**plan(cohort, "M2.1", [trainer]), token=token, by=None),
        lambda: create_session(**plan(cohort, "M2.1", [trainer]), token=token, by=None),
    )
    assert all(isinstance(outcome, ExamSession) for outcome in outcomes), outcomes
    assert outcomes[0].pk == outcomes[1].pk
    assert ExamSession.objects.count() == 1 and Assessment.objects.count() == 1


def test_a_lead_who_replaced_the_marker_of_a_candidate_reviews_it_at_once(
    login, admin_user, two_candidates_session, trainer, colleague, other_trainer
):
    """The trainer leads and hands in the first candidate, then falls ill: the
    new lead does not mark that candidate, so has nothing to hand in first."""
    session = two_candidates_session
    first, second = session.assessments.order_by("pk")
    fill(first, trainer, 3, submit=True)
    fill(first, colleague, 2, submit=True)
    replace_assessor(
        session, replaced=trainer, replacement=other_trainer, reason="Malade", by=admin_user
    )
    client = login(other_trainer)
    assert client.get(reverse("evaluations:synthesis", args=[first.pk])).status_code == 200
    assert client.get(reverse("evaluations:synthesis", args=[second.pk])).status_code == 403
