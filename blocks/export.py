"""The referential file format, and a version written out in it.

The keys of each object of the file, the order of competence codes, and
`export_version`, whose output is the canonical form that
`blocks.validation.validate_referential` returns for a valid file.
"""

import json
from pathlib import Path

from django.db.models import Prefetch

from .models import Bloc, CertificationVersion, Competence, EvaluationModality

FORMAT_VERSION = 1
SHIPPED_FILE = Path(__file__).resolve().parent / "data" / "assistant-de-production.json"

VERSION_FIELDS = [
    "title",
    "certifier",
    "rncp_code",
    "version",
    "status",
    "registration_decision_date",
    "national_level",
    "european_level",
    "nsf_codes",
    "certificate_prefix",
    "issue_place",
    "signatory_name",
    "signatory_title",
    "competence_threshold",
    "note",
]
# The mentions printed on certificates: the office may fill them in on a frozen
# version, so reloading its file compares the structure without them.
MENTION_FIELDS = [
    "certifier",
    "rncp_code",
    "registration_decision_date",
    "national_level",
    "european_level",
    "nsf_codes",
    "certificate_prefix",
    "issue_place",
    "signatory_name",
    "signatory_title",
]
BLOC_FIELDS = ["number", "title", "optional", "validity_years", "note"]
ACTIVITY_FIELDS = ["code", "title", "note"]
COMPETENCE_FIELDS = ["code", "statement", "note"]
CRITERION_FIELDS = ["label", "note"]
MODALITY_FIELDS = [
    "code",
    "kind",
    "title",
    "instructions",
    "group_work",
    "assessed_by",
    "note",
]
LEVEL_FIELDS = ["value", "label", "passing"]


def export_version(version):
    """The version's referential as a dict, in the file format."""
    version = (
        CertificationVersion.objects.filter(pk=version.pk)
        .prefetch_related(
            "grading_levels",
            Prefetch(
                "blocs",
                queryset=Bloc.objects.prefetch_related(
                    "activities",
                    Prefetch(
                        "competences",
                        queryset=Competence.objects.select_related("activity").prefetch_related(
                            "criteria"
                        ),
                    ),
                    Prefetch(
                        "modalities",
                        queryset=EvaluationModality.objects.prefetch_related("competences"),
                    ),
                ),
            ),
        )
        .get()
    )
    return {
        "format": FORMAT_VERSION,
        "certification": {
            "title": version.title,
            "certifier": version.certifier,
            "rncp_code": version.rncp_code,
            "version": version.version,
            "status": version.status,
            "registration_decision_date": (
                version.registration_decision_date.isoformat()
                if version.registration_decision_date
                else None
            ),
            "national_level": version.national_level,
            "european_level": version.european_level,
            "nsf_codes": version.nsf_codes,
            "certificate_prefix": version.certificate_prefix,
            "issue_place": version.issue_place,
            "signatory_name": version.signatory_name,
            "signatory_title": version.signatory_title,
            "competence_threshold": version.competence_threshold,
            "grading_scale": {
                "kind": version.scale_kind,
                "levels": [
                    {
                        "value": level.value,
                        "label": level.label,
                        "passing": level.passing,
                    }
                    for level in version.grading_levels.all()
                ],
                "numeric_max": version.numeric_max,
                "numeric_pass_mark": version.numeric_pass_mark,
            },
            "note": version.note,
        },
        "blocs": [
            {
                "number": bloc.number,
                "title": bloc.title,
                "optional": bloc.optional,
                "validity_years": bloc.validity_years,
                "note": bloc.note,
                "activities": [
                    {"code": a.code, "title": a.title, "tasks": a.tasks, "note": a.note}
                    for a in bloc.activities.all()
                ],
                "competences": [
                    {
                        "code": c.code,
                        "activity": c.activity.code,
                        "statement": c.statement,
                        "note": c.note,
                        "criteria": [
                            {"label": criterion.label, "note": criterion.note}
                            for criterion in c.criteria.all()
                        ],
                    }
                    for c in bloc.competences.all()
                ],
                "modalities": [
                    {
                        "code": m.code,
                        "kind": m.kind,
                        "title": m.title,
                        "instructions": m.instructions,
                        "assessed_by": m.assessed_by,
                        "group_work": m.group_work,
                        "note": m.note,
                        "competences": sorted(
                            (c.code for c in m.competences.all()),
                            key=competence_sort_key,
                        ),
                    }
                    for m in bloc.modalities.all()
                ],
            }
            for bloc in version.blocs.all()
        ],
    }


def competence_sort_key(code):
    """C2.10 after C2.9: compare the numbers, not the text."""
    return tuple(int(part) if part.isdigit() else part for part in code[1:].split("."))


def dump_referential(data):
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"
