"""Printing for the office: every certificate a published PV in force makes
due, issued in a background task that takes ids, then one merged PDF and a ZIP
of exactly those certificates, written to files as they grow.

A job never stays "running" for ever: its worker says it is alive at every
certificate (`PrintJob.heartbeat_at`); a running job silent for more than
STALE_AFTER had its worker die (killed, machine restarted) and is marked
failed when its page is seen or a new job is asked for its PV. Resumed, it
issues only what is still due: what it issued before is in its certificates
(each certificate is issued and added to the job in one transaction), and is
bundled again with the rest. One job at a time per PV (a database constraint):
a second one is answered "already running".

Numbering and issuing stay in the task's process, one certificate after the
other, each in its own transaction. Rendering and sealing (a tenth of a second
or two each, where the time goes) run in PRINT_WORKERS worker processes at
once: each gets a certificate's HTML and seal details (rendering.PrintOrder),
never touches the database, and returns the sealed bytes, which the task
stores (services.store_pdf, the one way a certificate's PDF is kept) and adds
to the merged PDF and the ZIP in certificate order. PRINT_WORKERS = 1 renders
in the task's process, without a pool."""

import datetime
import io
import multiprocessing
import os
import tempfile
import zipfile
from collections import defaultdict
from concurrent.futures import ProcessPoolExecutor

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import F, Q
from django.utils import timezone
from django_tasks import task
from pypdf import PdfWriter

from blocks.models import Bloc
from candidates.models import Enrolment
from core.audit import Action, record_event
from evaluations.models import BlocDecision, Deliberation

from .models import Certificate, PrintJob
from .rendering import PrintOrder, sealed_certificate, start_worker
from .services import (
    after_registration,
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


# A running job whose worker has given no sign of life for this long is
# considered dead. A certificate takes well under a second to issue and
# render, and the heartbeat is renewed at each one, while issuing and while
# bundling: five minutes of silence is a dead worker, not a slow one.
STALE_AFTER = datetime.timedelta(minutes=5)

INTERRUPTED = (
    "L'impression s'est interrompue : aucun signe de vie de son traitement depuis plus de "
    f"{int(STALE_AFTER.total_seconds() // 60)} minutes (processus arrêté ou serveur "
    "redémarré). Reprenez-la : les certificats déjà délivrés ne le seront pas une seconde "
    "fois."
)


class AlreadyRunning(ValidationError):
    """A job of this PV is pending or running: it goes on, nothing is marked failed."""

    def __init__(self, job):
        super().__init__(
            f"Une impression de ce procès-verbal est déjà en cours (impression n° {job.pk}) : "
            "elle se poursuit, attendez qu'elle se termine."
        )
        self.job = job


class Superseded(Exception):
    """This attempt no longer owns the job (marked failed as silent, then resumed)."""


class RenderFailed(Exception):
    """A certificate could not be rendered or sealed (in a worker process or
    here): the job fails with this French message and can be resumed."""

    def __init__(self, number, error):
        cause = str(error) or type(error).__name__
        super().__init__(
            f"Le rendu du certificat n° {number} a échoué ({cause}). Les certificats déjà "
            "délivrés le restent : reprenez l'impression, elle ne les délivrera pas une "
            "seconde fois."
        )


def fail_stale_jobs(jobs):
    """Mark failed, with a French message, the jobs of `jobs` that are running
    but whose worker has been silent for more than STALE_AFTER. Returns how many."""
    limit = timezone.now() - STALE_AFTER
    return jobs.filter(
        Q(heartbeat_at__lt=limit) | Q(heartbeat_at__isnull=True, created_at__lt=limit),
        status=PrintJob.Status.RUNNING,
    ).update(status=PrintJob.Status.FAILED, error=INTERRUPTED)


def start_print_job(deliberation, *, by, enqueue=True):
    """Create the job; with `enqueue`, the task runs it after commit (inline or
    by a worker, depending on the task backend). Only a published PV in force
    prints, only when it makes a certificate due, and only when no job of the
    same PV is pending or running (AlreadyRunning, which carries that job)."""
    refuse_unless_effective(deliberation)
    jobs = PrintJob.objects.filter(deliberation=deliberation)
    fail_stale_jobs(jobs)
    _refuse_if_running(jobs)
    decisions, titles = list(due_bloc_decisions(deliberation)), due_titles(deliberation)
    total = len(decisions) + len(titles)
    late = after_registration(deliberation)
    if total and late:
        raise ValidationError(left_out_message(late, decisions, titles))
    if not total:
        raise ValidationError(
            "Aucun certificat n'est à délivrer pour ce procès-verbal : rien à imprimer."
        )
    try:
        with transaction.atomic():
            job = PrintJob.objects.create(deliberation=deliberation, created_by=by, total=total)
            record_event(actor=by, action=Action.PRINT_REQUESTED, target=job)
            _enqueue_on_commit(job, enqueue)
    except IntegrityError:  # asked twice at the same moment: the constraint chose
        _refuse_if_running(jobs)
        raise
    return job


def resume_print_job(job, *, by, enqueue=True):
    """Run a failed job again, as a new attempt: it issues what is still due
    and bundles everything it issued, in this attempt and the earlier ones."""
    try:
        with transaction.atomic():
            job = PrintJob.objects.select_for_update().get(pk=job.pk)
            if job.status != PrintJob.Status.FAILED:
                raise ValidationError("Seule une impression en échec peut être reprise.")
            _refuse_if_running(PrintJob.objects.filter(deliberation=job.deliberation_id))
            job.status = PrintJob.Status.PENDING
            job.attempt += 1
            job.error = ""
            job.save(update_fields=["status", "attempt", "error"])
            record_event(
                actor=by,
                action=Action.PRINT_REQUESTED,
                target=job,
                data={"resumed": True, "attempt": job.attempt, "already": job.done},
            )
            _enqueue_on_commit(job, enqueue)
    except IntegrityError:
        _refuse_if_running(PrintJob.objects.filter(deliberation=job.deliberation_id))
        raise
    return job


def _refuse_if_running(jobs):
    running = jobs.filter(status__in=PrintJob.ACTIVE).first()
    if running:
        raise AlreadyRunning(running)


def _enqueue_on_commit(job, enqueue):
    if enqueue:
        job_id, attempt = job.pk, job.attempt
        transaction.on_commit(lambda: print_certificates.enqueue(job_id, attempt))


@task()
def print_certificates(job_id, attempt=None):
    """Issue what is due (each certificate in its own transaction, with its
    place in the job), then bundle exactly the job's certificates: its count,
    its PDF and its ZIP hold the same ones. What was issued before by hand or
    by another job is not printed again; it stays downloadable on its own page.

    The task claims the pending job for its attempt; a job already claimed (a
    task run twice), or resumed since by a newer attempt, is left alone."""
    now = timezone.now()
    pending = PrintJob.objects.filter(pk=job_id, status=PrintJob.Status.PENDING)
    if attempt is not None:
        pending = pending.filter(attempt=attempt)
    if not pending.update(status=PrintJob.Status.RUNNING, started_at=now, heartbeat_at=now):
        return
    job = PrintJob.objects.select_related("deliberation__jury", "created_by").get(pk=job_id)
    try:
        decisions = list(due_bloc_decisions(job.deliberation))
        titles = due_titles(job.deliberation)
        late = after_registration(job.deliberation)
        left_out = (
            left_out_message(late, decisions, titles) if late and (decisions or titles) else ""
        )
        if late:  # the registration's end was set since the job was asked for
            decisions, titles = [], []
        # What is due now (another issue may have happened since the job was
        # asked for), after what an earlier attempt of this job issued.
        already = job.certificates.count()
        total = already + len(decisions) + len(titles)
        _beat(job, total=total, done=already)
        # No more worker processes than certificates to render.
        to_render = len(decisions) + len(titles) + job.certificates.filter(pdf="").count()
        with Renderer(job, workers=min(settings.PRINT_WORKERS, to_render)) as renderer:
            for decision in decisions:
                renderer.submit(_issue_one(job, issue_bloc_certificate, decision))
            for enrolment in titles:
                renderer.submit(_issue_one(job, issue_title_certificate, enrolment))
            _bundle(job, job.certificates.order_by("year", "sequence"), renderer)
        _beat(job, status=PrintJob.Status.DONE, error=left_out)
    except Superseded:
        return
    except RenderFailed as error:
        _mine(job).update(status=PrintJob.Status.FAILED, error=str(error))
        raise
    except ValidationError as error:
        _mine(job).update(status=PrintJob.Status.FAILED, error=" ".join(error.messages))
    except Exception as error:
        # Never leave a job "running" for ever: the office sees it failed.
        _mine(job).update(status=PrintJob.Status.FAILED, error=f"Erreur inattendue : {error}")
        raise


def left_out_message(late, decisions, titles):
    """Why the certificates of a PV signed after the registration's end are not
    printed in bulk, and which they are, in French."""
    names = [
        f"{decision.enrolment.candidate.full_name} (bloc {decision.bloc.number})"
        for decision in decisions
    ] + [f"{enrolment.candidate.full_name} (titre)" for enrolment in titles]
    return (
        f"{late} : ses certificats ne sont pas imprimés en lot. Non imprimés : "
        + ", ".join(names)
        + ". Délivrez-les un par un en consignant le fondement juridique de la délivrance."
    )


def _mine(job):
    """The job, as long as this attempt runs it."""
    return PrintJob.objects.filter(pk=job.pk, attempt=job.attempt, status=PrintJob.Status.RUNNING)


def _beat(job, **changes):
    """Renew the heartbeat (with `changes`), or stop if this attempt lost the job."""
    if not _mine(job).update(heartbeat_at=timezone.now(), **changes):
        raise Superseded


def _issue_one(job, issue, target):
    """The certificate and its place in the job commit together: a worker that
    dies leaves either both or neither, so a resumed job never issues twice."""
    with transaction.atomic():
        certificate = issue(target, by=job.created_by, render=False)  # the Renderer does
        job.certificates.add(certificate)
        _beat(job, done=F("done") + 1)
    return certificate


def _bundle(job, certificates, renderer):
    """The merged PDF and the ZIP, written to temporary files on disk
    (FILE_UPLOAD_TEMP_DIR, or the system's) one certificate at a time, in
    certificate order, as their renders arrive, then copied into storage in
    chunks. Only pypdf's page objects stay in memory until the merged file is
    written."""
    certificates = list(certificates)
    temp_dir = settings.FILE_UPLOAD_TEMP_DIR
    with (
        tempfile.NamedTemporaryFile(suffix=".pdf", dir=temp_dir) as merged,
        tempfile.NamedTemporaryFile(suffix=".zip", dir=temp_dir) as archive,
    ):
        writer = PdfWriter()
        with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bundle:
            for ahead in certificates[: renderer.window]:
                renderer.submit(ahead)  # rendered by an earlier attempt, or not yet
            for index, certificate in enumerate(certificates):
                if index + renderer.window < len(certificates):
                    renderer.submit(certificates[index + renderer.window])
                certificate = renderer.stored(certificate)
                with certificate.pdf.open("rb") as stored:
                    data = stored.read()  # one certificate, a few dozen kilobytes
                # A printing copy: without the certificates' signature fields,
                # which a merged file would show as broken signatures.
                writer.append(io.BytesIO(data), excluded_fields=["/Annots", "/B"])
                bundle.writestr(f"{certificate.number}.pdf", data)
                _beat(job)
        writer.write(merged)
        writer.close()
        job.merged_pdf.save(f"impression-{job.pk}.pdf", File(merged, name=merged.name), save=False)
        job.archive.save(f"impression-{job.pk}.zip", File(archive, name=archive.name), save=False)
    _beat(job, merged_pdf=job.merged_pdf.name, archive=job.archive.name)


# What a worker process needs of the task's settings to render and seal as the
# task would (the same seal, the same static files), even when they were
# changed after start-up (override_settings in tests).
RENDER_SETTINGS = (
    "BASE_DIR",
    "STATIC_URL",
    "STATIC_ROOT",
    "STATICFILES_DIRS",
    "PUBLIC_BASE_URL",
    "PDF_SIGNING_PKCS12",
    "PDF_SIGNING_PASSPHRASE",
    "PDF_DEMO_SEAL",
)


class Renderer:
    """Renders and seals a job's certificates and stores them, in the task's
    process (one worker) or in a pool of `workers` processes, started
    (spawned: nothing of the task's database connections is inherited) for the
    job and stopped with it. At most `window` certificates are in the pool or
    waiting to be stored, so that memory does not grow with the job."""

    def __init__(self, job, *, workers):
        self.job = job
        self.pool = None
        self.window = 1
        self.pending = {}  # certificate id -> (number, future), oldest first
        self.kept = set()  # ids of the certificates it stored
        if workers > 1:
            self.window = 4 * workers
            self.pool = ProcessPoolExecutor(
                max_workers=workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=start_worker,  # Django set up in each
                initargs=(
                    # The module Django was set up with (override_settings hides it).
                    os.environ.get("DJANGO_SETTINGS_MODULE", settings.SETTINGS_MODULE),
                    {name: getattr(settings, name) for name in RENDER_SETTINGS},
                ),
            )

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)

    def submit(self, certificate):
        """Start rendering `certificate` in the pool, if it has no PDF yet and
        there is one; what is finished meanwhile is stored."""
        if self.pool is None or certificate.pdf or certificate.pk in self.kept:
            return
        if certificate.pk in self.pending:
            return
        order = PrintOrder.of(certificate)  # its HTML, made here: the worker reads no database
        self.pending[certificate.pk] = (certificate.number, self.pool.submit(order.sealed))
        for pk in [pk for pk, (_number, future) in self.pending.items() if future.done()]:
            self._store(pk)
        while len(self.pending) > self.window:  # the oldest first
            self._store(next(iter(self.pending)))

    def stored(self, certificate):
        """`certificate` with its PDF stored: from the pool, or rendered here."""
        if certificate.pk in self.pending:
            self._store(certificate.pk)
        elif not certificate.pdf and certificate.pk not in self.kept:
            try:
                sealed = sealed_certificate(certificate)
            except Exception as error:
                raise RenderFailed(certificate.number, error) from error
            return store_pdf(certificate.pk, sealed=sealed)
        return Certificate.objects.get(pk=certificate.pk)

    def _store(self, pk):
        number, future = self.pending.pop(pk)
        try:
            sealed = future.result()
        except Exception as error:  # raised in the worker, or the worker died
            raise RenderFailed(number, error) from error
        store_pdf(pk, sealed=sealed)
        self.kept.add(pk)
        _beat(self.job)
