"""Certificates: a bloc certificate for a validated bloc, or the title's
parchment once every mandatory bloc is validated.

A certificate is an immutable record: its number, its verification code and
a snapshot of every printed mention are fixed at issue. It is never deleted;
it can only be revoked (with a reason) or superseded by a re-issue.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from blocks.models import Bloc
from candidates.models import Candidate, Enrolment
from evaluations.models import BlocDecision, Deliberation


class CertificateCounter(models.Model):
    """The last number given in a year; its row is locked while a number is taken."""

    year = models.PositiveSmallIntegerField(unique=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = "compteur de certificats"

    def __str__(self):
        return f"{self.year} : {self.last}"


class CertificateQuerySet(models.QuerySet):
    def valid(self):
        return self.filter(status=Certificate.Status.VALID)

    def public(self):
        """What the holder and the public may see: certificates of a PV whose
        results were published. Issuing requires it; this also keeps out any
        certificate issued before that rule."""
        return self.filter(deliberation__published_at__isnull=False)


class Certificate(models.Model):
    class Kind(models.TextChoices):
        BLOC = "bloc", "Certificat de bloc de compétences"
        TITLE = "title", "Parchemin du titre"

    class Status(models.TextChoices):
        VALID = "valid", "Valide"
        REVOKED = "revoked", "Révoqué"
        SUPERSEDED = "superseded", "Remplacé"

    kind = models.CharField("nature", max_length=10, choices=Kind.choices)
    number = models.CharField("numéro", max_length=30, unique=True)
    year = models.PositiveSmallIntegerField("année")
    sequence = models.PositiveIntegerField("rang dans l'année")
    verification_code = models.CharField("code de vérification", max_length=64, unique=True)
    candidate = models.ForeignKey(
        Candidate, verbose_name="titulaire", on_delete=models.PROTECT, related_name="certificates"
    )
    enrolment = models.ForeignKey(Enrolment, on_delete=models.PROTECT, related_name="+")
    bloc = models.ForeignKey(
        Bloc, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    decision = models.ForeignKey(
        BlocDecision, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    deliberation = models.ForeignKey(
        Deliberation,
        verbose_name="procès-verbal",
        on_delete=models.PROTECT,
        related_name="certificates",
    )
    mentions = models.JSONField("mentions imprimées")
    status = models.CharField("statut", max_length=12, choices=Status.choices, default=Status.VALID)
    issued_at = models.DateTimeField("délivré le", auto_now_add=True)
    issued_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    revoked_at = models.DateTimeField("révoqué le", null=True, blank=True)
    revocation_reason = models.TextField("motif de la révocation", blank=True)
    superseded_by = models.OneToOneField(
        "self",
        verbose_name="remplacé par",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="supersedes",
    )
    pdf = models.FileField("PDF", upload_to="certificats/", blank=True)
    # The SHA-256 of the stored (sealed) file: a dropped PDF is the issued
    # document exactly when its hash is this one.
    pdf_sha256 = models.CharField("empreinte SHA-256 du PDF", max_length=64, blank=True)
    legal_basis = models.TextField(
        "fondement juridique d'une délivrance après la fin d'enregistrement", blank=True
    )

    objects = CertificateQuerySet.as_manager()

    class Meta:
        verbose_name = "certificat"
        verbose_name_plural = "certificats"
        ordering = ["-year", "-sequence"]
        constraints = [
            models.UniqueConstraint(fields=["year", "sequence"], name="one_number_per_rank"),
            models.UniqueConstraint(
                fields=["candidate", "bloc"],
                condition=Q(status="valid", kind="bloc"),
                name="one_valid_certificate_per_bloc",
            ),
            models.UniqueConstraint(
                fields=["candidate"],
                condition=Q(status="valid", kind="title"),
                name="one_valid_title_per_candidate",
            ),
            models.CheckConstraint(
                condition=(Q(kind="bloc") & Q(bloc__isnull=False) & Q(decision__isnull=False))
                | (Q(kind="title") & Q(bloc__isnull=True)),
                name="bloc_certificate_names_its_bloc",
            ),
            models.CheckConstraint(
                condition=~Q(status="revoked")
                | (Q(revoked_at__isnull=False) & ~Q(revocation_reason="")),
                name="revocation_is_dated_and_reasoned",
            ),
        ]

    def __str__(self):
        return f"{self.number} · {self.mentions.get('holder_name', '')}"

    def get_absolute_url(self):
        return reverse("certification:certificate", args=[self.number])

    def get_verification_url(self):
        return reverse("certification:verify", args=[self.verification_code])

    @property
    def public_url(self):
        return settings.PUBLIC_BASE_URL + self.get_verification_url()


class PrintJob(models.Model):
    """The office's printing of every certificate a published PV in force makes
    due: `total` is what was due when it ran, `done` what it issued, and
    `certificates`, its PDF and its ZIP hold exactly those."""

    class Status(models.TextChoices):
        PENDING = "pending", "En attente"
        RUNNING = "running", "En cours"
        DONE = "done", "Terminé"
        FAILED = "failed", "Échec"

    ACTIVE = (Status.PENDING, Status.RUNNING)

    deliberation = models.ForeignKey(
        Deliberation, on_delete=models.PROTECT, related_name="print_jobs"
    )
    status = models.CharField(
        "statut", max_length=10, choices=Status.choices, default=Status.PENDING
    )
    total = models.PositiveIntegerField("certificats à produire", default=0)
    done = models.PositiveIntegerField("certificats produits", default=0)
    certificates = models.ManyToManyField(Certificate, related_name="+", blank=True)
    merged_pdf = models.FileField("PDF à imprimer", upload_to="impressions/", blank=True)
    archive = models.FileField("archive ZIP", upload_to="impressions/", blank=True)
    error = models.TextField("erreur", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("demandé le", auto_now_add=True)
    # The worker that runs the job claims an attempt (a resumed job is a new
    # attempt), and says it is alive at every certificate: a "running" job
    # whose heartbeat is too old had its worker die (printing.STALE_AFTER).
    attempt = models.PositiveIntegerField("tentative", default=0)
    started_at = models.DateTimeField("commencé le", null=True, blank=True)
    heartbeat_at = models.DateTimeField("dernier signe de vie", null=True, blank=True)

    class Meta:
        verbose_name = "impression de certificats"
        verbose_name_plural = "impressions de certificats"
        ordering = ["-created_at"]
        constraints = [
            # One job at a time per PV: a second one is answered "already running".
            models.UniqueConstraint(
                fields=["deliberation"],
                condition=Q(status__in=["pending", "running"]),
                name="one_active_print_job_per_deliberation",
            )
        ]

    def __str__(self):
        return f"Impression n° {self.pk} · {self.deliberation}"

    def get_absolute_url(self):
        return reverse("certification:print_job", args=[self.pk])

    @property
    def percent(self):
        return 100 if not self.total else round(100 * self.done / self.total)

    @property
    def is_active(self):
        return self.status in self.ACTIVE

    @property
    def can_resume(self):
        return self.status == self.Status.FAILED


class DeclarationFlow(models.Model):
    """One XML file of the CPF declaration (accrochage) to the Caisse des
    Dépôts: generated once, validated against the schema, kept as sent."""

    number = models.PositiveIntegerField("numéro", unique=True)
    flow_id = models.CharField("identifiant du flux", max_length=50, unique=True)
    issuer_id = models.CharField("identifiant client de l'émetteur", max_length=8)
    generated_at = models.DateTimeField("généré le")
    generated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="généré par",
        on_delete=models.PROTECT,
        related_name="+",
    )
    xml = models.FileField("fichier XML", upload_to="cpf/")

    class Meta:
        verbose_name = "flux de déclaration CPF"
        verbose_name_plural = "flux de déclaration CPF"
        ordering = ["-number"]

    def __str__(self):
        return f"Flux n° {self.number} ({self.flow_id})"


class DeclaredPassage(models.Model):
    """A certificate declared in a flow (a `passageCertification`), and what
    the Caisse des Dépôts answered. A rejected passage is declared again in a
    later flow, with the same technical id: one row per flow."""

    class Outcome(models.TextChoices):
        PENDING = "pending", "Déclaré, en attente du traitement"
        ACCEPTED = "accepted", "Accepté"
        REJECTED = "rejected", "Rejeté"

    flow = models.ForeignKey(
        DeclarationFlow, verbose_name="flux", on_delete=models.PROTECT, related_name="passages"
    )
    certificate = models.ForeignKey(
        Certificate,
        verbose_name="certificat",
        on_delete=models.PROTECT,
        related_name="declared_passages",
    )
    technical_id = models.CharField("identifiant technique", max_length=255)
    outcome = models.CharField(
        "résultat du traitement", max_length=10, choices=Outcome.choices, default=Outcome.PENDING
    )
    outcome_reason = models.TextField("motif du rejet", blank=True)
    outcome_recorded_at = models.DateTimeField("résultat enregistré le", null=True, blank=True)
    outcome_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="résultat enregistré par",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    # A declared certificate later revoked must be corrected with the Caisse
    # des Dépôts; the office notes here when it has done so.
    correction_noted_at = models.DateTimeField("correction signalée le", null=True, blank=True)
    correction_note = models.TextField("correction auprès de la CDC", blank=True)

    class Meta:
        verbose_name = "passage déclaré"
        verbose_name_plural = "passages déclarés"
        ordering = ["flow", "technical_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["flow", "certificate"], name="one_passage_per_certificate_and_flow"
            ),
            models.CheckConstraint(
                condition=~Q(outcome="rejected") | ~Q(outcome_reason=""),
                name="rejection_has_a_reason",
            ),
        ]

    def __str__(self):
        return f"{self.technical_id} · {self.flow}"
