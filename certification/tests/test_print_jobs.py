"""Long work never runs inside a request (issue 14, points 10 and 11): a print
job whose worker died is detected, marked failed and resumed without issuing
anything twice; a second job of the same PV is answered "already running";
the merged PDF and the ZIP are files; the signed PV is rendered by a task."""

import datetime
import io
import zipfile
from pathlib import Path

import pytest
from django.test import override_settings
from django.urls import reverse
from django.utils import timezone
from django_tasks import default_task_backend
from pypdf import PdfReader

from certification import printing
from certification.models import Certificate, PrintJob
from certification.printing import (
    INTERRUPTED,
    STALE_AFTER,
    AlreadyRunning,
    print_certificates,
    resume_print_job,
    start_print_job,
)
from core.audit import Action
from core.models import AuditEvent
from core.signing import check_pdf
from evaluations.deliberations import open_deliberation, produce_minutes
from evaluations.tests.factories import decide_as_proposed, sign_all, sit_bloc

pytestmark = pytest.mark.django_db


class WorkerKilled(BaseException):
    """The worker process dies (SIGKILL, gunicorn's timeout): no except clause runs."""


def killed_after(count, monkeypatch):
    """The worker dies while issuing the certificate after the first `count`."""
    issue = printing.issue_bloc_certificate
    calls = []

    def dying(decision, *, by, **options):
        calls.append(decision)
        if len(calls) > count:
            raise WorkerKilled
        return issue(decision, by=by, **options)

    monkeypatch.setattr(printing, "issue_bloc_certificate", dying)


def silent_for(job, duration):
    PrintJob.objects.filter(pk=job.pk).update(heartbeat_at=timezone.now() - duration)


def files_of(job):
    """The job's files, read from disk: pages of the merged PDF, names in the ZIP."""
    pdf, archive = Path(job.merged_pdf.path), Path(job.archive.path)
    assert pdf.is_file() and archive.is_file()
    pages = len(PdfReader(pdf).pages)
    with zipfile.ZipFile(archive) as bundle:
        names = bundle.namelist()
    return pages, names


def test_a_dead_job_is_marked_failed_then_resumed_without_issuing_twice(
    published, admin_user, login, monkeypatch, django_capture_on_commit_callbacks
):
    job = start_print_job(published, by=admin_user, enqueue=False)
    assert job.total == 2
    killed_after(1, monkeypatch)
    with pytest.raises(WorkerKilled), django_capture_on_commit_callbacks(execute=True):
        print_certificates.call(job.pk, job.attempt)
    monkeypatch.undo()
    job.refresh_from_db()
    # The certificate issued before the death is the job's; the next one was rolled back.
    assert (job.status, job.done, job.certificates.count()) == ("running", 1, 1)
    assert Certificate.objects.count() == 1
    first = job.certificates.get()

    # Still beating recently: running, not failed; a new job is refused.
    page = login(admin_user).get(job.get_absolute_url()).content.decode()
    assert "En cours" in page and INTERRUPTED not in page
    with pytest.raises(AlreadyRunning):
        start_print_job(published, by=admin_user)

    silent_for(job, STALE_AFTER + datetime.timedelta(seconds=1))
    page = login(admin_user).get(job.get_absolute_url()).content.decode()
    job.refresh_from_db()
    assert job.status == PrintJob.Status.FAILED and job.error == INTERRUPTED
    assert "Reprendre l'impression</button>" in page and "plus de 5 minutes" in page

    with django_capture_on_commit_callbacks(execute=True):
        answer = login(admin_user).post(reverse("certification:print_resume", args=[job.pk]))
    assert answer.status_code == 302 and answer["Location"] == job.get_absolute_url()
    job.refresh_from_db()
    assert (job.status, job.attempt, job.error) == (PrintJob.Status.DONE, 1, "")
    assert job.total == job.done == job.certificates.count() == 2
    assert Certificate.objects.count() == 2  # the first one was not issued again
    assert first in job.certificates.all()
    issued = AuditEvent.objects.filter(action=Action.CERTIFICATE_ISSUED)
    assert issued.count() == 2
    pages, names = files_of(job)
    assert pages == 2
    assert names == [f"{c.number}.pdf" for c in job.certificates.order_by("year", "sequence")]


def test_a_new_request_detects_the_dead_job(published, admin_user, monkeypatch):
    job = start_print_job(published, by=admin_user, enqueue=False)
    killed_after(0, monkeypatch)
    with pytest.raises(WorkerKilled):
        print_certificates.call(job.pk, job.attempt)
    silent_for(job, STALE_AFTER + datetime.timedelta(minutes=1))
    monkeypatch.undo()
    second = start_print_job(published, by=admin_user, enqueue=False)
    job.refresh_from_db()
    assert (job.status, job.error) == (PrintJob.Status.FAILED, INTERRUPTED)
    assert second.status == PrintJob.Status.PENDING and second.pk != job.pk
    # The dead job cannot be resumed while the new one is pending: never two at once.
    with pytest.raises(AlreadyRunning):
        resume_print_job(job, by=admin_user)


def test_a_second_job_of_the_same_pv_is_answered_already_running(
    published, admin_user, login, django_capture_on_commit_callbacks
):
    running = start_print_job(published, by=admin_user, enqueue=False)
    client = login(admin_user)
    for status in (PrintJob.Status.PENDING, PrintJob.Status.RUNNING):
        PrintJob.objects.filter(pk=running.pk).update(status=status, heartbeat_at=timezone.now())
        with django_capture_on_commit_callbacks(execute=True):
            answer = client.post(
                reverse("certification:print_start"), {"deliberation": published.pk}, follow=True
            )
        assert answer.redirect_chain[-1][0] == running.get_absolute_url()
        page = answer.content.decode()
        assert (
            f"Une impression de ce procès-verbal est déjà en cours (impression n° {running.pk})"
            in (page.replace("&#x27;", "'"))
        )
        assert PrintJob.objects.get() == running
        running.refresh_from_db()
        assert running.status == status and not running.error  # never marked failed
    assert not Certificate.objects.exists()


def test_a_task_of_an_older_attempt_leaves_the_job_alone(published, admin_user):
    """A worker thought dead that wakes up after the job was resumed: its task
    finds the job claimed by a newer attempt and stops without issuing."""
    job = start_print_job(published, by=admin_user, enqueue=False)
    PrintJob.objects.filter(pk=job.pk).update(status=PrintJob.Status.FAILED, error="x")
    resumed = resume_print_job(job, by=admin_user, enqueue=False)
    assert (resumed.status, resumed.attempt) == (PrintJob.Status.PENDING, 1)
    print_certificates.call(job.pk, 0)
    assert not Certificate.objects.exists()
    assert PrintJob.objects.get(pk=job.pk).status == PrintJob.Status.PENDING


def test_the_merged_pdf_and_zip_are_written_to_files(
    published, admin_user, tmp_path, monkeypatch, django_capture_on_commit_callbacks
):
    """Built in temporary files on disk (FILE_UPLOAD_TEMP_DIR), then copied into
    storage in chunks: never a ContentFile holding the whole bundle."""
    monkeypatch.setattr(
        printing,
        "ContentFile",
        lambda *a, **k: pytest.fail("bundle built in memory"),
        raising=False,
    )
    temp = tmp_path / "tmp"
    temp.mkdir()
    seen = []
    original = printing.tempfile.NamedTemporaryFile

    def spied(*args, **kwargs):
        handle = original(*args, **kwargs)
        seen.append(handle.name)
        return handle

    monkeypatch.setattr(printing.tempfile, "NamedTemporaryFile", spied)
    with (
        override_settings(FILE_UPLOAD_TEMP_DIR=str(temp)),
        django_capture_on_commit_callbacks(execute=True),
    ):
        job = start_print_job(published, by=admin_user)
    job.refresh_from_db()
    assert job.status == PrintJob.Status.DONE and job.started_at and job.heartbeat_at
    assert [Path(name).parent for name in seen] == [temp, temp]
    assert not list(temp.iterdir())  # removed once copied into storage
    pages, names = files_of(job)
    assert pages == job.done == job.total == 2
    assert names == [f"{c.number}.pdf" for c in job.certificates.order_by("year", "sequence")]
    with zipfile.ZipFile(job.archive.path) as bundle:
        for name in names:
            assert check_pdf(bundle.read(name)).intact  # the sealed files themselves
    # The merged file is a copy to print: it shows no signature, rather than
    # signatures that no longer cover their document.
    merged = Path(job.merged_pdf.path).read_bytes()
    assert PdfReader(io.BytesIO(merged)).pages
    assert check_pdf(merged).status == "absent"


# --- The signed PV is rendered by a task ------------------------------------------


@override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}})
def test_the_pv_is_rendered_by_a_task_not_in_the_signature(
    cohort,
    candidate,
    trainer,
    jury,
    jury_member,
    second_jury_member,
    login,
    django_capture_on_commit_callbacks,
):
    sit_bloc(cohort, 1, 2, trainer=trainer, jury=jury)
    deliberation = open_deliberation(jury, cohort, by=None)
    decide_as_proposed(deliberation, candidate.enrolments.get(), second_jury_member)
    default_task_backend.clear()
    signed = sign_all(
        deliberation,
        jury_member,
        second_jury_member,
        django_capture_on_commit_callbacks,
        render_minutes=True,  # the on-commit callbacks run: they only queue the task
    )
    assert signed.is_signed and not signed.minutes_pdf
    queued = default_task_backend.results
    assert [(r.task.name, r.args) for r in queued] == [("produce_minutes", [signed.pk])]

    client = login(jury_member)
    page = client.get(signed.get_absolute_url()).content.decode()
    assert "PV en cours de production" in page
    download = client.get(reverse("evaluations:minutes", args=[signed.pk]), follow=True)
    assert download.redirect_chain[-1][0] == signed.get_absolute_url()
    assert "en cours de production" in download.content.decode()
    assert len(default_task_backend.results) == 2  # queued again, still not rendered here

    produce_minutes.call(signed.pk)  # what the worker does
    signed.refresh_from_db()
    assert signed.minutes_pdf
    page = client.get(signed.get_absolute_url()).content.decode()
    assert "PV en cours de production" not in page
    assert "Télécharger le procès-verbal (PDF)" in page


def test_resuming_is_for_the_office_only(
    published, admin_user, trainer, candidate_user, client, login
):
    job = start_print_job(published, by=admin_user, enqueue=False)
    PrintJob.objects.filter(pk=job.pk).update(status=PrintJob.Status.FAILED, error=INTERRUPTED)
    url = reverse("certification:print_resume", args=[job.pk])
    answer = client.post(url)
    assert (answer.status_code, answer.url) == (302, f"/connexion/?next={url}")
    assert login(trainer).post(url).status_code == 403
    assert login(candidate_user).post(url).status_code == 403
    assert login(admin_user).get(url).status_code == 405
    assert PrintJob.objects.get(pk=job.pk).status == PrintJob.Status.FAILED


@override_settings(TASKS={"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}})
def test_a_pv_published_while_it_is_rendered_stays_published(
    cohort,
    candidate,
    trainer,
    jury,
    jury_member,
    second_jury_member,
    admin_user,
    monkeypatch,
    django_capture_on_commit_callbacks,
):
    """The worker renders the PV; meanwhile the office publishes it: storing the
    file must not bring the PV back to "signed" (nothing would print)."""
    from evaluations import deliberations
    from evaluations.deliberations import publish_results

    sit_bloc(cohort, 1, 2, trainer=trainer, jury=jury)
    deliberation = open_deliberation(jury, cohort, by=None)
    decide_as_proposed(deliberation, candidate.enrolments.get(), second_jury_member)
    signed = sign_all(
        deliberation,
        jury_member,
        second_jury_member,
        django_capture_on_commit_callbacks,
        render_minutes=True,  # only queues the task here
    )
    render = deliberations.render_minutes

    def published_meanwhile(pv):
        pdf = render(pv)
        publish_results(pv.__class__.objects.get(pk=pv.pk), by=admin_user)
        return pdf

    monkeypatch.setattr(deliberations, "render_minutes", published_meanwhile)

    produce_minutes.call(signed.pk)

    signed.refresh_from_db()
    assert signed.minutes_pdf
    assert signed.published_at is not None
    assert len(printing.due_bloc_decisions(signed)) == 1
