"""Printing for the office: every certificate a signed deliberation makes due,
generated in a background task that takes ids, then one merged PDF and a ZIP."""

import io
import zipfile
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import transaction
from django.db.models import F
from django_tasks import task
from pypdf import PdfWriter

from blocks.models import Bloc
from candidates.models import Enrolment
from core.audit import Action, record_event
from evaluations.models import BlocDecision, Deliberation
from evaluations.standings import validated_blocs

from .models import Certificate, PrintJob
from .services import (
    due_bloc_decisions,
    issue_bloc_certificate,
    issue_title_certificate,
    store_pdf,
)


def due_titles(deliberation):
    """Enrolments of the deliberation whose title is due and not yet issued:
    every mandatory bloc validated, across deliberations (capitalisation)."""
    return due_titles_by_deliberation([deliberation])[deliberation.pk]


def due_titles_by_deliberation(deliberations):
    """deliberation id -> its enrolments whose title is due, for any number of
    deliberations in a fixed number of queries (the office's certificates page)."""
    holders = Certificate.objects.valid().filter(kind=Certificate.Kind.TITLE)
    decided = (
        BlocDecision.objects.filter(deliberation__in=deliberations, enrolment__status="enrolled")
        .exclude(enrolment__candidate__in=holders.values("candidate"))
        .values_list("deliberation_id", "enrolment_id")
        .distinct()
    )
    enrolment_ids = defaultdict(set)
    for deliberation_id, enrolment_id in decided:
        enrolment_ids[deliberation_id].add(enrolment_id)
    enrolments = Enrolment.objects.filter(
        pk__in={pk for ids in enrolment_ids.values() for pk in ids}
    ).select_related("candidate", "cohort")
    mandatory = defaultdict(set)
    for version_id, bloc_id in Bloc.objects.filter(
        certification_version__in={d.jury.certification_version_id for d in deliberations},
        optional=False,
    ).values_list("certification_version_id", "pk"):
        mandatory[version_id].add(bloc_id)
    acquired = validated_blocs(enrolments)
    return {
        deliberation.pk: [
            enrolment
            for enrolment in enrolments
            if enrolment.pk in enrolment_ids[deliberation.pk]
            and mandatory[deliberation.jury.certification_version_id] <= acquired[enrolment.pk]
        ]
        for deliberation in deliberations
    }


def start_print_job(deliberation, *, by, enqueue=True):
    """Create the job; with `enqueue`, the task runs it after commit (inline or
    by a worker, depending on the task backend)."""
    if not Deliberation.objects.in_force().filter(pk=deliberation.pk).exists():
        raise ValidationError("Seul un procès-verbal signé et en vigueur donne lieu à impression.")
    with transaction.atomic():
        job = PrintJob.objects.create(
            deliberation=deliberation,
            created_by=by,
            total=due_bloc_decisions(deliberation).count() + len(due_titles(deliberation)),
        )
        record_event(actor=by, action=Action.PRINT_REQUESTED, target=job)
        job_id = job.pk
        if enqueue:
            transaction.on_commit(lambda: print_certificates.enqueue(job_id))
    return job


@task()
def print_certificates(job_id):
    """Issue what is due (each certificate in its own transaction), then bundle."""
    job = PrintJob.objects.select_related("deliberation", "created_by").get(pk=job_id)
    PrintJob.objects.filter(pk=job_id).update(status=PrintJob.Status.RUNNING)
    try:
        for decision in due_bloc_decisions(job.deliberation):
            issue_bloc_certificate(decision, by=job.created_by)
            _one_more(job)
        for enrolment in due_titles(job.deliberation):
            issue_title_certificate(enrolment, by=job.created_by)
            _one_more(job)
        certificates = list(
            Certificate.objects.valid().filter(deliberation=job.deliberation).order_by("sequence")
        )
        job.certificates.set(certificates)
        _bundle(job, [store_pdf(certificate.pk) for certificate in certificates])
        PrintJob.objects.filter(pk=job_id).update(status=PrintJob.Status.DONE)
    except ValidationError as error:
        PrintJob.objects.filter(pk=job_id).update(
            status=PrintJob.Status.FAILED, error=" ".join(error.messages)
        )
    except Exception as error:
        # Never leave a job "running" for ever: the office sees it failed.
        PrintJob.objects.filter(pk=job_id).update(
            status=PrintJob.Status.FAILED, error=f"Erreur inattendue : {error}"
        )
        raise


def _one_more(job):
    PrintJob.objects.filter(pk=job.pk).update(done=F("done") + 1)


def _bundle(job, certificates):
    writer = PdfWriter()
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
        for certificate in certificates:
            with certificate.pdf.open("rb") as stored:
                data = stored.read()
            writer.append(io.BytesIO(data))
            bundle.writestr(f"{certificate.number}.pdf", data)
    merged = io.BytesIO()
    writer.write(merged)
    job.merged_pdf.save(f"impression-{job.pk}.pdf", ContentFile(merged.getvalue()), save=False)
    job.archive.save(f"impression-{job.pk}.zip", ContentFile(archive.getvalue()), save=False)
    PrintJob.objects.filter(pk=job.pk).update(
        merged_pdf=job.merged_pdf.name, archive=job.archive.name
    )
