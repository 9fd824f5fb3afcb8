"""Exam sessions and the scores assessors give in them.

ExamSession (a modality held for a cohort) > Assessment (one candidate, one
attempt) > Grid (one assessor's scores for that candidate) > Score (one
criterion). Each assessor fills their own grid: two assessors never write the
same row, and a grid carries a revision number so that a stale save is
refused instead of overwriting newer scores.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse

from blocks.models import Criterion, EvaluationModality
from candidates.models import Cohort, Enrolment


class ExamSessionQuerySet(models.QuerySet):
    def for_assessor(self, user):
        return self.filter(assessors=user)


class ExamSession(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", "Planifiée"
        OPEN = "open", "Ouverte à la notation"
        CLOSED = "closed", "Close"

    modality = models.ForeignKey(
        EvaluationModality,
        verbose_name="modalité d'évaluation",
        on_delete=models.PROTECT,
        related_name="sessions",
    )
    cohort = models.ForeignKey(
        Cohort, verbose_name="promotion", on_delete=models.PROTECT, related_name="sessions"
    )
    date = models.DateField("date")
    place = models.CharField("lieu", max_length=200)
    assessors = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name="évaluateurs", related_name="exam_sessions"
    )
    lead = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="responsable de la session",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="led_sessions",
    )
    status = models.CharField(
        "statut", max_length=10, choices=Status.choices, default=Status.PLANNED
    )
    created_at = models.DateTimeField("créée le", auto_now_add=True)

    objects = ExamSessionQuerySet.as_manager()

    class Meta:
        verbose_name = "session d'examen"
        verbose_name_plural = "sessions d'examen"
        ordering = ["-date", "pk"]

    def __str__(self):
        return f"{self.modality.code} {self.modality.title} · {self.cohort} · {self.date:%d/%m/%Y}"

    def get_absolute_url(self):
        return reverse("evaluations:session", args=[self.pk])

    @property
    def is_open(self):
        return self.status == self.Status.OPEN


class Assessment(models.Model):
    """One candidate in one session; a re-sit is a new assessment, the earlier kept."""

    session = models.ForeignKey(
        ExamSession, verbose_name="session", on_delete=models.PROTECT, related_name="assessments"
    )
    enrolment = models.ForeignKey(
        Enrolment, verbose_name="inscription", on_delete=models.PROTECT, related_name="assessments"
    )
    attempt = models.PositiveSmallIntegerField("tentative", default=1)
    present = models.BooleanField("présent", default=True)

    class Meta:
        verbose_name = "évaluation"
        verbose_name_plural = "évaluations"
        ordering = ["session", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "enrolment"], name="one_assessment_per_session"
            ),
            models.CheckConstraint(condition=Q(attempt__gte=1), name="attempt_from_one"),
        ]

    def __str__(self):
        return f"{self.enrolment.candidate} · {self.session}"

    def get_absolute_url(self):
        return reverse("evaluations:grid", args=[self.pk])


class Grid(models.Model):
    """One assessor's scores for one assessment."""

    class Status(models.TextChoices):
        DRAFT = "draft", "Brouillon"
        SUBMITTED = "submitted", "Remise"

    assessment = models.ForeignKey(
        Assessment, verbose_name="évaluation", on_delete=models.PROTECT, related_name="grids"
    )
    assessor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="évaluateur",
        on_delete=models.PROTECT,
        related_name="grids",
    )
    status = models.CharField("statut", max_length=10, choices=Status.choices, default=Status.DRAFT)
    overall_comment = models.TextField("commentaire général", blank=True)
    revision = models.PositiveIntegerField("révision", default=0)
    submitted_at = models.DateTimeField("remise le", null=True, blank=True)
    updated_at = models.DateTimeField("modifiée le", auto_now=True)

    class Meta:
        verbose_name = "grille"
        verbose_name_plural = "grilles"
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "assessor"], name="one_grid_per_assessor"
            ),
            models.CheckConstraint(
                condition=(Q(status="submitted") & Q(submitted_at__isnull=False))
                | (Q(status="draft") & Q(submitted_at__isnull=True)),
                name="submission_is_dated",
            ),
        ]

    def __str__(self):
        return f"Grille de {self.assessor} · {self.assessment}"

    @property
    def is_submitted(self):
        return self.status == self.Status.SUBMITTED


class Score(models.Model):
    grid = models.ForeignKey(Grid, on_delete=models.PROTECT, related_name="scores")
    criterion = models.ForeignKey(
        Criterion, verbose_name="critère", on_delete=models.PROTECT, related_name="+"
    )
    value = models.DecimalField("note", max_digits=5, decimal_places=2, null=True, blank=True)
    comment = models.TextField("commentaire", blank=True)

    class Meta:
        verbose_name = "note"
        verbose_name_plural = "notes"
        constraints = [
            models.UniqueConstraint(fields=["grid", "criterion"], name="one_score_per_criterion"),
        ]

    def __str__(self):
        return f"{self.criterion_id} : {self.value}"
