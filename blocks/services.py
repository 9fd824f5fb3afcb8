"""State changes of the referential."""

import re
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Count, Q

from core.audit import Action, record_event

from .export import BLOC_FIELDS, MENTION_FIELDS, MODALITY_FIELDS, export_version
from .models import (
    Activity,
    Bloc,
    CertificationVersion,
    Competence,
    Criterion,
    EvaluationModality,
    GradingLevel,
    ReferentialFrozen,
)
from .validation import (
    FileProblem,
    ReferentialFileError,
    parse_referential,
    scale_problems,
    validate_referential,
)


def completeness_problems(version):
    """What keeps a version from being used for candidates, in French."""
    problems = [
        f"Échelle de notation : {reason}"
        for reason in scale_problems(
            version.scale_kind,
            list(version.grading_levels.values("value", "label", "passing")),
            version.numeric_max,
            version.numeric_pass_mark,
        )
    ]
    blocs = list(version.blocs.all())
    if not any(not bloc.optional for bloc in blocs):
        problems.append("La version doit compter au moins un bloc obligatoire.")
    competences = Competence.objects.filter(bloc__certification_version=version).annotate(
        criteria_count=Count("criteria", distinct=True),
        modality_count=Count("modalities", distinct=True),
    )
    for competence in competences.filter(Q(criteria_count=0) | Q(modality_count=0)):
        if competence.criteria_count == 0:
            problems.append(f"La compétence {competence.code} n'a aucun critère d'évaluation.")
        if competence.modality_count == 0:
            problems.append(f"La compétence {competence.code} n'est évaluée par aucune modalité.")
    return problems


def activate_version(version, *, by):
    """Put a complete draft into use; from then on its structure is frozen."""
    with transaction.atomic():
        version = CertificationVersion.objects.select_for_update().get(pk=version.pk)
        if version.status != CertificationVersion.Status.DRAFT:
            raise ValidationError("Seule une version brouillon peut être activée.")
        problems = completeness_problems(version)
        if problems:
            raise ValidationError(problems)
        version.status = CertificationVersion.Status.ACTIVE
        version.save(update_fields=["status"])
        record_event(actor=by, action=Action.VERSION_ACTIVATED, target=version)
    return version


def archive_version(version, *, by):
    with transaction.atomic():
        version = CertificationVersion.objects.select_for_update().get(pk=version.pk)
        if version.status != CertificationVersion.Status.ACTIVE:
            raise ValidationError("Seule une version active peut être archivée.")
        version.status = CertificationVersion.Status.ARCHIVED
        version.save(update_fields=["status"])
        record_event(actor=by, action=Action.VERSION_ARCHIVED, target=version)
    return version


def duplicate_version(version, *, new_label, by):
    """Copy a version's whole structure into a new draft that admins may edit."""
    new_label = (new_label or "").strip()
    if not new_label:
        raise ValidationError("Indiquez le libellé de la nouvelle version.")
    taken = f"La version « {new_label} » de « {version.title} » existe déjà."
    with transaction.atomic():
        if CertificationVersion.objects.filter(title=version.title, version=new_label).exists():
            raise ValidationError(taken)
        copy = CertificationVersion.objects.get(pk=version.pk)
        copy.pk = None
        copy.version = new_label
        copy.duplicated_from = version
        canonical = export_version(version)
        try:
            with transaction.atomic():
                _write_structure(copy, canonical)
        except IntegrityError:
            # The same label, taken by another duplication committed since the check.
            if CertificationVersion.objects.filter(title=version.title, version=new_label).exists():
                raise ValidationError(taken) from None
            raise
        record_event(
            actor=by,
            action=Action.VERSION_DUPLICATED,
            target=copy,
            data={"source_id": version.pk, "source": str(version)},
        )
    return copy


def _same_referential(stored, loaded, version):
    """Identical files, or, for a frozen version, the same structure: the
    certificate mentions the office entered since (RNCP code, signatory…) are
    its own and are kept, not overwritten by the file."""
    if stored == loaded:
        return True

    def structure(data):
        certification = {
            key: value for key, value in data["certification"].items() if key not in MENTION_FIELDS
        }
        return {**data, "certification": certification}

    return version.is_frozen and structure(stored) == structure(loaded)


@dataclass(frozen=True)
class LoadResult:
    version: CertificationVersion
    outcome: str  # "created", "replaced" or "unchanged"


def load_referential(text, *, actor=None):
    """Load a referential file in one transaction: all of it, or nothing.

    Loading the same file again changes nothing; a different file replaces a
    draft version's structure, and is refused for a frozen version."""
    canonical = validate_referential(parse_referential(text))
    identity = canonical["certification"]
    with transaction.atomic():
        version = (
            CertificationVersion.objects.select_for_update()
            .filter(title=identity["title"], version=identity["version"])
            .first()
        )
        if version is not None and _same_referential(export_version(version), canonical, version):
            return LoadResult(version, "unchanged")
        if version is not None:
            try:
                version.ensure_editable()
            except ReferentialFrozen as error:
                raise ReferentialFileError([FileProblem("certification", error.message)]) from None
            version.grading_levels.all().delete()
            version.blocs.all().delete()
            outcome = "replaced"
        else:
            version = CertificationVersion(title=identity["title"], version=identity["version"])
            outcome = "created"
        _write_structure(version, canonical)
        if identity["status"] != CertificationVersion.Status.DRAFT:
            try:
                version = activate_version(version, by=actor)
            except ValidationError as error:
                raise ReferentialFileError(
                    FileProblem("certification.status", message) for message in error.messages
                ) from None
            if identity["status"] == CertificationVersion.Status.ARCHIVED:
                version = archive_version(version, by=actor)
        record_event(actor=actor, action=Action(f"blocks.referential.{outcome}"), target=version)
    return LoadResult(version, outcome)


def _write_structure(version, canonical):
    """Write a canonical referential into `version`, saved as a draft.

    `version` is new, or a stored draft whose structure was just removed. The
    rows are inserted in bulk, a few queries per kind of row whatever the size
    of the referential; bulk inserts skip `StructureItem.save()` and its
    `ensure_editable()`, so the draft status is checked here, on the stored row."""
    with transaction.atomic(savepoint=False):
        if version.pk is not None:
            CertificationVersion.objects.select_for_update().get(pk=version.pk).ensure_editable()
        identity = canonical["certification"]
        scale = identity["grading_scale"]
        version.status = CertificationVersion.Status.DRAFT
        for field in (*MENTION_FIELDS, "competence_threshold", "note"):
            setattr(version, field, identity[field])
        version.scale_kind = scale["kind"]
        version.numeric_max = scale["numeric_max"]
        version.numeric_pass_mark = scale["numeric_pass_mark"]
        version.save()
        GradingLevel.objects.bulk_create(
            GradingLevel(certification_version=version, **level) for level in scale["levels"]
        )
        blocs = Bloc.objects.bulk_create(
            Bloc(certification_version=version, **{key: data[key] for key in BLOC_FIELDS})
            for data in canonical["blocs"]
        )
        placed = list(zip(blocs, canonical["blocs"], strict=True))
        activities = {
            activity.code: activity
            for activity in Activity.objects.bulk_create(
                Activity(
                    certification_version=version,
                    bloc=bloc,
                    order=order,
                    code=item["code"],
                    title=item["title"],
                    tasks=item["tasks"],
                    note=item["note"],
                )
                for bloc, data in placed
                for order, item in enumerate(data["activities"], start=1)
            )
        }
        competences = {
            competence.code: competence
            for competence in Competence.objects.bulk_create(
                Competence(
                    certification_version=version,
                    bloc=bloc,
                    order=order,
                    code=item["code"],
                    activity=activities[item["activity"]],
                    statement=item["statement"],
                    note=item["note"],
                )
                for bloc, data in placed
                for order, item in enumerate(data["competences"], start=1)
            )
        }
        Criterion.objects.bulk_create(
            Criterion(competence=competences[item["code"]], order=order, **criterion)
            for _, data in placed
            for item in data["competences"]
            for order, criterion in enumerate(item["criteria"], start=1)
        )
        modalities = [
            (
                EvaluationModality(
                    bloc=bloc, order=order, **{key: item[key] for key in MODALITY_FIELDS}
                ),
                item,
            )
            for bloc, data in placed
            for order, item in enumerate(data["modalities"], start=1)
        ]
        EvaluationModality.objects.bulk_create(modality for modality, _ in modalities)
        covers = EvaluationModality.competences.through
        covers.objects.bulk_create(
            covers(evaluationmodality=modality, competence=competences[code])
            for modality, item in modalities
            for code in item["competences"]
        )


# What the office edits on the mentions page, a frozen version included: the
# mentions printed on certificates, the registration's end, the signature and
# the Caisse des Dépôts' identifiers (which the certifier may only learn after
# the registration).
EDITABLE_MENTIONS = (
    *MENTION_FIELDS,
    "registration_end_date",
    "signature_image",
    "cdc_issuer_id",
    "cdc_certifier_id",
    "cdc_contract_id",
    "certification_type",
    "declare_blocs",
)
CDC_CLIENT_IDS = ("cdc_issuer_id", "cdc_certifier_id")
BLOC_CODE_LABEL = "code officiel du bloc {number}"


def mention_value(value):
    """A mention as the audit log keeps it: a date in the French way, a yes/no
    in words, an image by its file name."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "oui" if value else "non"
    if hasattr(value, "strftime"):
        return value.strftime("%d/%m/%Y")
    if hasattr(value, "field") and hasattr(value, "storage"):  # a stored file
        return value.name.rsplit("/", 1)[-1] if value else ""
    return value


def mention_changes(before, after, fields=EDITABLE_MENTIONS):
    """[{field, old, new}] of the mentions that differ, fields named in French."""
    return [
        {
            "field": str(after._meta.get_field(field).verbose_name),
            "old": mention_value(getattr(before, field)),
            "new": mention_value(getattr(after, field)),
        }
        for field in fields
        if mention_value(getattr(before, field)) != mention_value(getattr(after, field))
    ]


def record_mention_changes(version, changes, *, by):
    """One MENTIONS_CHANGED event with the old and new values, when anything changed."""
    if changes:
        record_event(
            actor=by, action=Action.MENTIONS_CHANGED, target=version, data={"changes": changes}
        )


def mention_problems(version, blocs_and_codes):
    """What is wrong with the mentions about to be saved, in French."""
    problems = []
    for field in CDC_CLIENT_IDS:
        value = getattr(version, field)
        if value and len(value) != 8:
            label = version._meta.get_field(field).verbose_name
            problems.append(f"L'{label} compte exactement 8 caractères ({len(value)} saisis).")
    start, end = version.registration_decision_date, version.registration_end_date
    if end is not None and start is not None and end <= start:
        problems.append(
            "La date de fin d'enregistrement au RNCP doit suivre la date de la décision "
            "d'enregistrement."
        )
    codes = [code for _, code in blocs_and_codes if code]
    for code in sorted({code for code in codes if codes.count(code) > 1}):
        problems.append(f"Le code {code} est donné à plusieurs blocs de la version.")
    for bloc, code in blocs_and_codes:
        if not code:
            continue
        if not version.rncp_code:
            problems.append(
                f"Bloc {bloc.number} : renseignez le code RNCP de la version avant le code "
                "de ses blocs."
            )
        elif not re.fullmatch(re.escape(version.rncp_code) + r"BC\d{2}", code):
            problems.append(
                f"Bloc {bloc.number} : le code {code} ne correspond pas au code RNCP de la "
                f"version (attendu : {version.rncp_code}BC suivi de deux chiffres)."
            )
    return problems


def update_mentions(version, *, values, bloc_codes, by):
    """Save the mentions of a version (frozen or not) and its blocs' official
    codes, in one transaction, audited with the old and new values.

    `values`: {field of EDITABLE_MENTIONS: new value} (for the signature, an
    uploaded image, False to remove it, or absent to keep it); `bloc_codes`:
    {bloc pk: official code}."""
    unknown = set(values) - set(EDITABLE_MENTIONS)
    if unknown:
        raise ValueError(f"Champs non modifiables ici : {sorted(unknown)}")
    with transaction.atomic():
        before = CertificationVersion.objects.select_for_update().get(pk=version.pk)
        after = CertificationVersion.objects.get(pk=version.pk)
        blocs = list(Bloc.objects.select_for_update().filter(certification_version=after))
        for field, value in values.items():
            if field == "signature_image" and value is None:
                continue
            if field == "signature_image" and value is False:
                value = ""
            setattr(after, field, value.strip() if isinstance(value, str) else value)
        planned = [
            (bloc, (bloc_codes.get(bloc.pk, bloc.official_code) or "").strip().upper())
            for bloc in blocs
        ]
        problems = []
        try:
            after.clean_fields(
                exclude=[f.name for f in after._meta.fields if f.name not in EDITABLE_MENTIONS]
            )
        except ValidationError as error:
            problems.extend(error.messages)
        problems.extend(mention_problems(after, planned))
        if problems:
            raise ValidationError(problems)
        changed = [
            field
            for field in EDITABLE_MENTIONS
            if mention_value(getattr(before, field)) != mention_value(getattr(after, field))
        ]
        if changed:
            # Saving only these fields bypasses nothing: a version row has no
            # freeze check of its own, its structure (the blocs) does.
            after.save(update_fields=changed)
        # Read after saving: an uploaded signature's stored name is the one kept.
        changes = mention_changes(before, after)
        for bloc, code in planned:
            if code != bloc.official_code:
                changes.append(
                    {
                        "field": BLOC_CODE_LABEL.format(number=bloc.number),
                        "old": bloc.official_code,
                        "new": code,
                    }
                )
                # The bloc belongs to a structure that may be frozen: only its
                # code changes, by an update that skips the structure's check.
                Bloc.objects.filter(pk=bloc.pk).update(official_code=code)
        record_mention_changes(after, changes, by=by)
    return after
