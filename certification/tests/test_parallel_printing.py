"""Printing on every core (issue 17, point 2): a print job numbers and issues
in the task's process, renders and seals in PRINT_WORKERS worker processes,
and its files are the same whatever their number; a worker that fails makes
the job fail with a French message, and the job is resumed without issuing
anything twice."""

import hashlib
import io
import os
import zipfile
from pathlib import Path

import pytest
from pypdf import PdfReader

from certification import printing, rendering
from certification.models import Certificate, PrintJob
from certification.printing import RenderFailed, print_certificates, start_print_job
from certification.rendering import PrintOrder, render_certificate
from core.signing import check_pdf

pytestmark = pytest.mark.django_db


def text_of(data):
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def pools_started(monkeypatch):
    """The pools the jobs start, as (number of workers, start method)."""
    started = []
    original = printing.ProcessPoolExecutor

    def spied(*args, **kwargs):
        started.append((kwargs["max_workers"], kwargs["mp_context"].get_start_method()))
        return original(*args, **kwargs)

    monkeypatch.setattr(printing, "ProcessPoolExecutor", spied)
    return started


def run(job):
    print_certificates.call(job.pk, job.attempt)
    return PrintJob.objects.get(pk=job.pk)


@pytest.mark.parametrize("workers", [1, 2])
def test_the_files_are_the_same_whatever_the_number_of_workers(
    workers, published, admin_user, settings, monkeypatch
):
    settings.PRINT_WORKERS = workers
    started = pools_started(monkeypatch)
    if workers > 1:
        # Every certificate is rendered in a worker process, none in the task's.
        monkeypatch.setattr(
            rendering, "render_pdf", lambda html: pytest.fail("rendered in the task's process")
        )
    job = run(start_print_job(published, by=admin_user, enqueue=False))
    monkeypatch.undo()
    assert started == ([(2, "spawn")] if workers > 1 else [])
    assert (job.status, job.error) == (PrintJob.Status.DONE, "")
    certificates = list(job.certificates.order_by("year", "sequence"))
    assert job.total == job.done == len(certificates) == Certificate.objects.count() == 2

    merged = PdfReader(job.merged_pdf.path)
    assert len(merged.pages) == 2
    with zipfile.ZipFile(job.archive.path) as bundle:
        assert bundle.namelist() == [f"{c.number}.pdf" for c in certificates]
        for certificate, page in zip(certificates, merged.pages, strict=True):
            data = bundle.read(f"{certificate.number}.pdf")
            assert check_pdf(data).intact  # sealed by the worker with the certifier's seal
            assert hashlib.sha256(data).hexdigest() == certificate.pdf_sha256
            assert Path(certificate.pdf.path).read_bytes() == data  # what is served
            # The very text the task's own rendering prints, on the merged page too.
            expected = text_of(render_certificate(certificate))
            assert text_of(data) == expected
            assert f"Certificat n° {certificate.number}" in page.extract_text()


def test_a_failing_worker_fails_the_job_in_french_then_it_is_resumed(
    published, admin_user, settings, tmp_path, django_capture_on_commit_callbacks
):
    settings.PRINT_WORKERS = 2
    settings.PDF_SIGNING_PKCS12 = str(tmp_path / "absent.p12")  # the workers cannot seal
    job = start_print_job(published, by=admin_user, enqueue=False)
    with pytest.raises(RenderFailed):
        run(job)
    job.refresh_from_db()
    assert job.status == PrintJob.Status.FAILED
    assert job.error.startswith("Le rendu du certificat n° ")
    assert "est illisible" in job.error  # the worker's own message, in French
    assert "reprenez l'impression, elle ne les délivrera pas une seconde fois" in job.error
    # Issued before the rendering failed: they are the job's, without a PDF yet.
    assert job.done == job.certificates.count() == Certificate.objects.count() == 2
    assert not Certificate.objects.exclude(pdf="").exists()
    assert not job.merged_pdf and not job.archive

    settings.PDF_SIGNING_PKCS12 = ""
    with django_capture_on_commit_callbacks(execute=True):
        printing.resume_print_job(job, by=admin_user)
    job.refresh_from_db()
    assert (job.status, job.attempt, job.error) == (PrintJob.Status.DONE, 1, "")
    assert Certificate.objects.count() == 2  # nothing issued twice
    assert len(PdfReader(job.merged_pdf.path).pages) == 2
    with zipfile.ZipFile(job.archive.path) as bundle:
        assert all(check_pdf(bundle.read(name)).intact for name in bundle.namelist())


class Dying(PrintOrder):
    """An order whose worker process dies while rendering it (killed, out of memory)."""

    def sealed(self):
        os._exit(1)


def test_a_worker_that_dies_fails_the_job(published, admin_user, settings, monkeypatch):
    settings.PRINT_WORKERS = 2
    monkeypatch.setattr(printing, "PrintOrder", Dying)
    job = start_print_job(published, by=admin_user, enqueue=False)
    with pytest.raises(RenderFailed):
        run(job)
    job.refresh_from_db()
    assert job.status == PrintJob.Status.FAILED
    assert job.error.startswith("Le rendu du certificat n° ")
    assert job.certificates.count() == Certificate.objects.count() == 2
