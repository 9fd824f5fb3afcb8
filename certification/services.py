"""Issuing, revoking and re-issuing certificates.

Layer one of the PDF pipeline (DESIGN.md): the record is created and numbered
under a lock and a unique constraint; the PDF is rendered after commit
(rendering.py) and stored, never re-rendered on download.
"""

import secrets
from collections import defaultdict

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone

from candidates.models import Candidate
from core.audit import Action, record_event
from core.signing import sha256
from evaluations.models import BlocDecision, Deliberation
from evaluations.standings import validated_blocs

from .models import Certificate, CertificateCounter

# Each mandatory mention of a certificate (France Compétences), as named when missing.
MANDATORY_MENTIONS = {
    "rncp_code": "le code RNCP",
    "registration_decision_date": "la date de la décision d'enregistrement de France Compétences",
    "certifier": "le nom du certificateur",
    "title": "l'intitulé exact de la certification",
    "national_level": "le niveau (nomenclature nationale)",
    "european_level": "le niveau européen",
    "nsf_codes": "le ou les codes NSF",
    "holder_birth_name": "le nom de naissance du titulaire",
    "holder_first_names": "les prénoms du titulaire",
    "holder_birth_date": "la date de naissance du titulaire",
    "issue_place": "le lieu de délivrance",
    "issue_date": "la date de délivrance",
    "signatory_name": "le nom du signataire",
    "signatory_title": "la qualité du signataire",
}


def gather_mentions(*, candidate, deliberation, bloc=None, validated=(), issue_date):
    """Every printed mention, as it will be frozen in the certificate."""
    version = deliberation.jury.certification_version
    mentions = {
        "title": version.title,
        "version": version.version,
        "certifier": version.certifier,
        "rncp_code": version.rncp_code,
        "registration_decision_date": (
            version.registration_decision_date.isoformat()
            if version.registration_decision_date
            else ""
        ),
        "registration_end_date": (
            version.registration_end_date.isoformat() if version.registration_end_date else ""
        ),
        "national_level": version.national_level,
        "european_level": version.european_level,
        "nsf_codes": version.nsf_codes,
        "holder_name": candidate.full_name,
        "holder_birth_name": candidate.birth_name,
        "holder_usage_name": candidate.usage_name,
        "holder_first_names": candidate.first_names,
        "holder_birth_date": candidate.birth_date.isoformat() if candidate.birth_date else "",
        "holder_birth_place": (
            f"{candidate.birth_commune}, {candidate.birth_country}".strip(", ")
            if candidate.birth_country
            else f"{candidate.birth_commune} ({candidate.birth_insee_code})"
        ),
        "jury_name": deliberation.jury.name,
        # The decision a certificate rests on: the PV's number and the day it was
        # signed (not the day planned for the jury). Older certificates froze
        # "jury_date" instead; the templates still read it.
        "minutes_number": deliberation.pk,
        "minutes_signed_on": signature_date(deliberation).isoformat(),
        "issue_place": version.issue_place,
        "issue_date": issue_date.isoformat(),
        "signatory_name": version.signatory_name,
        "signatory_title": version.signatory_title,
        # The stored file of the signature, printed above the signatory's name.
        "signature_image": version.signature_image.name or "",
    }
    if bloc is not None:
        mentions["bloc"] = {
            "number": bloc.number,
            "official_code": bloc.official_code,
            "title": bloc.title,
            "optional": bloc.optional,
            "competences": [
                {"code": code, "statement": statement}
                for code, statement in bloc.competences.order_by("order").values_list(
                    "code", "statement"
                )
            ],
        }
    else:
        mentions["blocs"] = [
            {
                "number": b.number,
                "official_code": b.official_code,
                "title": b.title,
                "optional": b.optional,
            }
            for b in validated
        ]
    return mentions


def signature_date(deliberation):
    return timezone.localdate(deliberation.signed_at)


def issue_date_for(deliberation):
    """Today, never before the signature of the PV the certificate cites."""
    return max(timezone.localdate(), signature_date(deliberation))


# Mandatory on one kind of certificate only: a bloc certificate names its bloc
# by the code of the RNCP file; the parchment states until when the
# registration runs.
BLOC_MANDATORY_MENTIONS = {"official_code": "le code officiel du bloc (fiche RNCP)"}
TITLE_MANDATORY_MENTIONS = {
    "registration_end_date": "la date de fin d'enregistrement au RNCP",
}


def missing_mentions(mentions):
    missing = [label for key, label in MANDATORY_MENTIONS.items() if not mentions.get(key)]
    if "bloc" in mentions:
        missing += [
            label for key, label in BLOC_MANDATORY_MENTIONS.items() if not mentions["bloc"].get(key)
        ]
    else:
        missing += [
            label for key, label in TITLE_MANDATORY_MENTIONS.items() if not mentions.get(key)
        ]
    return missing


def _refuse_if_incomplete(mentions):
    missing = missing_mentions(mentions)
    if missing:
        raise ValidationError(
            "Délivrance impossible : il manque "
            + ", ".join(missing)
            + ". Complétez la version de la certification ou la fiche du candidat."
        )


def allocate_number(prefix, year):
    """The next rank of the year, taken under a row lock: no gap, no duplicate."""
    counter = CertificateCounter.objects.select_for_update().filter(year=year).first()
    if counter is None:
        try:
            with transaction.atomic():
                CertificateCounter.objects.create(year=year)
        except IntegrityError:
            pass  # created meanwhile by another issue: lock theirs
        counter = CertificateCounter.objects.select_for_update().get(year=year)
    counter.last += 1
    counter.save(update_fields=["last"])
    return counter.last, f"{prefix}-{year}-{counter.last:05d}"


class AfterRegistration(ValidationError):
    """Refused: the PV was signed after the registration's end and no legal
    basis was given. The issue pages then ask for one."""


def after_registration(deliberation):
    """The refusal to give for a certificate citing `deliberation`, a PV signed
    after the end of the version's registration in the RNCP; "" when in time."""
    version = deliberation.jury.certification_version
    end, signed = version.registration_end_date, signature_date(deliberation)
    if end is None or signed <= end:
        return ""
    return (
        f"Le procès-verbal n° {deliberation.pk} a été signé le {signed:%d/%m/%Y}, après la fin "
        f"de l'enregistrement de la certification au RNCP le {end:%d/%m/%Y}"
    )


def _refuse_after_registration(deliberation, legal_basis):
    """A decision after the registration's end gives a certificate only on a
    recorded legal basis (a transitional measure, a renewal in progress…)."""
    late = after_registration(deliberation)
    if late and not legal_basis:
        raise AfterRegistration(
            late + " : indiquez le fondement juridique qui permet de délivrer ce certificat."
        )
    return legal_basis if late else ""


def _create(
    *,
    kind,
    candidate,
    enrolment,
    deliberation,
    mentions,
    by,
    bloc=None,
    decision=None,
    legal_basis="",
    render=True,
):
    _refuse_if_incomplete(mentions)
    year = int(mentions["issue_date"][:4])
    prefix = deliberation.jury.certification_version.certificate_prefix
    sequence, number = allocate_number(prefix, year)
    certificate = Certificate.objects.create(
        kind=kind,
        number=number,
        year=year,
        sequence=sequence,
        verification_code=secrets.token_urlsafe(16),  # 128 random bits, 22 characters
        candidate=candidate,
        enrolment=enrolment,
        bloc=bloc,
        decision=decision,
        deliberation=deliberation,
        mentions=mentions,
        legal_basis=legal_basis,
        issued_by=by if by is not None and by.is_authenticated else None,
    )
    data = {"number": number, "kind": kind}
    if legal_basis:
        data["legal_basis"] = legal_basis
    record_event(actor=by, action=Action.CERTIFICATE_ISSUED, target=certificate, data=data)
    if render:  # else the caller renders and stores it (bulk printing, in a pool)
        certificate_id = certificate.pk
        # A rendering failure must not undo the issue: the PDF is produced again on download.
        transaction.on_commit(lambda: store_pdf(certificate_id), robust=True)
    return certificate


# A decision's PV is read without the table the jury signed: a certificate
# prints none of it, and that JSON grows with the PV's candidates (decoding it
# cost more than the rest of an issue, for a PV of sixty).
WITHOUT_SIGNED_TABLE = ("deliberation__signed_table",)


def _lock_holder(candidate_id):
    # One issue at a time per candidate: no two valid certificates for one bloc.
    return Candidate.objects.select_for_update().get(pk=candidate_id)


NOT_IN_FORCE = "La décision ne vient pas d'un procès-verbal signé en vigueur."
NOT_PUBLISHED = (
    "Les résultats de ce procès-verbal ne sont pas encore publiés : aucun certificat n'est "
    "délivré avant leur publication."
)


def refuse_unless_effective(deliberation):
    """Only a published PV in force gives certificates (Deliberation.objects.effective())."""
    if Deliberation.objects.effective().filter(pk=deliberation.pk).exists():
        return
    if deliberation.is_signed and deliberation.published_at is None:
        raise ValidationError(NOT_PUBLISHED)
    raise ValidationError(NOT_IN_FORCE)


def _refuse_if_withdrawn(enrolment):
    if not enrolment.is_active:
        raise ValidationError("Le candidat a été retiré de la promotion : aucun certificat.")


def _refuse_if_certified(candidate, bloc):
    """One valid certificate per bloc; after a revocation, a new one is only
    issued by an explicit, reasoned act (issue_again)."""
    certificates = Certificate.objects.filter(candidate=candidate, bloc=bloc)
    if not certificates.exists():  # the usual case, in one query
        return
    existing = certificates.valid().first()
    if existing is not None:
        raise ValidationError(
            f"Un certificat valide existe déjà pour ce bloc : n° {existing.number}."
        )
    revoked = certificates.filter(status=Certificate.Status.REVOKED).order_by("-sequence").first()
    if revoked is not None:
        raise ValidationError(
            f"Le certificat n° {revoked.number} de ce bloc a été révoqué : un nouveau certificat "
            "ne se délivre que par « Délivrer à nouveau », avec un motif, depuis la page du "
            "certificat révoqué."
        )


def issue_bloc_certificate(decision, *, by, legal_basis="", render=True):
    """Issue the certificate of a bloc validated in a published PV in force;
    `legal_basis` is required when the PV was signed after the registration's end.
    Its PDF is rendered and stored after commit, unless `render` is false: the
    caller then does it (bulk printing, in worker processes, printing.py)."""
    legal_basis = (legal_basis or "").strip()
    with transaction.atomic():
        decision = (
            BlocDecision.objects.select_related(
                "enrolment", "bloc", "deliberation__jury__certification_version"
            )
            .defer(*WITHOUT_SIGNED_TABLE)
            .get(pk=decision.pk)
        )
        candidate = _lock_holder(decision.enrolment.candidate_id)
        if not decision.is_validated:
            raise ValidationError(
                f"Le bloc {decision.bloc.number} n'a pas été validé par le jury : "
                "aucun certificat ne peut être délivré."
            )
        _refuse_if_withdrawn(decision.enrolment)
        refuse_unless_effective(decision.deliberation)
        _refuse_if_certified(candidate, decision.bloc)
        legal_basis = _refuse_after_registration(decision.deliberation, legal_basis)
        mentions = gather_mentions(
            candidate=candidate,
            deliberation=decision.deliberation,
            bloc=decision.bloc,
            issue_date=issue_date_for(decision.deliberation),
        )
        return _create(
            kind=Certificate.Kind.BLOC,
            candidate=candidate,
            enrolment=decision.enrolment,
            deliberation=decision.deliberation,
            bloc=decision.bloc,
            decision=decision,
            mentions=mentions,
            by=by,
            legal_basis=legal_basis,
            render=render,
        )


def effective_validations(enrolments):
    """enrolment id -> (bloc ids validated, the PV to cite for the title), from
    published PVs in force only (capitalisation across deliberations): the
    cited PV is the latest signed one that validated a bloc of the candidate in
    the enrolment's version. One query."""
    enrolments = list(enrolments)
    rows = (
        BlocDecision.objects.filter(
            deliberation__in=Deliberation.objects.effective(),
            decision=BlocDecision.Decision.VALIDATED,
            enrolment__candidate__in={enrolment.candidate_id for enrolment in enrolments},
        )
        .values_list(
            "enrolment__candidate_id",
            "bloc_id",
            "deliberation__jury__certification_version_id",
            "deliberation__signed_at",
            "deliberation_id",
        )
        .order_by("deliberation__signed_at", "deliberation_id")
    )
    blocs, latest = defaultdict(set), {}
    for candidate_id, bloc_id, version_id, _, deliberation_id in rows:
        blocs[candidate_id].add(bloc_id)
        latest[(candidate_id, version_id)] = deliberation_id  # rows come oldest first
    return {
        enrolment.pk: (
            blocs[enrolment.candidate_id],
            latest.get((enrolment.candidate_id, enrolment.cohort.certification_version_id)),
        )
        for enrolment in enrolments
    }


def title_status(enrolment):
    """(due, validated blocs, PV to cite) for the title: due once every
    mandatory bloc is validated by published PVs in force, across deliberations."""
    version = enrolment.cohort.certification_version
    acquired, cited = effective_validations([enrolment])[enrolment.pk]
    blocs = list(version.blocs.order_by("number"))
    validated = [bloc for bloc in blocs if bloc.pk in acquired]
    due = all(bloc.pk in acquired for bloc in blocs if not bloc.optional)
    deliberation = (
        Deliberation.objects.select_related("jury__certification_version").get(pk=cited)
        if cited
        else None
    )
    return due, validated, deliberation


def _refuse_title_unless_due(enrolment, due):
    if due:
        return
    # Validated by signed PVs whose results are not published yet: say so.
    enrolments = type(enrolment).objects.filter(pk=enrolment.pk)
    signed = validated_blocs(enrolments)[enrolment.pk]
    mandatory = enrolment.cohort.certification_version.blocs.filter(optional=False)
    unpublished = (
        Deliberation.objects.in_force()
        .filter(
            published_at__isnull=True,
            decisions__enrolment__candidate_id=enrolment.candidate_id,
            decisions__decision=BlocDecision.Decision.VALIDATED,
        )
        .order_by("-signed_at")
        .first()
    )
    if unpublished is not None and set(mandatory.values_list("pk", flat=True)) <= signed:
        raise ValidationError(
            f"Les résultats du procès-verbal n° {unpublished.pk} ne sont pas encore publiés : "
            "le titre n'est délivré qu'après leur publication."
        )
    raise ValidationError(
        "Le titre n'est délivré que lorsque tous les blocs obligatoires sont validés."
    )


def _refuse_if_titled(candidate):
    titles = Certificate.objects.filter(candidate=candidate, kind=Certificate.Kind.TITLE)
    if titles.valid().exists():
        raise ValidationError("Un parchemin valide du titre existe déjà pour ce candidat.")
    revoked = titles.filter(status=Certificate.Status.REVOKED).order_by("-sequence").first()
    if revoked is not None:
        raise ValidationError(
            f"Le parchemin n° {revoked.number} a été révoqué : un nouveau parchemin ne se "
            "délivre que par « Délivrer à nouveau », avec un motif, depuis la page du "
            "parchemin révoqué."
        )


def issue_title_certificate(enrolment, *, by, legal_basis="", render=True):
    """The title (parchemin) of an enrolment whose mandatory blocs are all
    validated; `render` as for issue_bloc_certificate."""
    legal_basis = (legal_basis or "").strip()
    with transaction.atomic():
        candidate = _lock_holder(enrolment.candidate_id)
        due, validated, deliberation = title_status(enrolment)
        _refuse_title_unless_due(enrolment, due)
        _refuse_if_titled(candidate)
        legal_basis = _refuse_after_registration(deliberation, legal_basis)
        mentions = gather_mentions(
            candidate=candidate,
            deliberation=deliberation,
            validated=validated,
            issue_date=issue_date_for(deliberation),
        )
        return _create(
            kind=Certificate.Kind.TITLE,
            candidate=candidate,
            enrolment=enrolment,
            deliberation=deliberation,
            mentions=mentions,
            by=by,
            legal_basis=legal_basis,
            render=render,
        )


def revoke_certificate(certificate, *, reason, by):
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError("Indiquez le motif de la révocation.")
    with transaction.atomic():
        certificate = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if certificate.status != Certificate.Status.VALID:
            raise ValidationError("Seul un certificat valide peut être révoqué.")
        _revoke(certificate, reason=reason, by=by)
    return certificate


WITHDRAWN_REASON = "Bloc retiré par un procès-verbal rectificatif du jury."


def revoke_withdrawn_certificates(*, by):
    """Revoke, in one transaction, every valid bloc certificate a published
    rectifying PV withdrew; return them. The certificates are locked (in pk
    order, so two callers never deadlock) and read again under the lock: of two
    office clicks at once, one revokes them and the other finds none left,
    without an error nor a second audit event."""
    with transaction.atomic():
        listed = list(withdrawn_certificates().values_list("pk", flat=True))
        locked = list(Certificate.objects.select_for_update().filter(pk__in=listed).order_by("pk"))
        still = set(withdrawn_certificates().filter(pk__in=listed).values_list("pk", flat=True))
        revoked = [certificate for certificate in locked if certificate.pk in still]
        for certificate in revoked:
            _revoke(certificate, reason=WITHDRAWN_REASON, by=by)
    return revoked


def _revoke(certificate, *, reason, by):
    """Revoke a certificate locked and checked valid by the caller."""
    certificate.status = Certificate.Status.REVOKED
    certificate.revoked_at = timezone.now()
    certificate.revocation_reason = reason
    certificate.save(update_fields=["status", "revoked_at", "revocation_reason"])
    record_event(
        actor=by,
        action=Action.CERTIFICATE_REVOKED,
        target=certificate,
        data={"reason": reason},
    )


def _current_grounds(old, candidate, *, bloc_gone, title_gone):
    """(deliberation, decision, mentions) of a new certificate for what `old`
    attested, from the published PVs in force today and the holder's current
    identity; refused with `bloc_gone` / `title_gone` when the jury no longer
    validates it."""
    if old.kind == Certificate.Kind.BLOC:
        decision = backing_decision(old)
        if decision is None:
            raise ValidationError(bloc_gone)
        deliberation = decision.deliberation
        mentions = gather_mentions(
            candidate=candidate,
            deliberation=deliberation,
            bloc=old.bloc,
            issue_date=issue_date_for(deliberation),
        )
        return deliberation, decision, mentions
    due, validated, deliberation = title_status(old.enrolment)
    if not due:
        raise ValidationError(title_gone)
    mentions = gather_mentions(
        candidate=candidate,
        deliberation=deliberation,
        validated=validated,
        issue_date=issue_date_for(deliberation),
    )
    return deliberation, None, mentions


def reissue_certificate(certificate, *, by):
    """A new certificate from the holder's current identity (after a correction);
    the old one is marked superseded and points to the new one. It rests on the
    same decision: the legal basis of the old one, if any, carries over, and a
    re-edition is not refused for the registration's end."""
    with transaction.atomic():
        candidate = _lock_holder(certificate.candidate_id)
        old = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if old.status != Certificate.Status.VALID:
            raise ValidationError("Seul un certificat valide peut être réédité.")
        deliberation, decision, mentions = _current_grounds(
            old,
            candidate,
            bloc_gone="Ce bloc n'est plus validé par un procès-verbal en vigueur : le certificat "
            "se révoque, il ne se réédite pas.",
            title_gone="Les blocs obligatoires ne sont plus tous validés : le parchemin se "
            "révoque, il ne se réédite pas.",
        )
        _refuse_if_incomplete(mentions)
        old.status = Certificate.Status.SUPERSEDED
        old.save(update_fields=["status"])
        new = _create(
            kind=old.kind,
            candidate=candidate,
            enrolment=old.enrolment,
            deliberation=deliberation,
            bloc=old.bloc,
            decision=decision,
            mentions=mentions,
            by=by,
            legal_basis=old.legal_basis,
        )
        old.superseded_by = new
        old.save(update_fields=["superseded_by"])
        record_event(
            actor=by,
            action=Action.CERTIFICATE_SUPERSEDED,
            target=old,
            data={"by": new.number},
        )
    return new


def issue_again(certificate, *, reason, by, legal_basis=""):
    """After a revocation, a new certificate for the same bloc (or title): an
    explicit act with its reason, never offered in the lists of what is due.
    New number and code; the revoked one stays revoked."""
    reason = (reason or "").strip()
    legal_basis = (legal_basis or "").strip()
    if not reason:
        raise ValidationError("Indiquez le motif de la nouvelle délivrance.")
    with transaction.atomic():
        candidate = _lock_holder(certificate.candidate_id)
        old = Certificate.objects.select_for_update().get(pk=certificate.pk)
        if old.status != Certificate.Status.REVOKED:
            raise ValidationError("Seul un certificat révoqué se délivre à nouveau.")
        same = Certificate.objects.valid().filter(candidate=candidate, kind=old.kind)
        existing = (same.filter(bloc=old.bloc) if old.bloc_id else same).first()
        if existing is not None:
            raise ValidationError(
                f"Un certificat valide existe déjà pour {_what(old)} : n° {existing.number}."
            )
        deliberation, decision, mentions = _current_grounds(
            old,
            candidate,
            bloc_gone="Ce bloc n'est pas validé par un procès-verbal publié en vigueur : "
            "aucun certificat ne peut être délivré à nouveau.",
            title_gone="Les blocs obligatoires ne sont pas tous validés par des procès-verbaux "
            "publiés en vigueur : le parchemin ne peut être délivré à nouveau.",
        )
        if decision is not None:
            _refuse_if_withdrawn(decision.enrolment)
        legal_basis = _refuse_after_registration(deliberation, legal_basis)
        new = _create(
            kind=old.kind,
            candidate=candidate,
            enrolment=old.enrolment,
            deliberation=deliberation,
            bloc=old.bloc,
            decision=decision,
            mentions=mentions,
            by=by,
            legal_basis=legal_basis,
        )
        record_event(
            actor=by,
            action=Action.CERTIFICATE_ISSUED_AGAIN,
            target=new,
            data={"reason": reason, "revoked": old.number, "number": new.number},
        )
    return new


def _what(certificate):
    if certificate.kind == Certificate.Kind.BLOC:
        return f"le bloc {certificate.bloc.number}"
    return "le titre"


def backing_decision(certificate):
    """The validated decision of a published PV in force behind a bloc
    certificate (the latest signed), or None when a published rectifying PV has
    since withdrawn the bloc."""
    return (
        BlocDecision.objects.filter(
            deliberation__in=Deliberation.objects.effective(),
            enrolment__candidate_id=certificate.candidate_id,
            bloc_id=certificate.bloc_id,
            decision=BlocDecision.Decision.VALIDATED,
        )
        .select_related("enrolment", "deliberation__jury__certification_version")
        .defer(*WITHOUT_SIGNED_TABLE)
        .order_by("-deliberation__signed_at", "-deliberation_id")
        .first()
    )


def withdrawn_certificates():
    """Valid bloc certificates whose bloc no published PV in force validates any
    more: a rectifying PV counts from its publication, like every result."""
    backed = BlocDecision.objects.filter(
        deliberation__in=Deliberation.objects.effective(),
        enrolment__candidate=OuterRef("candidate"),
        bloc=OuterRef("bloc"),
        decision=BlocDecision.Decision.VALIDATED,
    )
    return Certificate.objects.valid().filter(kind=Certificate.Kind.BLOC).exclude(Exists(backed))


def store_pdf(certificate_id, *, sealed=None):
    """Render once, seal with the certifier's seal (PAdES) and keep the file
    with its SHA-256: what is stored is what is served and what the public
    verification compares. A stored PDF is never rendered again. `sealed`: the
    bytes already rendered and sealed (rendering.sealed_certificate or, in bulk
    printing's worker processes, rendering.PrintOrder); rendered here otherwise."""
    from .rendering import sealed_certificate

    certificate = Certificate.objects.get(pk=certificate_id)
    if not certificate.pdf:
        if sealed is None:
            sealed = sealed_certificate(certificate)
        certificate.pdf.save(f"{certificate.number}.pdf", ContentFile(sealed), save=False)
        certificate.pdf_sha256 = sha256(sealed)
        certificate.save(update_fields=["pdf", "pdf_sha256"])
        from .notifications import certificate_available  # its holder, once

        certificate_available(certificate)
    return certificate


def due_bloc_decisions(deliberation=None):
    """Validated decisions of published PVs in force (of one deliberation, or of
    all) whose bloc has no certificate yet. Any certificate counts: a valid one,
    or a revoked one (a chain of re-editions ends in either), since issuing
    again after a revocation is an explicit act (issue_again), never a due."""
    certified = Certificate.objects.filter(
        candidate=OuterRef("enrolment__candidate"), bloc=OuterRef("bloc")
    )
    decisions = BlocDecision.objects.filter(
        deliberation__in=Deliberation.objects.effective(),
        decision=BlocDecision.Decision.VALIDATED,
        enrolment__status="enrolled",
    )
    if deliberation is not None:
        decisions = decisions.filter(deliberation=deliberation)
    return decisions.exclude(Exists(certified)).select_related("enrolment__candidate", "bloc")
