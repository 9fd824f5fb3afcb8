"""Candidates, promotions (cohorts) and enrolments.

A candidate's identity carries what a certificate and the later CPF
declaration (Caisse des Dépôts) need. An enrolment is never deleted: a
withdrawal keeps it, with its date and reason. A pending import is the
opposite: a file kept only between its preview and its confirmation.
"""

import unicodedata

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import RegexValidator
from django.db import models
from django.db.models import F, Q, Value
from django.db.models.functions import Coalesce, Lower, NullIf
from django.urls import reverse
from django.utils import timezone

from blocks.models import Bloc, CertificationVersion
from core import roles
from core.collation import French


def identity_key(birth_name, first_names, birth_date):
    """How two identity records are recognised as the same person: case,
    accents and spacing aside."""

    def fold(text):
        text = unicodedata.normalize("NFKD", text or "")
        text = "".join(c for c in text if not unicodedata.combining(c))
        return " ".join(text.replace("-", " ").casefold().split())

    return (fold(birth_name), fold(first_names), birth_date)


def name_ordering(prefix=""):
    """The order of names as shown: usage name, else birth name, then first
    names, in French order (core.collation: Çelik next to Celik, Périer before
    Perrin)."""
    name = Coalesce(NullIf(f"{prefix}usage_name", Value("")), f"{prefix}birth_name")
    return [French(name), French(f"{prefix}first_names")]


class CandidateQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The office sees everyone; a trainer the candidates of the cohorts
        they teach; a candidate only themselves."""
        if roles.is_admin(user):
            return self
        if roles.has_role(user, roles.TRAINER):
            return self.filter(
                pk__in=Enrolment.objects.filter(cohort__trainers=user).values("candidate")
            )
        if roles.has_role(user, roles.CANDIDATE):
            return self.filter(user=user)
        return self.none()


class Candidate(models.Model):
    class Sex(models.TextChoices):
        FEMALE = "F", "Féminin"
        MALE = "M", "Masculin"

    birth_name = models.CharField("nom de naissance", max_length=150)
    usage_name = models.CharField("nom d'usage", max_length=150, blank=True)
    first_names = models.CharField(
        "prénoms", max_length=150, help_text="Tous les prénoms, dans l'ordre de l'état civil."
    )
    sex = models.CharField("sexe", max_length=1, choices=Sex.choices)
    birth_date = models.DateField("date de naissance")
    birth_commune = models.CharField("commune de naissance", max_length=150, blank=True)
    birth_insee_code = models.CharField(
        "code INSEE de la commune de naissance",
        max_length=5,
        blank=True,
        validators=[
            RegexValidator(
                r"^(\d{5}|2[AB]\d{3})$", "Un code INSEE compte 5 caractères (ex. 75056, 2A004)."
            )
        ],
    )
    birth_country = models.CharField("pays de naissance (hors France)", max_length=100, blank=True)
    email = models.EmailField("adresse électronique", blank=True)
    phone = models.CharField("téléphone", max_length=30, blank=True)
    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="compte",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="candidate",
    )
    created_at = models.DateTimeField("créé le", auto_now_add=True)

    objects = CandidateQuerySet.as_manager()

    class Meta:
        verbose_name = "candidat"
        verbose_name_plural = "candidats"
        ordering = name_ordering()
        constraints = [
            models.UniqueConstraint(
                Lower("birth_name"),
                Lower("first_names"),
                "birth_date",
                name="unique_identity",
                violation_error_message=(
                    "Un candidat de même nom de naissance, prénoms et date de naissance "
                    "existe déjà."
                ),
            ),
            models.UniqueConstraint(
                fields=["email"],
                condition=~Q(email=""),
                name="unique_candidate_email",
                violation_error_message="Cette adresse électronique est déjà celle d'un candidat.",
            ),
            models.CheckConstraint(
                condition=(Q(birth_country="") & ~Q(birth_insee_code=""))
                | (~Q(birth_country="") & Q(birth_insee_code="")),
                name="born_in_a_french_commune_or_abroad",
            ),
        ]

    def __str__(self):
        return self.full_name

    def get_absolute_url(self):
        return reverse("candidates:candidate", args=[self.pk])

    def clean(self):
        if bool(self.birth_insee_code) == bool(self.birth_country):
            raise ValidationError(
                "Né(e) en France : indiquez le code INSEE de la commune de naissance ; "
                "né(e) à l'étranger : indiquez le pays de naissance (l'un ou l'autre)."
            )

    @property
    def full_name(self):
        return candidate_name(self.usage_name, self.birth_name, self.first_names)

    @property
    def identity_key(self):
        return identity_key(self.birth_name, self.first_names, self.birth_date)


# The fields candidate_name takes, in its order: what a list reads of a candidate.
NAME_FIELDS = ("usage_name", "birth_name", "first_names")


def candidate_name(usage_name, birth_name, first_names):
    """How a candidate is named everywhere: the usage name when there is one,
    then the first names; for lists read as plain rows, without an instance."""
    return f"{usage_name or birth_name} {first_names}"


class CohortQuerySet(models.QuerySet):
    def visible_to(self, user):
        if roles.is_admin(user):
            return self
        if roles.has_role(user, roles.TRAINER):
            return self.filter(trainers=user)
        return self.none()


class Cohort(models.Model):
    name = models.CharField("nom", max_length=150, unique=True)
    certification_version = models.ForeignKey(
        CertificationVersion,
        verbose_name="version de la certification",
        on_delete=models.PROTECT,
        related_name="cohorts",
    )
    start_date = models.DateField("début")
    end_date = models.DateField("fin")
    trainers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name="formateurs", blank=True, related_name="cohorts"
    )
    created_at = models.DateTimeField("créée le", auto_now_add=True)

    objects = CohortQuerySet.as_manager()

    class Meta:
        verbose_name = "promotion"
        verbose_name_plural = "promotions"
        ordering = ["-start_date", "name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(end_date__gte=F("start_date")), name="cohort_ends_after_it_starts"
            ),
        ]

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("candidates:cohort", args=[self.pk])


class EnrolmentQuerySet(models.QuerySet):
    def visible_to(self, user):
        """Need to know: the office sees every enrolment; a trainer only those
        of the cohorts they teach (not a shared candidate's enrolment, nor
        withdrawal, elsewhere); a candidate their own."""
        if roles.is_admin(user):
            return self
        if roles.has_role(user, roles.TRAINER):
            return self.filter(cohort__in=Cohort.objects.visible_to(user))
        if roles.has_role(user, roles.CANDIDATE):
            return self.filter(candidate__user=user)
        return self.none()


class Enrolment(models.Model):
    class AccessRoute(models.TextChoices):
        INITIAL = "formation_initiale", "Formation initiale hors apprentissage"
        APPRENTICESHIP = "apprentissage", "Apprentissage"
        CONTINUING = (
            "formation_continue",
            ("Formation continue hors contrat de professionnalisation"),
        )
        PROFESSIONALISATION = "contrat_professionnalisation", "Contrat de professionnalisation"
        VAE = "vae", "VAE"
        FOREIGN_DIPLOMA = "equivalence_diplome_etranger", "Équivalence de diplôme étranger"
        INDEPENDENT = "candidat_libre", "Candidat libre"

    class VaeRoute(models.TextChoices):
        LEAVE = "conge_vae", "Congé VAE"
        CLASSIC = "vae_classique", "VAE classique"

    class Initiative(models.TextChoices):
        HOLDER = "candidat", "Le candidat lui-même"
        TRAINING_BODY = "organisme", "L'organisme de formation"
        EMPLOYMENT_AGENCY = "france_travail", "France Travail (ex-Pôle emploi)"
        EMPLOYER = "employeur", "L'employeur"
        OTHER = "autre", "Autre"

    class Status(models.TextChoices):
        ENROLLED = "enrolled", "Inscrit"
        WITHDRAWN = "withdrawn", "Retiré"

    candidate = models.ForeignKey(
        Candidate, verbose_name="candidat", on_delete=models.PROTECT, related_name="enrolments"
    )
    cohort = models.ForeignKey(
        Cohort, verbose_name="promotion", on_delete=models.PROTECT, related_name="enrolments"
    )
    access_route = models.CharField("voie d'accès", max_length=30, choices=AccessRoute.choices)
    vae_route = models.CharField("type de VAE", max_length=20, choices=VaeRoute.choices, blank=True)
    registration_initiative = models.CharField(
        "inscription à l'initiative de", max_length=20, choices=Initiative.choices, blank=True
    )
    registration_date = models.DateField(
        "date d'inscription à la certification", null=True, blank=True
    )
    optional_blocs = models.ManyToManyField(
        Bloc, verbose_name="blocs optionnels choisis", blank=True, related_name="+"
    )
    status = models.CharField(
        "statut", max_length=10, choices=Status.choices, default=Status.ENROLLED
    )
    withdrawn_at = models.DateTimeField("retiré le", null=True, blank=True)
    withdrawal_reason = models.TextField("motif du retrait", blank=True)
    created_at = models.DateTimeField("inscrit le", auto_now_add=True)

    objects = EnrolmentQuerySet.as_manager()

    class Meta:
        verbose_name = "inscription"
        verbose_name_plural = "inscriptions"
        ordering = ["cohort", *name_ordering("candidate__")]
        constraints = [
            models.UniqueConstraint(
                fields=["candidate", "cohort"], name="one_enrolment_per_cohort"
            ),
            models.CheckConstraint(
                condition=(Q(status="withdrawn") & Q(withdrawn_at__isnull=False))
                | (Q(status="enrolled") & Q(withdrawn_at__isnull=True)),
                name="withdrawal_is_dated",
            ),
            models.CheckConstraint(
                condition=Q(access_route="vae") | Q(vae_route=""),
                name="vae_route_only_for_vae",
            ),
        ]

    def __str__(self):
        return f"{self.candidate} · {self.cohort}"

    @property
    def is_active(self):
        return self.status == self.Status.ENROLLED


class PendingImportQuerySet(models.QuerySet):
    def expired(self, now=None):
        return self.filter(expires_at__lte=now or timezone.now())

    def awaiting(self, *, token, owner, cohort, now=None):
        """The import its owner previewed for this cohort under `token`, if not expired."""
        return self.filter(
            token=token, owner=owner, cohort=cohort, expires_at__gt=now or timezone.now()
        )


class PendingImport(models.Model):
    """A file uploaded to import a promotion, kept between its preview and the
    owner's confirmation, then deleted: a transient working file, not a record.

    The file's bytes are kept in the database rather than under MEDIA_ROOT: the
    app processes of a production setup may run on several machines sharing
    only PostgreSQL; the bytes disappear in the same transaction as the import
    that applies them (no orphan file on a disk, no clean-up after commit); and
    the file is small (the upload form caps it at 5 Mo)."""

    cohort = models.ForeignKey(
        Cohort, verbose_name="promotion", on_delete=models.CASCADE, related_name="+"
    )
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="déposé par",
        on_delete=models.CASCADE,
        related_name="+",
    )
    filename = models.CharField("nom du fichier", max_length=255)
    content = models.BinaryField("contenu du fichier")
    token = models.CharField("jeton", max_length=64, unique=True)
    created_at = models.DateTimeField("déposé le", auto_now_add=True)
    expires_at = models.DateTimeField("expire le")

    objects = PendingImportQuerySet.as_manager()

    class Meta:
        verbose_name = "import en attente de confirmation"
        verbose_name_plural = "imports en attente de confirmation"
        ordering = ["-created_at"]

    def __str__(self):
        return self.filename


class CivilStatusReport(models.Model):
    """A candidate tells the office that their civil status is wrong (a name,
    a birth date): the office reads it on the candidate's page and corrects
    the record itself."""

    candidate = models.ForeignKey(
        Candidate,
        verbose_name="candidat",
        on_delete=models.PROTECT,
        related_name="civil_status_reports",
    )
    message = models.TextField("erreur signalée")
    reported_at = models.DateTimeField("signalée le", auto_now_add=True)
    reported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="signalée par",
        on_delete=models.PROTECT,
        related_name="+",
    )
    closed_at = models.DateTimeField("traitée le", null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="traitée par",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    answer = models.TextField("réponse du bureau", blank=True)

    class Meta:
        verbose_name = "signalement d'état civil"
        verbose_name_plural = "signalements d'état civil"
        ordering = ["-reported_at", "-pk"]

    def __str__(self):
        return f"{self.candidate} · {self.reported_at:%d/%m/%Y}"
