"""The audit log every app writes to: who changed what, when, in French words."""

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models


class Action(models.TextChoices):
    """Every kind of change the platform audits: its code, stored, and what it
    means in French, shown in the histories."""

    REFERENTIAL_CREATED = "blocks.referential.created", "référentiel chargé"
    REFERENTIAL_REPLACED = "blocks.referential.replaced", "référentiel brouillon remplacé"
    VERSION_ACTIVATED = "blocks.version.activated", "version du référentiel activée"
    VERSION_ARCHIVED = "blocks.version.archived", "version du référentiel archivée"
    VERSION_DUPLICATED = "blocks.version.duplicated", "version du référentiel dupliquée"
    CANDIDATE_CREATED = "candidates.candidate.created", "fiche candidat créée"
    CANDIDATE_CHANGED = "candidates.candidate.changed", "fiche candidat modifiée"
    CANDIDATE_INVITED = "candidates.candidate.invited", "candidat invité"
    PERSON_CREATED = "core.person.created", "compte créé"
    PERSON_CHANGED = "core.person.changed", "compte modifié"
    PERSON_INVITED = "core.person.invited", "invitation envoyée"
    CANDIDATE_IMPORTED = "candidates.candidate.imported", "candidat créé par import"
    COHORT_CREATED = "candidates.cohort.created", "promotion créée"
    COHORT_CHANGED = "candidates.cohort.changed", "promotion modifiée"
    ENROLMENT_CREATED = "candidates.enrolment.created", "inscription"
    ENROLMENT_IMPORTED = "candidates.enrolment.imported", "inscription par import"
    ENROLMENT_WITHDRAWN = "candidates.enrolment.withdrawn", "retrait de l'inscription"
    IMPORT_APPLIED = "candidates.import.applied", "import d'une promotion"
    JURY_CREATED = "evaluations.jury.created", "jury créé"
    JURY_CHANGED = "evaluations.jury.changed", "jury modifié"
    JURY_MEMBER_ADDED = "evaluations.jury.member_added", "membre ajouté au jury"
    JURY_MEMBER_REPLACED = "evaluations.jury.member_replaced", "membre du jury remplacé"
    JURY_MEMBER_REMOVED = "evaluations.jury.member_removed", "membre retiré du jury"
    RECUSAL_RECORDED = "evaluations.jury.recusal", "membre du jury déporté pour un candidat"
    INDEPENDENCE_DECLARED = "evaluations.jury.independence_declared", "indépendance déclarée"
    SESSION_CREATED = "evaluations.session.created", "session d'examen créée"
    SESSION_STATUS_CHANGED = "evaluations.session.status_changed", "statut de la session changé"
    SESSION_CHANGED = "evaluations.session.changed", "session d'examen modifiée"
    SESSION_CANCELLED = "evaluations.session.cancelled", "session d'examen annulée"
    ASSESSOR_REPLACED = "evaluations.session.assessor_replaced", "évaluateur remplacé"
    PRESENCE_CHANGED = "evaluations.assessment.presence_changed", "présence modifiée"
    SCORE_CHANGED = "evaluations.score.changed", "note modifiée"
    GRID_COMMENT_CHANGED = "evaluations.grid.comment_changed", "commentaire général modifié"
    GRID_SUBMITTED = "evaluations.grid.submitted", "grille remise"
    AGREED_SCORE_RECORDED = "evaluations.score.agreed", "note retenue après concertation"
    DELIBERATION_OPENED = "evaluations.deliberation.opened", "délibération ouverte"
    DECISION_RECORDED = "evaluations.decision.recorded", "décision du jury enregistrée"
    MINUTES_SIGNED = "evaluations.minutes.signed", "procès-verbal signé"
    DELIBERATION_CLOSED = "evaluations.deliberation.closed", "délibération close"
    RECTIFICATION_OPENED = "evaluations.deliberation.rectification_opened", "PV rectificatif ouvert"
    RESULTS_PUBLISHED = "evaluations.results.published", "résultats publiés"
    PRINT_REQUESTED = "certification.print.requested", "impression demandée"
    CERTIFICATE_ISSUED = "certification.certificate.issued", "certificat délivré"
    CERTIFICATE_REVOKED = "certification.certificate.revoked", "certificat révoqué"
    CERTIFICATE_ISSUED_AGAIN = (
        "certification.certificate.issued_again",
        "certificat délivré à nouveau après une révocation",
    )
    CERTIFICATE_SUPERSEDED = (
        "certification.certificate.superseded",
        "certificat remplacé par une réédition",
    )
    ACCOUNT_ROLES_CHANGED = "core.account.roles_changed", "rôles du compte modifiés"
    ACCOUNT_DEACTIVATED = "core.account.deactivated", "compte désactivé"
    ACCOUNT_REACTIVATED = "core.account.reactivated", "compte réactivé"
    ACCOUNT_DELETED = "core.account.deleted", "compte supprimé"
    LOGIN_FAILED = "core.login.failed", "échec de connexion"
    LOGIN_LOCKED_OUT = "core.login.locked_out", "connexion bloquée après des échecs répétés"
    MENTIONS_CHANGED = "blocks.version.mentions_changed", "mentions du certificat modifiées"
    ENROLMENT_REGISTRATION_CHANGED = (
        "candidates.enrolment.registration_changed",
        "modalités d'inscription modifiées",
    )
    PASSWORD_CHANGED = "core.account.password_changed", "mot de passe changé"
    CIVIL_STATUS_REPORTED = (
        "candidates.candidate.civil_status_reported",
        "erreur d'état civil signalée",
    )
    CIVIL_STATUS_REPORT_CLOSED = (
        "candidates.candidate.civil_status_report_closed",
        "signalement d'état civil traité",
    )
    CPF_FLOW_GENERATED = "certification.cpf.flow_generated", "flux de déclaration CPF généré"
    CPF_OUTCOME_RECORDED = (
        "certification.cpf.outcome_recorded",
        "résultat du traitement CPF enregistré",
    )
    CPF_CORRECTION_NOTED = (
        "certification.cpf.correction_noted",
        "correction de la déclaration CPF signalée",
    )


class Profile(models.Model):
    """What the platform knows of a trainer or a jury member beyond their
    account: the organisation an external professional comes from."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        verbose_name="compte",
        on_delete=models.PROTECT,
        related_name="profile",
    )
    organisation = models.CharField("organisme", max_length=200, blank=True)
    phone = models.CharField("téléphone", max_length=30, blank=True)

    class Meta:
        verbose_name = "profil"
        verbose_name_plural = "profils"

    def __str__(self):
        return self.user.get_full_name() or self.user.username


class AuditEventQuerySet(models.QuerySet):
    def for_object(self, obj):
        return self.filter(
            content_type=ContentType.objects.get_for_model(obj), object_id=str(obj.pk)
        )


class AuditEvent(models.Model):
    """Append-only record of who changed what: never updated, never deleted.

    The database holds it too: triggers (migration 0006) refuse any UPDATE or
    DELETE of a row, from the ORM or from raw SQL."""

    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="auteur",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    action = models.CharField("action", max_length=100, db_index=True, choices=Action.choices)
    content_type = models.ForeignKey(
        ContentType, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    object_id = models.CharField(max_length=64, blank=True)
    object_repr = models.CharField("objet", max_length=255, blank=True)
    data = models.JSONField("données", default=dict, blank=True)
    created_at = models.DateTimeField("date", auto_now_add=True, db_index=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        verbose_name = "événement d'audit"
        verbose_name_plural = "journal d'audit"
        ordering = ["-created_at", "-pk"]
        indexes = [
            models.Index(fields=["content_type", "object_id"], name="audit_event_object_idx")
        ]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.action} {self.object_repr}"

    def save(self, *args, **kwargs):
        if self.pk is not None:
            raise ValidationError("Le journal d'audit ne peut pas être modifié.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValidationError("Le journal d'audit ne peut pas être effacé.")


class Notification(models.Model):
    """An e-mail the platform sends on an event, kept as an outbox: what was
    sent, to whom, and what failed. One per event and address."""

    class Kind(models.TextChoices):
        SESSION_OPENED = "session_opened", "Session ouverte à la notation"
        MINUTES_TO_SIGN = "minutes_to_sign", "Procès-verbal à signer"
        RESULTS_PUBLISHED = "results_published", "Résultats publiés"
        CERTIFICATE_AVAILABLE = "certificate_available", "Certificat disponible"
        INVITATION_EXPIRING = "invitation_expiring", "Invitation bientôt expirée"

    class Status(models.TextChoices):
        PENDING = "pending", "À envoyer"
        SENT = "sent", "Envoyé"
        FAILED = "failed", "Échec"

    kind = models.CharField("nature", max_length=30, choices=Kind.choices)
    event_key = models.CharField("événement", max_length=100)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="destinataire",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    email = models.EmailField("adresse")
    subject = models.CharField("objet", max_length=255)
    body = models.TextField("message")
    status = models.CharField(
        "statut", max_length=10, choices=Status.choices, default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField("tentatives", default=0)
    error = models.TextField("erreur", blank=True)
    created_at = models.DateTimeField("créé le", auto_now_add=True)
    sent_at = models.DateTimeField("envoyé le", null=True, blank=True)

    class Meta:
        verbose_name = "notification"
        verbose_name_plural = "notifications"
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["kind", "event_key", "email"], name="one_notification_per_event"
            ),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} · {self.email}"
