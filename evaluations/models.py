"""Exam sessions and the scores assessors give in them.

ExamSession (a modality held for a cohort) > Assessment (one candidate, one
attempt) > Grid (one assessor's scores for that candidate) > Score (one
criterion). Each assessor fills their own grid: two assessors never write the
same row, and a grid carries a revision number so that a stale save is
refused instead of overwriting newer scores.
"""

from django.conf import settings
from django.db import models
from django.db.models import Exists, OuterRef, Q
from django.urls import reverse

from blocks.models import Bloc, CertificationVersion, Criterion, EvaluationModality
from candidates.models import Cohort, Enrolment


class ExamSessionQuerySet(models.QuerySet):
    def for_assessor(self, user):
        return self.filter(assessors=user)


class ExamSession(models.Model):
    class Status(models.TextChoices):
        PLANNED = "planned", "Planifiée"
        OPEN = "open", "Ouverte à la notation"
        CLOSED = "closed", "Close"
        CANCELLED = "cancelled", "Annulée"

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
    jury = models.ForeignKey(
        "Jury",
        verbose_name="jury",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="sessions",
        help_text="Obligatoire pour une épreuve orale : ses membres votants la notent.",
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
    cancellation_reason = models.TextField("motif de l'annulation", blank=True)
    # What the candidates' convocations say beyond the date and place.
    convocation_time = models.TimeField("heure de convocation", null=True, blank=True)
    duration_minutes = models.PositiveSmallIntegerField("durée (minutes)", null=True, blank=True)
    convocation_instructions = models.TextField(
        "consignes aux candidats",
        blank=True,
        help_text="Imprimées sur les convocations : pièces à apporter, matériel, accès.",
    )
    # The form's one-time token: a second post of the same form (a double
    # click) finds the session the first one created instead of a second one.
    creation_token = models.UUIDField(null=True, blank=True, unique=True, editable=False)
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
    def short_label(self):
        return f"{self.modality.code} · {self.date:%d/%m/%Y}"

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
    # The session's modality, repeated so that the database itself keeps two
    # sessions of a modality from giving a candidate the same attempt number.
    modality = models.ForeignKey(
        EvaluationModality, on_delete=models.PROTECT, related_name="+", editable=False
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
            models.UniqueConstraint(
                fields=["enrolment", "modality", "attempt"], name="one_attempt_number_per_modality"
            ),
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


class AssessorReplacement(models.Model):
    """An assessor replaced in a session after grids were handed in: the
    replaced assessor's submitted grids still count for their candidates,
    their drafts are kept and count for nothing; the replacement marks the
    others."""

    session = models.ForeignKey(ExamSession, on_delete=models.PROTECT, related_name="replacements")
    replaced = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="évaluateur remplacé",
        on_delete=models.PROTECT,
        related_name="+",
    )
    replacement = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="remplaçant",
        on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.TextField("motif")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField("le", auto_now_add=True)

    class Meta:
        verbose_name = "remplacement d'évaluateur"
        verbose_name_plural = "remplacements d'évaluateurs"
        ordering = ["session", "recorded_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=~Q(reason=""), name="replacement_has_a_reason"),
        ]

    def __str__(self):
        return f"{self.replaced} remplacé(e) par {self.replacement} · {self.session}"


class AgreedScore(models.Model):
    """The value the assessors agreed on for a criterion where their submitted
    grids disagreed: it replaces their mean in the proposal."""

    assessment = models.ForeignKey(
        Assessment, on_delete=models.PROTECT, related_name="agreed_scores"
    )
    criterion = models.ForeignKey(
        Criterion, verbose_name="critère", on_delete=models.PROTECT, related_name="+"
    )
    value = models.DecimalField("note retenue", max_digits=5, decimal_places=2)
    reason = models.TextField("motif")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField("le", auto_now=True)

    class Meta:
        verbose_name = "note retenue après concertation"
        verbose_name_plural = "notes retenues après concertation"
        constraints = [
            models.UniqueConstraint(
                fields=["assessment", "criterion"], name="one_agreed_score_per_criterion"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="agreed_score_has_a_reason"),
        ]

    def __str__(self):
        return f"{self.criterion_id} : {self.value} (retenue)"


class Jury(models.Model):
    name = models.CharField("nom", max_length=150, unique=True)
    certification_version = models.ForeignKey(
        CertificationVersion,
        verbose_name="version de la certification",
        on_delete=models.PROTECT,
        related_name="juries",
    )
    date = models.DateField("date")
    place = models.CharField("lieu", max_length=200)
    created_at = models.DateTimeField("créé le", auto_now_add=True)

    class Meta:
        verbose_name = "jury"
        verbose_name_plural = "jurys"
        ordering = ["-date", "name"]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("evaluations:jury", args=[self.pk])


class JuryMember(models.Model):
    class Role(models.TextChoices):
        PRESIDENT = "president", "Président(e)"
        MEMBER = "member", "Membre"
        EXPERT = "expert", "Expert(e) sans voix délibérative"

    jury = models.ForeignKey(Jury, on_delete=models.CASCADE, related_name="members")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="personne",
        on_delete=models.PROTECT,
        related_name="jury_seats",
    )
    role = models.CharField("rôle", max_length=10, choices=Role.choices, default=Role.MEMBER)
    external = models.BooleanField("professionnel extérieur au centre de formation", default=False)
    organisation = models.CharField("organisme", max_length=200, blank=True)
    independence_declared_at = models.DateTimeField(
        "déclaration d'indépendance", null=True, blank=True
    )

    # The president first, then the members, then the experts.
    SEATING_ORDER = (
        models.Case(
            models.When(role=Role.PRESIDENT, then=0),
            models.When(role=Role.MEMBER, then=1),
            default=2,
        ),
        "user__last_name",
    )

    class Meta:
        verbose_name = "membre du jury"
        verbose_name_plural = "membres du jury"
        ordering = ["jury", "role", "user__last_name"]
        constraints = [
            models.UniqueConstraint(fields=["jury", "user"], name="one_seat_per_person"),
            models.UniqueConstraint(
                fields=["jury"], condition=Q(role="president"), name="one_president_per_jury"
            ),
        ]

    def __str__(self):
        return f"{self.user.get_full_name() or self.user.username} ({self.get_role_display()})"

    @property
    def votes(self):
        return self.role != self.Role.EXPERT

    @property
    def has_declared(self):
        return self.independence_declared_at is not None


class Recusal(models.Model):
    """A jury member standing aside for one candidate (they know them, for
    instance): they neither mark nor decide on that candidate."""

    member = models.ForeignKey(JuryMember, on_delete=models.PROTECT, related_name="recusals")
    enrolment = models.ForeignKey(
        Enrolment, verbose_name="inscription", on_delete=models.PROTECT, related_name="recusals"
    )
    reason = models.TextField("motif")
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    recorded_at = models.DateTimeField("le", auto_now_add=True)

    class Meta:
        verbose_name = "déport d'un membre du jury"
        verbose_name_plural = "déports de membres du jury"
        constraints = [
            models.UniqueConstraint(
                fields=["member", "enrolment"], name="one_recusal_per_candidate"
            ),
            models.CheckConstraint(condition=~Q(reason=""), name="recusal_has_a_reason"),
        ]

    def __str__(self):
        return f"{self.member} se déporte · {self.enrolment.candidate}"


class DeliberationQuerySet(models.QuerySet):
    def signed(self):
        return self.filter(status=Deliberation.Status.SIGNED)

    def in_force(self):
        """Signed deliberations that no signed rectifying PV replaces: what the
        juries build on (capitalisation)."""
        return self.signed().exclude(rectifications__status=Deliberation.Status.SIGNED)

    def effective(self):
        """Published PVs that no published rectifying PV replaces: the only
        results that reach candidates, certificates and the public."""
        replaced = Deliberation.objects.filter(
            rectifies=OuterRef("pk"),
            status=Deliberation.Status.SIGNED,
            published_at__isnull=False,
        )
        return self.signed().filter(published_at__isnull=False).exclude(Exists(replaced))


class DeliberationManager(models.Manager.from_queryset(DeliberationQuerySet)):
    def get_queryset(self):
        # The signed table is read on first use only: a list of PVs decodes none.
        return super().get_queryset().defer("signed_table")


class Deliberation(models.Model):
    class Status(models.TextChoices):
        OPEN = "open", "En cours"
        SIGNED = "signed", "Signée"

    jury = models.ForeignKey(Jury, on_delete=models.PROTECT, related_name="deliberations")
    cohort = models.ForeignKey(
        Cohort, verbose_name="promotion", on_delete=models.PROTECT, related_name="deliberations"
    )
    status = models.CharField("statut", max_length=10, choices=Status.choices, default=Status.OPEN)
    rectifies = models.ForeignKey(
        "self",
        verbose_name="rectifie le PV",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="rectifications",
    )
    rectification_reason = models.TextField("motif de la rectification", blank=True)
    held_on = models.DateField(
        "date de la réunion du jury", help_text="Le jour où le jury délibère."
    )
    added_blocs = models.ManyToManyField(
        Bloc,
        verbose_name="blocs ajoutés par le bureau",
        blank=True,
        related_name="+",
        help_text="Délibérés pour chaque candidat qui les suit, même sans épreuve passée.",
    )
    covered_assessments = models.ManyToManyField(
        "Assessment",
        verbose_name="épreuves délibérées",
        blank=True,
        related_name="deliberations",
        editable=False,
        help_text="Les tentatives sur lesquelles ce PV a statué, fixées à sa signature.",
    )
    opened_at = models.DateTimeField("ouverte le", auto_now_add=True)
    signed_at = models.DateTimeField("signée le", null=True, blank=True)
    published_at = models.DateTimeField("résultats publiés le", null=True, blank=True)
    minutes_pdf = models.FileField("procès-verbal (PDF)", upload_to="pv/", blank=True)
    # The table the jury signed (candidates, blocs, proposals, decisions,
    # justifications, capitalised blocs, members), stored at the last
    # signature: the page and every PV rendered later show exactly this.
    # About a kilobyte per candidate: deferred by the manager (DeliberationManager),
    # and by the lists of what points to deliberations; only the PV's own
    # page and files read it.
    signed_table = models.JSONField("tableau signé", null=True, blank=True, editable=False)
    # Every candidate's decision letter in one file, for the office to print
    # (made once, after publication).
    letters_pdf = models.FileField(
        "lettres de décision (PDF)", upload_to="lettres/", blank=True, editable=False
    )

    objects = DeliberationManager()

    class Meta:
        verbose_name = "délibération"
        verbose_name_plural = "délibérations"
        ordering = ["-opened_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(rectifies__isnull=True) | ~Q(rectification_reason=""),
                name="rectification_has_a_reason",
            ),
            models.CheckConstraint(
                condition=(Q(status="signed") & Q(signed_at__isnull=False))
                | (Q(status="open") & Q(signed_at__isnull=True)),
                name="signature_is_dated",
            ),
        ]

    def __str__(self):
        kind = "PV rectificatif" if self.rectifies_id else "Délibération"
        return f"{kind} n° {self.pk} · {self.jury} · {self.cohort}"

    def get_absolute_url(self):
        return reverse("evaluations:deliberation", args=[self.pk])

    @property
    def short_label(self):
        return f"Délibération n° {self.pk}"

    @property
    def is_signed(self):
        return self.status == self.Status.SIGNED


class BlocDecision(models.Model):
    class Decision(models.TextChoices):
        VALIDATED = "validated", "Validé"
        NOT_VALIDATED = "not_validated", "Non validé"
        POSTPONED = "postponed", "Ajourné"

    deliberation = models.ForeignKey(
        Deliberation, on_delete=models.PROTECT, related_name="decisions"
    )
    enrolment = models.ForeignKey(
        Enrolment, verbose_name="inscription", on_delete=models.PROTECT, related_name="decisions"
    )
    bloc = models.ForeignKey(Bloc, on_delete=models.PROTECT, related_name="+")
    proposed_validated = models.BooleanField("proposition : validé")
    decision = models.CharField("décision", max_length=15, choices=Decision.choices)
    justification = models.TextField("justification", blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    decided_at = models.DateTimeField("décidé le", auto_now=True)

    class Meta:
        verbose_name = "décision de bloc"
        verbose_name_plural = "décisions de bloc"
        ordering = ["deliberation", "bloc__number"]
        constraints = [
            models.UniqueConstraint(
                fields=["deliberation", "enrolment", "bloc"], name="one_decision_per_bloc"
            ),
            models.CheckConstraint(
                condition=~Q(justification="")
                | Q(decision="validated", proposed_validated=True)
                | (~Q(decision="validated") & Q(proposed_validated=False)),
                name="departure_from_proposal_is_justified",
            ),
        ]

    def __str__(self):
        return (
            f"Bloc {self.bloc.number} · {self.enrolment.candidate} : {self.get_decision_display()}"
        )

    @property
    def is_validated(self):
        return self.decision == self.Decision.VALIDATED


class MinutesSignature(models.Model):
    """A voting member's signature of the minutes; the president signs last."""

    deliberation = models.ForeignKey(
        Deliberation, on_delete=models.PROTECT, related_name="signatures"
    )
    member = models.ForeignKey(JuryMember, on_delete=models.PROTECT, related_name="signatures")
    signed_at = models.DateTimeField("signé le", auto_now_add=True)

    class Meta:
        verbose_name = "signature du procès-verbal"
        verbose_name_plural = "signatures du procès-verbal"
        constraints = [
            models.UniqueConstraint(
                fields=["deliberation", "member"], name="one_signature_per_member"
            ),
        ]

    def __str__(self):
        return f"{self.member} · {self.signed_at:%d/%m/%Y %H:%M}"


class DecisionLetter(models.Model):
    """The letter telling one candidate the jury's decisions of a published
    PV: rendered once from the signed table, after publication, and kept."""

    deliberation = models.ForeignKey(Deliberation, on_delete=models.PROTECT, related_name="letters")
    enrolment = models.ForeignKey(
        Enrolment, verbose_name="inscription", on_delete=models.PROTECT, related_name="letters"
    )
    pdf = models.FileField("lettre (PDF)", upload_to="lettres/", blank=True, editable=False)
    created_at = models.DateTimeField("créée le", auto_now_add=True)

    class Meta:
        verbose_name = "lettre de décision"
        verbose_name_plural = "lettres de décision"
        ordering = ["deliberation", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["deliberation", "enrolment"], name="one_letter_per_candidate_and_pv"
            ),
        ]

    def __str__(self):
        return f"Lettre de décision · PV n° {self.deliberation_id} · {self.enrolment.candidate}"
