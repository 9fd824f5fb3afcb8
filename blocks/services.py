"""State changes of the referential."""

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
