"""Printing for the office: every certificate a published PV in force makes
due, issued in a background task that takes ids, then one merged PDF and a ZIP
of exactly those certificates."""

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

from .models import Certificate, PrintJob
from .services import (
    due_bloc_decisions,
    effective_validations,
    issue_bloc_certificate,
    issue_title_certificate,
    refuse_unless_effective,
    store_pdf,
)


def due_titles(deliberation):
    """Enrolments whose title is due and not yet issued, and cites `deliberation`."""
    return due_titles_by_deliberation([deliberation])[deliberation.pk]


def due_titles_by_deliberation(deliberations):
    """deliberation id -> its enrolments whose title is due, for any number of
    published PVs in force, in a fixed number of queries (the office's
    certificates page). Due: every mandatory bloc validated by published PVs in
    force, across deliberations (capitalisation), and no title issued yet (a
    revoked one is issued again only explicitly). Each title is listed under
    one PV only, the one it will cite: the latest that validated a bloc of the
    candidate."""
    titled = Certificate.objects.filter(kind=Certificate.Kind.TITLE).values("candidate")
    decided = (
        BlocDecision.objects.filter(deliberation__in=deliberations, enrolment__status="enrolled")
        .exclude(enrolment__candidate__in=titled)
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
    validations = effective_validations(enrolments)
    due = defaultdict(list)
    for enrolment in enrolments:
        acquired, cited = validations[enrolment.pk]
        if (
            enrolment.pk in enrolment_ids[cited]
            and mandatory[enrolment.cohort.certification_version_id] <= acquired
        ):
            due[cited].append(enrolment)
    return {deliberation.pk: due[deliberation.pk] for deliberation in deliberations}


def due_count():
    """How many certificates (blocs and titles) the published PVs in force make
    due: the office dashboard's figure, the sum of the certificates page's lists."""
    deliberations = list(Deliberation.objects.effective().select_related("jury"))
    titles = due_titles_by_deliberation(deliberations)
    return due_bloc_decisions().count() + sum(len(due) for due in titles.values())


def start_print_job(deliberation, *, by, enqueue=True):
    """Create the job; with `enqueue`, the task runs it after commit (inline or
    by a worker, depending on the task backend). Only a published PV in force
    prints, and only when it makes a certificate due."""
    refuse_unless_effective(deliberation)
    total = due_bloc_decisions(deliberation).count() + len(due_titles(deliberation))
    if not total:
        raise ValidationError(
            "Aucun certificat n'est à délivrer pour ce procès-verbal : rien à imprimer."
        )
    with transaction.atomic():
        job = PrintJob.objects.create(deliberation=deliberation, created_by=by, total=total)
        record_event(actor=by, action=Action.PRINT_REQUESTED, target=job)
        job_id = job.pk
        if enqueue:
            transaction.on_commit(lambda: print_certificates.enqueue(job_id))
    return job


@task()
def print_certificates(job_id):
    """Issue what is due (each certificate in its own transaction), then bundle
    exactly those: the job's count, its PDF and its ZIP hold the same
    certificates. What was issued before (by hand, by an earlier job) is not
    printed again; it stays downloadable on its own page."""
    job = PrintJob.objects.select_related("deliberation__jury", "created_by").get(pk=job_id)
    decisions = list(due_bloc_decisions(job.deliberation))
    titles = due_titles(job.deliberation)
    # What is due now: another issue may have happened since the job was asked for.
    PrintJob.objects.filter(pk=job_id).update(
        status=PrintJob.Status.RUNNING, total=len(decisions) + len(titles), done=0
    )
    try:
        for decision in decisions:
            _one_more(job, issue_bloc_certificate(decision, by=job.created_by))
        for enrolment in titles:
            _one_more(job, issue_title_certificate(enrolment, by=job.created_by))
        certificates = job.certificates.order_by("year", "sequence")
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


def _one_more(job, certificate):
    job.certificates.add(certificate)
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
