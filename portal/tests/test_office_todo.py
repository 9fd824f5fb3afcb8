"""The office dashboard as a to-do list: each line's count, and its link to
the page where those items are listed."""

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from blocks.models import EvaluationModality
from candidates.tests.factories import make_user
from certification.models import PrintJob
from certification.printing import start_print_job
from certification.tests.factories import issued
from core import roles
from core.models import Notification
from evaluations.deliberations import open_deliberation, sign_minutes
from evaluations.juries import add_member, create_jury, record_recusal
from evaluations.models import ExamSession
from evaluations.sessions import create_session, grading_state
from evaluations.tests.factories import another_cohort, decide_as_proposed, fill, open_session
from portal.dashboards import grading_completion

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
YESTERDAY = TODAY - datetime.timedelta(days=1)


def todo(client):
    page = client.get(reverse("portal:office_dashboard"))
    assert page.status_code == 200
    return {line.key: line for line in page.context["todo"]}, page.content.decode()


def listed(client, url):
    """What the line's link lists: sessions, certificates due, e-mails."""
    page = client.get(url)
    assert page.status_code == 200, url
    return page


def planned(cohort, trainer, date):
    modality = EvaluationModality.objects.get(
        bloc__certification_version=cohort.certification_version, code="M2.1"
    )
    return create_session(
        modality=modality,
        cohort=cohort,
        date=date,
        place="Salle Lumière",
        assessors=[trainer],
        by=None,
    )


def to_the_past(*sessions):
    ExamSession.objects.filter(pk__in=[s.pk for s in sessions]).update(date=YESTERDAY)


def test_every_line_is_there_and_grey_at_zero(login, admin_user, referential):
    lines, text = todo(login(admin_user))
    assert list(lines) == [
        "sessions-to-open",
        "late-grids",
        "sessions-to-close",
        "undeclared-members",
        "deliberations-deciding",
        "deliberations-signing",
        "to-publish",
        "to-issue",
        "to-print",
        "print-failures",
        "failed-emails",
    ]
    assert {line.count for line in lines.values()} == {0}
    for key in lines:
        item = re.search(rf'<li class="([^"]*)" id="todo-{key}">', text)
        assert "text-body-secondary" in item.group(1), key
    assert 'id="cpf-deadlines"' in text


def test_sessions_to_open_list_exactly_those(login, admin_user, cohort, candidate, trainer):
    due = [planned(cohort, trainer, TODAY), planned(cohort, trainer, YESTERDAY)]
    planned(cohort, trainer, TODAY + datetime.timedelta(days=3))  # not yet
    client = login(admin_user)
    lines, text = todo(client)
    line = lines["sessions-to-open"]
    assert line.count == 2
    assert "text-body-secondary" not in re.search(
        r'<li class="([^"]*)" id="todo-sessions-to-open"', text
    ).group(1)
    assert line.url == f"{reverse('evaluations:sessions')}?statut=planned&au={TODAY.isoformat()}"
    assert f'href="{line.url.replace("&", "&amp;")}"' in text
    assert {session.pk for session in listed(client, line.url).context["page"]} == {
        session.pk for session in due
    }
    assert [url for _, url in line.items] == [due[1].get_absolute_url(), due[0].get_absolute_url()]


def test_late_grids_and_sessions_to_close(
    login, admin_user, oral_session, written_session, trainer, jury_member, second_jury_member
):
    """M2.1 fully graded: to close. M1.1: one of its two jurors has handed in."""
    written = written_session.assessments.get()
    oral = oral_session.assessments.get()
    fill(written, trainer, 2, submit=True)
    fill(oral, jury_member, 2, submit=True)
    client = login(admin_user)
    lines, _ = todo(client)
    # Today's sessions are neither late nor to close.
    assert (lines["late-grids"].count, lines["sessions-to-close"].count) == (0, 0)

    to_the_past(oral_session, written_session)
    lines, _ = todo(client)
    assert lines["late-grids"].count == 1
    assert lines["late-grids"].items == [
        (
            f"M1.1 · Promotion 2027 · {YESTERDAY:%d/%m/%Y} (1 grille(s))",
            oral_session.get_absolute_url(),
        )
    ]
    assert lines["sessions-to-close"].count == 1
    assert [url for _, url in lines["sessions-to-close"].items] == [
        written_session.get_absolute_url()
    ]
    # The list has no filter for "late" or "to close" alone: it lists the open
    # sessions whose date has passed, both kinds.
    url = lines["late-grids"].url
    assert url == lines["sessions-to-close"].url
    assert url == f"{reverse('evaluations:sessions')}?statut=open&au={YESTERDAY.isoformat()}"
    assert {s.pk for s in listed(client, url).context["page"]} == {
        oral_session.pk,
        written_session.pk,
    }
    # The same rule as closing a session: jury2 standing aside for Emma is not awaited.
    record_recusal(
        oral_session.jury.members.get(user=second_jury_member),
        enrolment=oral.enrolment,
        reason="Ancienne collègue",
        by=admin_user,
    )
    lines, _ = todo(client)
    assert (lines["late-grids"].count, lines["sessions-to-close"].count) == (0, 2)


def test_grading_completion_follows_the_closing_rule(
    oral_session, written_session, trainer, jury_member
):
    fill(written_session.assessments.get(), trainer, 2, submit=True)
    fill(oral_session.assessments.get(), jury_member, 2, submit=True)
    sessions = [oral_session, written_session]
    expected = {
        session.pk: sum(len(want - done) for want, done in grading_state(session).values())
        for session in sessions
    }
    assert grading_completion(sessions) == expected == {oral_session.pk: 1, written_session.pk: 0}


def test_jurors_without_declaration_link_to_their_jury(login, admin_user, jury, referential):
    other = create_jury(
        name="Jury de rattrapage",
        certification_version=referential,
        date=datetime.date(2027, 9, 1),
        place="Paris",
        by=None,
    )
    for name in ("jury3", "jury4"):
        add_member(
            other, user=make_user(name, roles.JURY_MEMBER), role="member", external=True, by=None
        )
    client = login(admin_user)
    lines, _ = todo(client)
    line = lines["undeclared-members"]
    assert line.count == 2
    assert line.items == [("Jury de rattrapage (2)", other.get_absolute_url())]
    assert line.url == reverse("evaluations:juries")
    page = listed(client, other.get_absolute_url()).content.decode()
    assert page.count("à déclarer") == 2


def test_deliberations_to_decide_to_sign_and_to_publish(
    login, admin_user, deliberation, scored, jury_member, second_jury_member
):
    client = login(admin_user)
    lines, _ = todo(client)
    assert lines["deliberations-deciding"].count == 1
    assert lines["deliberations-deciding"].items[0][1] == deliberation.get_absolute_url()
    assert lines["deliberations-signing"].count == 0
    decide_as_proposed(deliberation, scored, second_jury_member)
    sign_minutes(deliberation, user=second_jury_member)
    lines, _ = todo(client)
    assert (lines["deliberations-deciding"].count, lines["deliberations-signing"].count) == (0, 1)
    assert lines["deliberations-signing"].items[0][1] == deliberation.get_absolute_url()
    sign_minutes(deliberation, user=jury_member)  # the president: signed
    lines, _ = todo(client)
    assert (lines["deliberations-signing"].count, lines["to-publish"].count) == (0, 1)
    assert lines["to-publish"].items[0][1] == deliberation.get_absolute_url()
    assert "Publier" in listed(client, deliberation.get_absolute_url()).content.decode()


def test_certificates_to_issue_to_print_and_valid_are_separate(
    login, admin_user, published, django_capture_on_commit_callbacks
):
    """Issue 18.7: what is to issue, to print and already valid, each on its own."""
    client = login(admin_user)
    lines, text = todo(client)
    assert (lines["to-issue"].count, lines["to-print"].count) == (2, 0)
    due = listed(client, lines["to-issue"].url).context["due"]
    assert [(d, [x.bloc.number for x in decisions], titles) for d, decisions, titles in due] == [
        (published, [1, 3], [])
    ]
    # Bloc 1 issued by hand: valid, but in no print job: to print on its own.
    by_hand = issued(published.decisions.get(bloc__number=1), django_capture_on_commit_callbacks)
    lines, text = todo(client)
    assert (lines["to-issue"].count, lines["to-print"].count) == (1, 1)
    assert lines["to-print"].items == [
        (f"{by_hand.number} · Petit Emma Louise", by_hand.get_absolute_url())
    ]
    assert "1 certificat(s) valide(s)" in text
    # The PV printed: bloc 3 issued and printed by the job; bloc 1 still to print.
    with django_capture_on_commit_callbacks(execute=True):
        job = start_print_job(published, by=admin_user)
    job.refresh_from_db()
    assert job.status == PrintJob.Status.DONE
    lines, text = todo(client)
    assert (lines["to-issue"].count, lines["to-print"].count) == (0, 1)
    assert "2 certificat(s) valide(s)" in text
    assert "à délivrer et imprimer" not in text
    register = listed(client, lines["to-print"].url)
    assert {c.number for c in register.context["page"]} >= {by_hand.number}


def test_a_failed_print_job_is_to_resume_until_run_again(login, admin_user, published):
    failed = PrintJob.objects.create(
        deliberation=published, status=PrintJob.Status.FAILED, error="Panne", created_by=admin_user
    )
    client = login(admin_user)
    lines, _ = todo(client)
    assert lines["print-failures"].count == 1
    assert lines["print-failures"].items == [(str(failed), failed.get_absolute_url())]
    PrintJob.objects.create(deliberation=published, status=PrintJob.Status.DONE)
    lines, _ = todo(client)
    assert lines["print-failures"].count == 0


def test_failed_emails_link_to_the_outbox_filtered(login, admin_user):
    for status in ("failed", "failed", "sent"):
        Notification.objects.create(
            kind=Notification.Kind.RESULTS_PUBLISHED,
            event_key=f"test-{status}-{Notification.objects.count()}",
            email="emma.petit@example.org",
            subject="Résultats",
            body="…",
            status=status,
        )
    client = login(admin_user)
    lines, _ = todo(client)
    line = lines["failed-emails"]
    assert line.count == 2
    assert line.url == f"{reverse('core:outbox')}?status=failed"
    assert [n.status for n in listed(client, line.url).context["page"]] == ["failed", "failed"]


def test_the_to_do_list_takes_a_fixed_number_of_queries(
    login,
    admin_user,
    cohort,
    candidate,
    trainer,
    jury,
    jury_member,
    second_jury_member,
    published,
    referential,
    other_trainer,
):
    """One of each (a session to open, late grids, a session to close, an open
    deliberation, a failed print job, an undeclared juror) against several."""

    def one_of_each(name, start):
        other = another_cohort(cohort, trainer, name, start=start)
        other.trainers.add(other_trainer)
        planned(other, trainer, YESTERDAY)
        late = open_session("M3.2", other, [trainer, other_trainer])
        fill(late.assessments.first(), trainer, 2, submit=True)
        to_the_past(late, *other.sessions.filter(status="open"))
        open_deliberation(jury, other, by=None)
        PrintJob.objects.create(deliberation=published, status=PrintJob.Status.FAILED)
        extra = create_jury(
            name=f"Jury {name}",
            certification_version=referential,
            date=datetime.date(2027, 9, 1),
            place="Paris",
            by=None,
        )
        add_member(
            extra,
            user=make_user(f"j-{start}", roles.JURY_MEMBER),
            role="member",
            external=True,
            by=None,
        )

    client = login(admin_user)
    one_of_each("Promotion A", 3000)
    lines, _ = todo(client)
    # Three present candidates, two assessors each, one grid handed in.
    assert lines["late-grids"].count == 5
    assert lines["sessions-to-close"].count == 2  # M2.1 and M3.1, graded
    with CaptureQueriesContext(connection) as one:
        todo(client)
    for number, name in enumerate(("Promotion B", "Promotion C", "Promotion D")):
        one_of_each(name, 3100 + 10 * number)
    lines, _ = todo(client)
    assert lines["late-grids"].count == 20
    assert lines["sessions-to-open"].count == 4
    assert lines["deliberations-deciding"].count == 4
    assert lines["undeclared-members"].count == 4
    with CaptureQueriesContext(connection) as four:
        todo(client)
    assert len(four) == len(one)
