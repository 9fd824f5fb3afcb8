"""The CPF declaration ("accrochage") to the Caisse des Dépôts: which awarded
certifications are due, the XML flow of the CDC schema (version 1.1.2,
namespace urn:cdc:cpf:pc5:schema:1.0.0), its validation, and the CDC's answer
per passage.

An awarded certification is a valid certificate of a published PV: every
title, and each bloc certificate when the version declares its blocs. It is
awarded on the day the PV was signed, and must be declared within three
calendar months. Its technical id at the CDC is its certificate number, the
same each time it is declared again after a rejection.
"""

import csv
import datetime
import functools
import io
import re
import unicodedata
import xml.etree.ElementTree as ET
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import xmlschema
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Exists, Max, OuterRef, Prefetch, Q
from django.urls import reverse
from django.utils import timezone

from candidates.models import Candidate, Enrolment
from core.audit import record_event
from core.dates import add_months, french_date
from core.models import Action

from .models import Certificate, DeclarationFlow, DeclaredPassage

SCHEMA_FILE = Path(__file__).resolve().parent / "schemas" / "cdc-cpf-accrochage.xsd"
NAMESPACE = "urn:cdc:cpf:pc5:schema:1.0.0"
XSI = "http://www.w3.org/2001/XMLSchema-instance"
DEADLINE_MONTHS = 3
DUE_SOON_DAYS = 30
CSV_MAX_BYTES = 512 * 1024
CSV_MAX_LINES = 5000

# --- The CDC's enumerations -----------------------------------------------------

ACCESS_ROUTES = {
    Enrolment.AccessRoute.INITIAL: "FORMATION_INITIALE_HORS_APPRENTISSAGE",
    Enrolment.AccessRoute.APPRENTICESHIP: "FORMATION_INITIALE_APPRENTISSAGE",
    Enrolment.AccessRoute.CONTINUING: "FORMATION_CONTINUE_HORS_CONTRAT_DE_PROFESSIONNALISATION",
    Enrolment.AccessRoute.PROFESSIONALISATION: "FORMATION_CONTINUE_CONTRAT_DE_PROFESSIONNALISATION",
    Enrolment.AccessRoute.VAE: "VAE",
    Enrolment.AccessRoute.FOREIGN_DIPLOMA: "EQUIVALENCE_DIPLOME_ETRANGER",
    Enrolment.AccessRoute.INDEPENDENT: "CANDIDAT_LIBRE",
}
VAE_ROUTES = {
    Enrolment.VaeRoute.LEAVE: "CONGES_VAE",
    Enrolment.VaeRoute.CLASSIC: "VAE_CLASSIQUE",
}
INITIATIVES = {
    Enrolment.Initiative.HOLDER: "CERTIFIE",
    Enrolment.Initiative.TRAINING_BODY: "OF",
    Enrolment.Initiative.EMPLOYMENT_AGENCY: "POLE_EMPLOI",
    Enrolment.Initiative.EMPLOYER: "EMPLOYEUR",
    Enrolment.Initiative.OTHER: "AUTRE",
}
SEXES = {Candidate.Sex.FEMALE: "F", Candidate.Sex.MALE: "M"}

# The country of birth of a holder born abroad is free text on the candidate's
# record; the CDC wants its label (`libellePaysNaissance`) and, optionally, a
# three-letter code (ISO 3166-1 alpha-3). The frequent ones are known here; a
# record may also hold the code itself ("MAR").
COUNTRY_CODES = {
    "algerie": "DZA",
    "allemagne": "DEU",
    "belgique": "BEL",
    "bresil": "BRA",
    "cameroun": "CMR",
    "canada": "CAN",
    "chine": "CHN",
    "cote d'ivoire": "CIV",
    "espagne": "ESP",
    "etats-unis": "USA",
    "haiti": "HTI",
    "italie": "ITA",
    "liban": "LBN",
    "luxembourg": "LUX",
    "madagascar": "MDG",
    "mali": "MLI",
    "maroc": "MAR",
    "pays-bas": "NLD",
    "pologne": "POL",
    "portugal": "PRT",
    "roumanie": "ROU",
    "royaume-uni": "GBR",
    "senegal": "SEN",
    "suisse": "CHE",
    "tunisie": "TUN",
    "turquie": "TUR",
    "ukraine": "UKR",
    "vietnam": "VNM",
}


def _fold(text):
    text = unicodedata.normalize("NFKD", str(text)).encode("ascii", "ignore").decode()
    return re.sub(r"\s+", " ", text.replace("’", "'")).strip().lower()


def country_code(country):
    country = (country or "").strip()
    if re.fullmatch(r"[A-Z]{3}", country):
        return country
    return COUNTRY_CODES.get(_fold(country), "")


def first_names(candidate):
    """prenom1, prenom2, prenom3: the third holds every further first name."""
    names = [name for name in re.split(r"[\s,]+", candidate.first_names.strip()) if name]
    return names[:2] + ([" ".join(names[2:])] if names[2:] else [])


# --- Which certificates, and where they stand -----------------------------------


def award_date(certificate):
    """The day the PV the certificate rests on was signed."""
    return timezone.localdate(certificate.deliberation.signed_at)


def deadline(certificate):
    return add_months(award_date(certificate), DEADLINE_MONTHS)


def _declared_filter():
    """Certificates with a passage the CDC holds or is processing: not rejected."""
    return Exists(
        DeclaredPassage.objects.filter(certificate=OuterRef("pk")).exclude(
            outcome=DeclaredPassage.Outcome.REJECTED
        )
    )


def awarded():
    """Every awarded certification the CPF must know of, valid or not."""
    return Certificate.objects.public().filter(
        Q(kind=Certificate.Kind.TITLE)
        | Q(deliberation__jury__certification_version__declare_blocs=True)
        | Exists(DeclaredPassage.objects.filter(certificate=OuterRef("pk")))
    )


def declarable():
    """Valid awarded certificates with no passage pending nor accepted: never
    declared, or rejected by the CDC (declared again, same technical id)."""
    return (
        Certificate.objects.public()
        .valid()
        .filter(
            Q(kind=Certificate.Kind.TITLE)
            | Q(deliberation__jury__certification_version__declare_blocs=True)
        )
        .exclude(_declared_filter())
    )


def to_correct():
    """Certificates revoked or superseded after they were declared, whose
    correction with the CDC the office has not noted yet."""
    return (
        Certificate.objects.exclude(status=Certificate.Status.VALID)
        .filter(
            Exists(
                DeclaredPassage.objects.filter(
                    certificate=OuterRef("pk"), correction_noted_at__isnull=True
                ).exclude(outcome=DeclaredPassage.Outcome.REJECTED)
            )
        )
        .order_by("pk")
    )


class State:
    TO_DECLARE = "to_declare"
    DECLARED = "declared"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    TO_CORRECT = "to_correct"
    CORRECTED = "corrected"

    LABELS = {
        TO_DECLARE: "À déclarer",
        DECLARED: "Déclaré, en attente du traitement",
        ACCEPTED: "Accepté",
        REJECTED: "Rejeté, à déclarer à nouveau",
        TO_CORRECT: "À corriger",
        CORRECTED: "Correction signalée",
    }
    TO_SEND = (TO_DECLARE, REJECTED)


@dataclass
class Row:
    """One awarded certification on the declaration page."""

    certificate: Certificate
    state: str
    passages: list  # newest flow first
    deadline: datetime.date
    today: datetime.date = field(default_factory=timezone.localdate)

    @property
    def latest(self):
        return self.passages[0] if self.passages else None

    @property
    def live(self):
        """The passage the CDC holds or processes, if any (not rejected)."""
        return next(
            (p for p in self.passages if p.outcome != DeclaredPassage.Outcome.REJECTED), None
        )

    @property
    def state_label(self):
        return State.LABELS[self.state]

    @property
    def to_send(self):
        return self.state in State.TO_SEND

    @property
    def late(self):
        return self.to_send and self.deadline < self.today

    @property
    def due_soon(self):
        return self.to_send and self.today <= self.deadline <= self.today + datetime.timedelta(
            DUE_SOON_DAYS
        )

    @property
    def days_left(self):
        return (self.deadline - self.today).days


def state_of(certificate, passages):
    live = [p for p in passages if p.outcome != DeclaredPassage.Outcome.REJECTED]
    if certificate.status != Certificate.Status.VALID:
        if not live:
            return None  # never reached the CDC: nothing to correct
        if all(p.correction_noted_at for p in live):
            return State.CORRECTED
        return State.TO_CORRECT
    if not passages:
        return State.TO_DECLARE
    return {
        DeclaredPassage.Outcome.PENDING: State.DECLARED,
        DeclaredPassage.Outcome.ACCEPTED: State.ACCEPTED,
        DeclaredPassage.Outcome.REJECTED: State.REJECTED,
    }[passages[0].outcome]


def _passages_prefetch():
    return Prefetch(
        "declared_passages",
        queryset=DeclaredPassage.objects.select_related("flow").order_by("-flow__number"),
        to_attr="cpf_passages",
    )


def rows(certificates=None):
    """The declaration page's rows, in three queries whatever their number."""
    certificates = (
        (certificates if certificates is not None else awarded())
        .select_related("candidate", "deliberation", "bloc")
        .defer("deliberation__signed_table")
        .prefetch_related(_passages_prefetch())
        .order_by("deliberation__signed_at", "number")
    )
    today = timezone.localdate()
    result = []
    for certificate in certificates:
        state = state_of(certificate, certificate.cpf_passages)
        if state is not None:
            result.append(
                Row(certificate, state, certificate.cpf_passages, deadline(certificate), today)
            )
    return result


def row_for(certificate):
    """The CPF state of one certificate (its detail page); None if it is not declared."""
    matching = rows(awarded().filter(pk=certificate.pk))
    return matching[0] if matching else None


def deadlines_summary():
    """The office dashboard's line: late, due within 30 days, to correct (3 queries)."""
    today = timezone.localdate()
    soon = today + datetime.timedelta(DUE_SOON_DAYS)
    late = due_soon = 0
    for signed_at in declarable().values_list("deliberation__signed_at", flat=True):
        due = add_months(timezone.localdate(signed_at), DEADLINE_MONTHS)
        late += due < today
        due_soon += today <= due <= soon
    return {
        "late": late,
        "due_soon": due_soon,
        "to_correct": to_correct().count(),
        "to_declare": declarable().count(),
    }


# --- What is missing ------------------------------------------------------------


@dataclass
class Problem:
    """What must be completed, and where, before a flow can be generated."""

    subject: str
    fields: list
    url: str

    @property
    def message(self):
        return f"{self.subject} — à compléter : {', '.join(self.fields)}."


class Incomplete(ValidationError):
    """Nothing generated: the office gets the list of what to complete."""

    def __init__(self, problems):
        self.problems = problems
        super().__init__([problem.message for problem in problems])


def _version_problems(version):
    fields = []
    if len(version.cdc_issuer_id) != 8:
        fields.append("l'identifiant client de l'émetteur à la CDC (8 caractères)")
    if len(version.cdc_certifier_id) != 8:
        fields.append("l'identifiant client du certificateur à la CDC (8 caractères)")
    if not version.cdc_contract_id:
        fields.append("l'identifiant du contrat avec la CDC")
    if not version.certification_type.strip():
        fields.append("le type de certification (CDC)")
    return fields


def _holder_problems(certificate):
    candidate, enrolment = certificate.candidate, certificate.enrolment
    fields = []
    if not candidate.birth_name.strip():
        fields.append("le nom de naissance")
    elif len(candidate.birth_name.strip()) > 60:
        fields.append("le nom de naissance (60 caractères au plus)")
    if len(candidate.usage_name.strip()) > 60:
        fields.append("le nom d'usage (60 caractères au plus)")
    names = first_names(candidate)
    if not names:
        fields.append("les prénoms")
    elif any(len(name) > 60 for name in names):
        fields.append("les prénoms (60 caractères au plus chacun)")
    if candidate.sex not in SEXES:
        fields.append("le sexe")
    if not candidate.birth_date or not 1900 <= candidate.birth_date.year <= 2099:
        fields.append("la date de naissance")
    if candidate.birth_country.strip():
        if len(candidate.birth_country.strip()) > 60:
            fields.append("le pays de naissance (60 caractères au plus)")
    elif not re.fullmatch(r"\d{5}|2[AB]\d{3}", candidate.birth_insee_code or ""):
        fields.append(
            "le code INSEE de la commune de naissance (né(e) en France) "
            "ou le pays de naissance (né(e) à l'étranger)"
        )
    if enrolment.access_route not in ACCESS_ROUTES:
        fields.append("la voie d'accès à la certification")
    elif enrolment.access_route == Enrolment.AccessRoute.VAE and (
        enrolment.vae_route not in VAE_ROUTES
    ):
        fields.append("le type de VAE (congé VAE ou VAE classique)")
    return fields


def problems_of(certificates):
    """Every missing or invalid data of these certificates, per version, bloc and holder."""
    problems, seen, holders = [], set(), defaultdict(list)
    for certificate in certificates:
        version = certificate.deliberation.jury.certification_version
        if ("version", version.pk) not in seen:
            seen.add(("version", version.pk))
            if fields := _version_problems(version):
                problems.append(Problem(f"Certification « {version} »", fields, _url(version)))
        if certificate.kind == Certificate.Kind.TITLE:
            if ("rncp", version.pk) not in seen and not version.rncp_code.strip():
                seen.add(("rncp", version.pk))
                problems.append(
                    Problem(f"Certification « {version} »", ["le code RNCP"], _url(version))
                )
        elif ("bloc", certificate.bloc_id) not in seen:
            seen.add(("bloc", certificate.bloc_id))
            if not certificate.bloc.official_code.strip():
                problems.append(
                    Problem(
                        f"Bloc {certificate.bloc.number} de « {version} »",
                        ["le code officiel du bloc (RNCPxxxxxBCyy)"],
                        _url(certificate.bloc),
                    )
                )
        if fields := _holder_problems(certificate):
            holders[(certificate.candidate_id, tuple(fields))].append(certificate)
    for (candidate_id, fields), certificates in holders.items():
        numbers = ", ".join(certificate.number for certificate in certificates)
        plural = "s" if len(certificates) > 1 else ""
        problems.append(
            Problem(
                f"{certificates[0].candidate.full_name} (certificat{plural} n° {numbers})",
                list(fields),
                reverse("candidates:candidate", args=[candidate_id]),
            )
        )
    return problems


def _url(obj):
    try:
        return obj.get_absolute_url()
    except Exception:  # a referential page gone: the list still names what to complete
        return ""


# --- The XML flow ---------------------------------------------------------------


@functools.cache
def schema():
    return xmlschema.XMLSchema(str(SCHEMA_FILE))


def schema_errors(xml_bytes):
    """The validator's objections to a flow, as French lines ([] if valid)."""
    try:
        errors = list(schema().iter_errors(xml_bytes))
    except Exception as error:  # not even XML
        return [f"fichier illisible : {error}"]
    return [f"élément {error.path or '?'} : {error.reason or error.message}" for error in errors]


def validate_flow(xml_bytes):
    if errors := schema_errors(xml_bytes):
        raise ValidationError(
            [
                "Le flux n'est pas conforme au schéma de la Caisse des Dépôts "
                "(version 1.1.2) : rien n'a été produit."
            ]
            + errors[:20]
        )


def _q(name):
    return f"{{{NAMESPACE}}}{name}"


def _add(parent, name, text=None, *, nil=False):
    element = ET.SubElement(parent, _q(name))
    if nil:
        element.set(f"{{{XSI}}}nil", "true")
    elif text is not None:
        element.text = str(text)
    return element


def _version(certificate):
    return certificate.deliberation.jury.certification_version


def certification_code(certificate):
    if certificate.kind == Certificate.Kind.BLOC:
        return certificate.bloc.official_code.strip()
    return _version(certificate).rncp_code.strip()


def validity_end(certificate, start):
    years = certificate.bloc.validity_years if certificate.bloc_id else None
    return add_months(start, 12 * years) if years else None


def _passage(parent, certificate):
    candidate, enrolment = certificate.candidate, certificate.enrolment
    start = award_date(certificate)
    passage = _add(parent, "passageCertification")
    _add(passage, "idTechnique", certificate.number)
    if len(certificate.public_url) <= 255:
        _add(passage, "urlPreuve", certificate.public_url)
    _add(passage, "obtentionCertification", "PAR_ADMISSION")
    _add(passage, "donneeCertifiee", "true")
    _add(passage, "dateDebutValidite", start.isoformat())
    end = validity_end(certificate, start)
    _add(passage, "dateFinValidite", end.isoformat() if end else None, nil=end is None)
    _add(passage, "presenceNiveauLangueEuro", "false")
    _add(passage, "presenceNiveauNumeriqueEuro", "false")
    _add(passage, "scoring", nil=True)
    _add(passage, "mentionValidee", nil=True)
    terms = _add(passage, "modalitesInscription")
    _add(terms, "modaliteAcces", ACCESS_ROUTES[enrolment.access_route])
    if enrolment.access_route == Enrolment.AccessRoute.VAE:
        _add(terms, "voieAccessVAE", VAE_ROUTES[enrolment.vae_route])
    if enrolment.registration_initiative in INITIATIVES:
        _add(terms, "initiativeInscription", INITIATIVES[enrolment.registration_initiative])
    if enrolment.registration_date:
        _add(terms, "dateInscription", enrolment.registration_date.isoformat())
    holder = _add(_add(passage, "identificationTitulaire"), "titulaire")
    _add(holder, "nomNaissance", candidate.birth_name.strip())
    usage = candidate.usage_name.strip()
    _add(holder, "nomUsage", usage or None, nil=not usage)
    for rank, name in enumerate(first_names(candidate), start=1):
        _add(holder, f"prenom{rank}", name)
    _add(holder, "anneeNaissance", candidate.birth_date.year)
    _add(holder, "moisNaissance", candidate.birth_date.month)
    _add(holder, "jourNaissance", candidate.birth_date.day)
    _add(holder, "sexe", SEXES[candidate.sex])
    place = _add(holder, "codeCommuneNaissance")
    commune = candidate.birth_commune.strip()
    country = candidate.birth_country.strip()
    if country:
        # Born abroad: no French commune code; the schema's representation is
        # a nil postal code, then the country's label (and code when known).
        _add(_add(place, "codePostalNaissance"), "codePostal", nil=True)
    else:
        _add(_add(place, "codeInseeNaissance"), "codeInsee", candidate.birth_insee_code)
    if commune and len(commune) <= 60:
        _add(holder, "libelleCommuneNaissance", commune)
    if country:
        if code := country_code(country):
            _add(holder, "codePaysNaissance", code)
        _add(holder, "libellePaysNaissance", country)


def build_flow_xml(certificates, *, flow_id, generated_at, issuer_id, certifier_id, contract_id):
    """The XML bytes of one flow: one certifier, a `certification` per code."""
    root = ET.Element(_q("flux"))
    _add(root, "idFlux", flow_id)
    _add(root, "horodatage", timezone.localtime(generated_at).isoformat(timespec="seconds"))
    issuer = _add(root, "emetteur")
    _add(issuer, "idClient", issuer_id)
    certifier = _add(_add(issuer, "certificateurs"), "certificateur")
    _add(certifier, "idClient", certifier_id)
    _add(certifier, "idContrat", contract_id)
    listing = _add(certifier, "certifications")
    grouped = defaultdict(list)
    for certificate in certificates:
        key = (_version(certificate).certification_type.strip(), certification_code(certificate))
        grouped[key].append(certificate)
    for (kind, code), members in grouped.items():
        certification = _add(listing, "certification")
        _add(certification, "type", kind)
        _add(certification, "code", code)
        _add(certification, "natureDeposant", "CERTIFICATEUR")
        passages = _add(certification, "passageCertifications")
        for certificate in members:
            _passage(passages, certificate)
    ET.indent(root)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True, default_namespace=NAMESPACE)


def _cdc_key(certificate):
    version = _version(certificate)
    return (version.cdc_issuer_id, version.cdc_certifier_id, version.cdc_contract_id)


def _for_building(queryset):
    return queryset.select_related(
        "candidate", "enrolment", "bloc", "deliberation__jury__certification_version"
    ).order_by("deliberation__signed_at", "number")


def generate_flows(*, certificates=None, by):
    """Declare `certificates` (default: every one to declare) in new flows, one
    per certifier (its CDC ids): all of them, or nothing with the French list
    of what to complete. Returns the flows."""
    try:
        with transaction.atomic():
            return _generate(certificates, by)
    except IntegrityError as error:
        raise ValidationError(
            "Un autre flux a été généré au même moment : rechargez la page et recommencez."
        ) from error


def _generate(certificates, by):
    chosen = declarable()
    if certificates is not None:
        wanted = {certificate.pk for certificate in certificates}
        if not wanted:
            raise ValidationError("Choisissez au moins un certificat à déclarer.")
        chosen = chosen.filter(pk__in=wanted)
    # Lock the certificates, then read them again under the lock: of two
    # generations at once, the second finds them declared.
    pks = list(chosen.values_list("pk", flat=True))
    list(Certificate.objects.select_for_update().filter(pk__in=pks).order_by("pk"))
    selected = list(_for_building(declarable().filter(pk__in=pks)))
    if certificates is not None and {c.pk for c in selected} != wanted:
        raise ValidationError(
            "Certains certificats choisis ne sont plus à déclarer (déjà déclarés, ou révoqués) : "
            "rechargez la page."
        )
    if not selected:
        raise ValidationError("Aucun certificat n'est à déclarer.")
    if problems := problems_of(selected):
        raise Incomplete(problems)
    groups = defaultdict(list)
    for certificate in selected:
        groups[_cdc_key(certificate)].append(certificate)
    number = DeclarationFlow.objects.aggregate(last=Max("number"))["last"] or 0
    now = timezone.now()
    flows = []
    for (issuer_id, certifier_id, contract_id), members in groups.items():
        number += 1
        flow_id = f"CPF-{issuer_id}-{timezone.localtime(now):%Y%m%d%H%M%S}-{number}"
        xml = build_flow_xml(
            members,
            flow_id=flow_id,
            generated_at=now,
            issuer_id=issuer_id,
            certifier_id=certifier_id,
            contract_id=contract_id,
        )
        validate_flow(xml)
        flows.append((number, flow_id, issuer_id, xml, members))
    created = []
    for number, flow_id, issuer_id, xml, members in flows:
        flow = DeclarationFlow(
            number=number, flow_id=flow_id, issuer_id=issuer_id, generated_at=now, generated_by=by
        )
        flow.xml.save(f"flux-cpf-{number:05d}.xml", ContentFile(xml), save=False)
        flow.save()
        DeclaredPassage.objects.bulk_create(
            DeclaredPassage(flow=flow, certificate=certificate, technical_id=certificate.number)
            for certificate in members
        )
        record_event(
            actor=by,
            action=Action.CPF_FLOW_GENERATED,
            target=flow,
            data={
                "number": number,
                "flow_id": flow_id,
                "certificates": [certificate.number for certificate in members],
            },
        )
        created.append(flow)
    return created


# --- The CDC's answer -----------------------------------------------------------

OUTCOME_WORDS = {
    DeclaredPassage.Outcome.ACCEPTED: {"accepte", "acceptee", "accepted", "ok", "valide"},
    DeclaredPassage.Outcome.REJECTED: {"rejete", "rejetee", "rejected", "ko", "refuse", "erreur"},
    DeclaredPassage.Outcome.PENDING: {"en attente", "pending", "en cours"},
}


def outcome_from_word(word):
    folded = _fold(word).replace("_", " ")
    for outcome, words in OUTCOME_WORDS.items():
        if folded in words:
            return outcome
    return None


def _superseding_flow(passage):
    """The later flow that declared the same certificate again, if any."""
    return (
        DeclarationFlow.objects.filter(
            passages__certificate_id=passage.certificate_id, number__gt=passage.flow.number
        )
        .order_by("number")
        .first()
    )


def _apply_outcome(passage, *, outcome, reason, by, now):
    reason = (reason or "").strip()
    if outcome == DeclaredPassage.Outcome.REJECTED and not reason:
        raise ValidationError(
            f"{passage.technical_id} : indiquez le motif du rejet donné par la Caisse des Dépôts."
        )
    if outcome != DeclaredPassage.Outcome.REJECTED:
        reason = ""
    if passage.outcome == outcome and passage.outcome_reason == reason:
        return False
    if later := _superseding_flow(passage):
        raise ValidationError(
            f"{passage.technical_id} : ce passage a été déclaré à nouveau dans le flux "
            f"n° {later.number} ; enregistrez le résultat sur ce flux-là."
        )
    old = passage.outcome
    passage.outcome, passage.outcome_reason = outcome, reason
    passage.outcome_recorded_at, passage.outcome_recorded_by = now, by
    passage.save(
        update_fields=["outcome", "outcome_reason", "outcome_recorded_at", "outcome_recorded_by"]
    )
    record_event(
        actor=by,
        action=Action.CPF_OUTCOME_RECORDED,
        target=passage,
        data={
            "technical_id": passage.technical_id,
            "flow": passage.flow.number,
            "old": old,
            "new": outcome,
            "reason": reason,
        },
    )
    return True


def record_outcome(passage, *, outcome, reason="", by):
    """The CDC's processing of one passage, entered by hand."""
    with transaction.atomic():
        passage = (
            DeclaredPassage.objects.select_for_update().select_related("flow").get(pk=passage.pk)
        )
        return _apply_outcome(passage, outcome=outcome, reason=reason, by=by, now=timezone.now())


@dataclass
class OutcomeLine:
    line: int
    technical_id: str
    outcome: str
    reason: str


def parse_outcomes_csv(data):
    """`id technique;statut;motif` lines, a header line allowed; every bad
    line is reported in French (ValidationError), nothing is kept."""
    if len(data) > CSV_MAX_BYTES:
        raise ValidationError(
            f"Le fichier dépasse {CSV_MAX_BYTES // 1024} Ko : découpez-le en plusieurs fichiers."
        )
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("cp1252", errors="replace")
    if "\x00" in text:
        raise ValidationError("Ce fichier n'est pas un fichier CSV (texte).")
    errors, lines, seen = [], [], {}
    reader = csv.reader(io.StringIO(text), delimiter=";")
    try:
        for number, cells in enumerate(reader, start=1):
            if number > CSV_MAX_LINES:
                raise ValidationError(
                    f"Le fichier compte plus de {CSV_MAX_LINES} lignes : découpez-le."
                )
            cells = [cell.strip() for cell in cells]
            if not any(cells):
                continue
            if number == 1 and _fold(cells[0]).replace("_", " ") in {"id technique", "idtechnique"}:
                continue
            if len(cells) < 2 or len(cells) > 3:
                errors.append(
                    f"Ligne {number} : trois colonnes attendues, séparées par « ; » "
                    "(id technique;statut;motif)."
                )
                continue
            technical_id, word = cells[0], cells[1]
            reason = cells[2] if len(cells) == 3 else ""
            outcome = outcome_from_word(word)
            if not technical_id:
                errors.append(f"Ligne {number} : l'identifiant technique manque.")
            elif outcome is None:
                errors.append(
                    f"Ligne {number} : statut « {word[:40]} » inconnu "
                    "(attendu : accepté ou rejeté)."
                )
            elif outcome == DeclaredPassage.Outcome.REJECTED and not reason:
                errors.append(f"Ligne {number} : un rejet demande son motif (3e colonne).")
            elif technical_id in seen:
                errors.append(
                    f"Ligne {number} : {technical_id[:40]} figure déjà ligne {seen[technical_id]}."
                )
            else:
                seen[technical_id] = number
                lines.append(OutcomeLine(number, technical_id, outcome, reason))
    except csv.Error as error:
        errors.append(f"Fichier CSV illisible : {error}.")
    if errors:
        raise ValidationError(errors)
    if not lines:
        raise ValidationError("Le fichier ne contient aucune ligne de résultat.")
    return lines


def record_outcomes_csv(flow, *, data, by):
    """Every outcome of a CSV of the CDC for this flow, or none (French errors
    per line). Returns how many passages changed."""
    lines = parse_outcomes_csv(data)
    with transaction.atomic():
        passages = {
            passage.technical_id: passage
            for passage in DeclaredPassage.objects.select_for_update()
            .select_related("flow")
            .filter(flow=flow)
            .order_by("pk")
        }
        errors = [
            f"Ligne {line.line} : {line.technical_id[:40]} n'est pas un passage du flux "
            f"n° {flow.number}."
            for line in lines
            if line.technical_id not in passages
        ]
        if errors:
            raise ValidationError(errors)
        now, changed, errors = timezone.now(), 0, []
        for line in lines:
            try:
                changed += _apply_outcome(
                    passages[line.technical_id],
                    outcome=line.outcome,
                    reason=line.reason,
                    by=by,
                    now=now,
                )
            except ValidationError as error:
                errors.extend(f"Ligne {line.line} : {message}" for message in error.messages)
        if errors:
            transaction.set_rollback(True)
            raise ValidationError(errors)
    return changed


# --- Corrections ----------------------------------------------------------------


def note_correction(certificate, *, note, by):
    """The office corrected, with the CDC, the declaration of a certificate
    revoked or superseded after it was declared."""
    note = (note or "").strip()
    if not note:
        raise ValidationError("Décrivez la correction faite auprès de la Caisse des Dépôts.")
    with transaction.atomic():
        passages = list(
            DeclaredPassage.objects.select_for_update()
            .select_related("flow", "certificate")
            .filter(certificate=certificate, correction_noted_at__isnull=True)
            .exclude(outcome=DeclaredPassage.Outcome.REJECTED)
            .order_by("pk")
        )
        if not passages or passages[0].certificate.status == Certificate.Status.VALID:
            raise ValidationError(
                "Ce certificat n'a pas de déclaration à corriger : seul un certificat révoqué "
                "ou remplacé après sa déclaration en a une."
            )
        now = timezone.now()
        for passage in passages:
            passage.correction_noted_at, passage.correction_note = now, note
            passage.save(update_fields=["correction_noted_at", "correction_note"])
            record_event(
                actor=by,
                action=Action.CPF_CORRECTION_NOTED,
                target=passage,
                data={
                    "technical_id": passage.technical_id,
                    "flow": passage.flow.number,
                    "note": note,
                },
            )
    return passages


def flow_label(flow):
    return f"flux n° {flow.number} du {french_date(flow.generated_at)}"
