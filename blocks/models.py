"""The referential of a certification, and the platform's audit trail.

Certification version > Bloc > Activity > Competence > Criterion, and
Bloc > EvaluationModality covering competences. A version is frozen once it
leaves the draft status: candidates are only ever enrolled on an active
version, so a version that has enrolments is frozen too.

The audit trail lives here because this app is the root of the pipeline:
every other app may write to it without anything flowing back.
"""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse

from .frozen import remembered


class ReferentialFrozen(ValidationError):
    """Raised when someone edits the structure of a frozen version."""


class CertificationVersionQuerySet(models.QuerySet):
    def active(self):
        return self.filter(status=CertificationVersion.Status.ACTIVE)

    def editable(self):
        return self.filter(status=CertificationVersion.Status.DRAFT)


class CertificationVersion(models.Model):
    class Status(models.TextChoices):
        DRAFT = "draft", "Brouillon"
        ACTIVE = "active", "Active"
        ARCHIVED = "archived", "Archivée"

    class ScaleKind(models.TextChoices):
        LEVELS = "levels", "Niveaux"
        NUMERIC = "numeric", "Note chiffrée"

    title = models.CharField("intitulé exact enregistré", max_length=255)
    certifier = models.CharField("certificateur", max_length=255)
    rncp_code = models.CharField("code RNCP", max_length=20, blank=True)
    registration_decision_date = models.DateField(
        "date de la décision d'enregistrement (France Compétences)",
        null=True,
        blank=True,
    )
    registration_end_date = models.DateField(
        "date de fin d'enregistrement au RNCP",
        null=True,
        blank=True,
        help_text="Un certificat ne peut être délivré pour une décision du jury postérieure "
        "à cette date que si le fondement juridique est consigné.",
    )
    national_level = models.CharField("niveau (nomenclature nationale)", max_length=50, blank=True)
    european_level = models.CharField("niveau européen (CEC)", max_length=50, blank=True)
    nsf_codes = models.CharField(
        "code(s) NSF", max_length=100, blank=True, help_text="Séparés par des virgules."
    )
    certificate_prefix = models.CharField(
        "préfixe des numéros de certificat",
        max_length=10,
        default="AP",
        help_text="Les certificats sont numérotés PRÉFIXE-ANNÉE-NUMÉRO, par exemple AP-2027-00042.",
    )
    issue_place = models.CharField("lieu de délivrance", max_length=100, blank=True)
    signatory_name = models.CharField(
        "signataire (dirigeant du certificateur ou délégataire)", max_length=150, blank=True
    )
    signatory_title = models.CharField("qualité du signataire", max_length=150, blank=True)
    signature_image = models.ImageField(
        "image de la signature",
        upload_to="signatures/",
        blank=True,
        help_text="Imprimée au-dessus du nom du signataire sur les certificats (PNG ou JPEG).",
    )
    # The Caisse des Dépôts' identifiers, needed for the CPF declaration (accrochage).
    cdc_issuer_id = models.CharField(
        "identifiant client de l'émetteur (CDC)", max_length=8, blank=True
    )
    cdc_certifier_id = models.CharField(
        "identifiant client du certificateur (CDC)", max_length=8, blank=True
    )
    cdc_contract_id = models.CharField("identifiant du contrat (CDC)", max_length=20, blank=True)
    certification_type = models.CharField(
        "type de certification (CDC)",
        max_length=255,
        default="RNCP",
        help_text="Déclaré avec le code RNCP, par exemple RNCP et RNCP35307.",
    )
    declare_blocs = models.BooleanField(
        "déclarer aussi les blocs validés au CPF",
        default=False,
        help_text="Sinon, seuls les titres obtenus sont déclarés.",
    )
    appeal_information = models.TextField(
        "voies de recours",
        blank=True,
        help_text="Imprimées sur la lettre de décision de chaque candidat : délai, adresse, "
        "modalités pour contester une décision du jury.",
    )
    version = models.CharField("version", max_length=50)
    status = models.CharField("statut", max_length=10, choices=Status.choices, default=Status.DRAFT)
    scale_kind = models.CharField(
        "échelle de notation",
        max_length=10,
        choices=ScaleKind.choices,
        default=ScaleKind.LEVELS,
    )
    numeric_max = models.PositiveSmallIntegerField("note maximale (échelle chiffrée)", default=20)
    numeric_pass_mark = models.PositiveSmallIntegerField(
        "note de réussite (échelle chiffrée)", default=10
    )
    competence_threshold = models.PositiveSmallIntegerField(
        "seuil d'acquisition d'une compétence (% des critères atteints)", default=100
    )
    note = models.TextField("note", blank=True)
    duplicated_from = models.ForeignKey(
        "self",
        verbose_name="dupliquée de",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="duplicates",
    )
    created_at = models.DateTimeField("créée le", auto_now_add=True)

    objects = CertificationVersionQuerySet.as_manager()

    class Meta:
        verbose_name = "version de certification"
        verbose_name_plural = "versions de certification"
        ordering = ["title", "version"]
        constraints = [
            models.UniqueConstraint(fields=["title", "version"], name="unique_version_label"),
            models.CheckConstraint(
                condition=Q(competence_threshold__gte=1, competence_threshold__lte=100),
                name="competence_threshold_is_a_percentage",
            ),
            models.CheckConstraint(
                condition=Q(numeric_pass_mark__lte=models.F("numeric_max")),
                name="pass_mark_within_scale",
            ),
        ]

    def __str__(self):
        return f"{self.title} ({self.version})"

    def get_absolute_url(self):
        return reverse("blocks:version", args=[self.pk])

    def delete(self, *args, **kwargs):
        self.ensure_editable()
        return super().delete(*args, **kwargs)

    @property
    def is_frozen(self):
        return self.status != self.Status.DRAFT

    @property
    def is_numeric_scale(self):
        return self.scale_kind == self.ScaleKind.NUMERIC

    def levels(self):
        """The grading levels, lowest first; read once per process once the version is frozen."""
        return remembered(self, "levels", lambda: tuple(self.grading_levels.all()))

    def scale_values(self):
        """The values a score may take on a level scale (None for a numeric scale)."""
        if self.is_numeric_scale:
            return None
        return [level.value for level in self.levels()]

    def disagreement_tolerance(self):
        """How far apart two assessors may be before it is flagged: one level on
        a level scale, a fifth of the maximum on a numeric scale."""
        if self.is_numeric_scale:
            return Decimal(self.numeric_max) / 5
        values = self.scale_values()
        return min((b - a for a, b in zip(values, values[1:], strict=False)), default=1)

    def ensure_editable(self):
        if self.is_frozen:
            raise ReferentialFrozen(
                f"La version « {self.version} » de « {self.title} » est figée "
                f"({self.get_status_display().lower()}) : sa structure ne peut plus être "
                "modifiée. Dupliquez-la en une nouvelle version brouillon."
            )


class GradingLevel(models.Model):
    """One level of a level scale, such as 2 « Acquis » (passing)."""

    certification_version = models.ForeignKey(
        CertificationVersion, on_delete=models.CASCADE, related_name="grading_levels"
    )
    value = models.PositiveSmallIntegerField("valeur")
    label = models.CharField("libellé", max_length=100)
    passing = models.BooleanField("niveau de réussite", default=False)

    class Meta:
        verbose_name = "niveau de l'échelle"
        verbose_name_plural = "niveaux de l'échelle"
        ordering = ["certification_version", "value"]
        constraints = [
            models.UniqueConstraint(
                fields=["certification_version", "value"], name="unique_level_value"
            ),
        ]

    def __str__(self):
        return f"{self.value} {self.label}"

    def save(self, *args, **kwargs):
        self.certification_version.ensure_editable()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self.certification_version.ensure_editable()
        return super().delete(*args, **kwargs)


class StructureItem(models.Model):
    """An element of a version's structure: editable only while it is a draft."""

    note = models.TextField(
        "note",
        blank=True,
        help_text="Précisions du référentiel source et choix d'interprétation, le cas échéant.",
    )

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        self.owning_version().ensure_editable()
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        self.owning_version().ensure_editable()
        return super().delete(*args, **kwargs)

    def owning_version(self):
        raise NotImplementedError


class Bloc(StructureItem):
    certification_version = models.ForeignKey(
        CertificationVersion, on_delete=models.CASCADE, related_name="blocs"
    )
    number = models.PositiveSmallIntegerField("numéro")
    title = models.CharField("intitulé", max_length=255)
    optional = models.BooleanField(
        "optionnel",
        default=False,
        help_text="Un bloc optionnel n'est pas requis pour le titre.",
    )
    validity_years = models.PositiveSmallIntegerField(
        "validité (années)",
        null=True,
        blank=True,
        help_text="Vide : validité illimitée.",
    )
    official_code = models.CharField(
        "code officiel du bloc",
        max_length=20,
        blank=True,
        validators=[
            RegexValidator(
                r"^RNCP\d{3,6}BC\d{2}$",
                "Le code d'un bloc s'écrit RNCP, le numéro de la fiche, BC et deux chiffres "
                "(par exemple RNCP35307BC01).",
            )
        ],
        help_text="Tel qu'il figure sur la fiche RNCP, par exemple RNCP35307BC01 ; "
        "imprimé sur le certificat du bloc.",
    )

    class Meta:
        verbose_name = "bloc de compétences"
        verbose_name_plural = "blocs de compétences"
        ordering = ["certification_version", "number"]
        constraints = [
            models.UniqueConstraint(
                fields=["certification_version", "number"], name="unique_bloc_number"
            ),
            models.CheckConstraint(condition=Q(number__gte=1), name="bloc_number_positive"),
        ]

    def __str__(self):
        return f"Bloc {self.number} : {self.title}"

    def get_absolute_url(self):
        return reverse("blocks:bloc", args=[self.certification_version_id, self.number])

    @property
    def short_label(self):
        return f"Bloc {self.number}"

    def owning_version(self):
        return self.certification_version


class BlocChild(StructureItem):
    """Activities and competences carry their version too, so that their codes
    are unique within the version in the database, not only within the bloc."""

    certification_version = models.ForeignKey(
        CertificationVersion, on_delete=models.CASCADE, related_name="+", editable=False
    )
    code = models.CharField("code", max_length=10)
    order = models.PositiveSmallIntegerField("ordre", default=0)

    class Meta:
        abstract = True
        ordering = ["order"]

    def __str__(self):
        return self.code

    def save(self, *args, **kwargs):
        self.certification_version_id = self.bloc.certification_version_id
        super().save(*args, **kwargs)

    def owning_version(self):
        return self.bloc.certification_version


class Activity(BlocChild):
    bloc = models.ForeignKey(Bloc, on_delete=models.CASCADE, related_name="activities")
    title = models.CharField("intitulé", max_length=500)
    tasks = models.JSONField("tâches", default=list, blank=True)

    class Meta(BlocChild.Meta):
        verbose_name = "activité"
        verbose_name_plural = "activités"
        constraints = [
            models.UniqueConstraint(
                fields=["certification_version", "code"], name="unique_activity_code"
            ),
        ]

    def __str__(self):
        return f"{self.code} {self.title}"


class Competence(BlocChild):
    bloc = models.ForeignKey(Bloc, on_delete=models.CASCADE, related_name="competences")
    activity = models.ForeignKey(
        Activity,
        on_delete=models.RESTRICT,
        related_name="competences",
        verbose_name="activité",
    )
    statement = models.TextField("énoncé")

    class Meta(BlocChild.Meta):
        verbose_name = "compétence"
        verbose_name_plural = "compétences"
        constraints = [
            models.UniqueConstraint(
                fields=["certification_version", "code"], name="unique_competence_code"
            ),
        ]

    def clean(self):
        if self.activity_id and self.bloc_id and self.activity.bloc_id != self.bloc_id:
            raise ValidationError(
                {"activity": "L'activité doit appartenir au même bloc que la compétence."}
            )


class Criterion(StructureItem):
    competence = models.ForeignKey(Competence, on_delete=models.CASCADE, related_name="criteria")
    label = models.TextField("libellé")
    order = models.PositiveSmallIntegerField("ordre", default=0)

    class Meta:
        verbose_name = "critère d'évaluation"
        verbose_name_plural = "critères d'évaluation"
        ordering = ["competence", "order"]
        constraints = [
            models.UniqueConstraint(fields=["competence", "order"], name="unique_criterion_order"),
        ]

    def __str__(self):
        return self.label

    def owning_version(self):
        return self.competence.bloc.certification_version


class EvaluationModality(StructureItem):
    class Kind(models.TextChoices):
        PROFESSIONAL_SITUATION = (
            "mise_en_situation",
            "Mise en situation professionnelle",
        )
        CASE_STUDY = "etude_de_cas", "Étude de cas"
        WRITTEN_TEST = "test_ecrit", "Test écrit"
        PRACTICAL_CASE = "cas_pratique", "Cas pratique"

    class AssessedBy(models.TextChoices):
        TRAINERS = "trainers", "Formateurs (épreuve écrite)"
        JURY = "jury", "Jury (épreuve orale)"

    bloc = models.ForeignKey(Bloc, on_delete=models.CASCADE, related_name="modalities")
    code = models.CharField("code", max_length=10)
    order = models.PositiveSmallIntegerField("ordre", default=0)
    kind = models.CharField("nature", max_length=20, choices=Kind.choices)
    title = models.CharField("intitulé", max_length=255)
    instructions = models.TextField("consignes", blank=True)
    competences = models.ManyToManyField(
        Competence, related_name="modalities", verbose_name="compétences évaluées"
    )
    group_work = models.BooleanField("travail de groupe", default=False)
    assessed_by = models.CharField(
        "évaluée par",
        max_length=10,
        choices=AssessedBy.choices,
        default=AssessedBy.TRAINERS,
    )

    class Meta:
        verbose_name = "modalité d'évaluation"
        verbose_name_plural = "modalités d'évaluation"
        ordering = ["bloc", "order"]
        constraints = [
            models.UniqueConstraint(fields=["bloc", "code"], name="unique_modality_code"),
        ]

    def __str__(self):
        return f"{self.code} {self.title}"

    def owning_version(self):
        return self.bloc.certification_version
