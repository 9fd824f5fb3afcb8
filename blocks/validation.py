"""The referential file checked: JSON in, canonical form out.

`validate_referential` turns a parsed file into its canonical form (the exact
shape `blocks.export.export_version` produces) or raises `ReferentialFileError`
listing the place and reason of every error. Loading writes that canonical
form; so exporting, loading into an empty database and exporting again is
identical.

A little over 400 lines on purpose: one validator walks the whole file so that
every error is reported at once, each level of the referential a method.
"""

import json
from dataclasses import dataclass

from django import forms

from .export import (
    ACTIVITY_FIELDS,
    BLOC_FIELDS,
    COMPETENCE_FIELDS,
    CRITERION_FIELDS,
    FORMAT_VERSION,
    LEVEL_FIELDS,
    MODALITY_FIELDS,
    VERSION_FIELDS,
    competence_sort_key,
)
from .models import (
    Activity,
    Bloc,
    CertificationVersion,
    Competence,
    Criterion,
    EvaluationModality,
    GradingLevel,
)


@dataclass(frozen=True)
class FileProblem:
    place: str
    reason: str

    def __str__(self):
        return f"{self.place} : {self.reason}" if self.place else self.reason


class ReferentialFileError(Exception):
    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


def _entry_form(model, field_names):
    """A form checking one JSON object against the model's own field rules."""
    return type(
        f"{model.__name__}Entry",
        (forms.Form,),
        forms.fields_for_model(model, fields=field_names),
    )


VersionEntry = _entry_form(CertificationVersion, VERSION_FIELDS)
BlocEntry = _entry_form(Bloc, BLOC_FIELDS)
ActivityEntry = _entry_form(Activity, ACTIVITY_FIELDS)
CompetenceEntry = _entry_form(Competence, COMPETENCE_FIELDS)
CriterionEntry = _entry_form(Criterion, CRITERION_FIELDS)
ModalityEntry = _entry_form(EvaluationModality, MODALITY_FIELDS)
LevelEntry = _entry_form(GradingLevel, LEVEL_FIELDS)


class _Validator:
    def __init__(self):
        self.problems = []

    def problem(self, place, reason):
        self.problems.append(FileProblem(place, reason))

    def object_at(self, value, place):
        if not isinstance(value, dict):
            self.problem(place, "un objet JSON est attendu.")
            return None
        return value

    def list_at(self, value, place):
        if not isinstance(value, list):
            self.problem(place, "une liste JSON est attendue.")
            return []
        return value

    def clean(self, entry_form, data, place, required):
        """Check required keys and field values; return cleaned values or None."""
        missing = [key for key in required if key not in data]
        for key in missing:
            self.problem(f"{place}.{key}", "champ obligatoire manquant.")
        fields = entry_form.base_fields
        for key, value in data.items():
            field = fields.get(key)
            if isinstance(field, forms.BooleanField) and not isinstance(value, bool):
                self.problem(f"{place}.{key}", "true ou false est attendu.")
                missing.append(key)
        # Keys left out of the file take the model's defaults.
        values = {key: field.initial for key, field in fields.items() if field.initial is not None}
        values.update((key, "" if value is None else value) for key, value in data.items())
        form = entry_form(data=values)
        if not form.is_valid():
            for key, errors in form.errors.items():
                if key not in missing:
                    self.problem(f"{place}.{key}", " ".join(errors))
            return None
        return None if missing else form.cleaned_data

    def text_list(self, value, place):
        items = self.list_at(value, place)
        if not all(isinstance(item, str) and item.strip() for item in items):
            self.problem(place, "une liste de textes non vides est attendue.")
            return []
        return [item.strip() for item in items]

    def validate(self, data):
        root = self.object_at(data, "fichier")
        if root is None:
            return None
        certification = self.certification(root)
        blocs = [
            self.bloc(bloc, f"blocs[{index}]")
            for index, bloc in enumerate(self.list_at(root.get("blocs"), "blocs"))
        ]
        if "blocs" in root and not blocs:
            self.problem("blocs", "au moins un bloc est attendu.")
        self.unique([b for b in blocs if b], "number", "blocs", "numéro de bloc")
        self.unique(
            [a for b in blocs if b for a in b["activities"]],
            "code",
            "blocs",
            "code d'activité",
        )
        self.unique(
            [c for b in blocs if b for c in b["competences"]],
            "code",
            "blocs",
            "code de compétence",
        )
        if self.problems:
            return None
        return {
            "format": FORMAT_VERSION,
            "certification": certification,
            "blocs": blocs,
        }

    def unique(self, items, key, place, what):
        seen = set()
        for item in items:
            if item[key] in seen:
                self.problem(place, f"{what} en double : {item[key]}.")
            seen.add(item[key])

    def certification(self, root):
        place = "certification"
        data = self.object_at(root.get("certification"), place)
        if data is None:
            return None
        cleaned = self.clean(
            VersionEntry,
            {k: v for k, v in data.items() if k != "grading_scale"},
            place,
            required=["title", "certifier", "rncp_code", "version"],
        )
        scale = self.grading_scale(data.get("grading_scale"), f"{place}.grading_scale")
        if cleaned is None or scale is None:
            return None
        decision_date = cleaned["registration_decision_date"]
        return {
            "title": cleaned["title"],
            "certifier": cleaned["certifier"],
            "rncp_code": cleaned["rncp_code"],
            "version": cleaned["version"],
            "status": cleaned["status"],
            "registration_decision_date": decision_date.isoformat() if decision_date else None,
            "national_level": cleaned["national_level"],
            "european_level": cleaned["european_level"],
            "nsf_codes": cleaned["nsf_codes"],
            "certificate_prefix": cleaned["certificate_prefix"],
            "issue_place": cleaned["issue_place"],
            "signatory_name": cleaned["signatory_name"],
            "signatory_title": cleaned["signatory_title"],
            "competence_threshold": cleaned["competence_threshold"],
            "grading_scale": scale,
            "note": cleaned["note"],
        }

    def grading_scale(self, value, place):
        data = self.object_at(value, place)
        if data is None:
            return None
        kind = data.get("kind")
        if kind not in CertificationVersion.ScaleKind.values:
            self.problem(f"{place}.kind", "« levels » ou « numeric » est attendu.")
            return None
        levels = []
        for index, level in enumerate(self.list_at(data.get("levels", []), f"{place}.levels")):
            level_place = f"{place}.levels[{index}]"
            level = self.object_at(level, level_place)
            if level is None:
                continue
            cleaned = self.clean(LevelEntry, level, level_place, required=LEVEL_FIELDS)
            if cleaned:
                levels.append(cleaned)
        numeric_max = data.get("numeric_max", 20)
        numeric_pass_mark = data.get("numeric_pass_mark", 10)
        for reason in scale_problems(kind, levels, numeric_max, numeric_pass_mark):
            self.problem(place, reason)
        return {
            "kind": kind,
            "levels": sorted(levels, key=lambda level: level["value"]),
            "numeric_max": numeric_max,
            "numeric_pass_mark": numeric_pass_mark,
        }

    def bloc(self, value, place):
        data = self.object_at(value, place)
        if data is None:
            return None
        cleaned = self.clean(
            BlocEntry,
            {k: v for k, v in data.items() if k in BLOC_FIELDS},
            place,
            required=["number", "title", "optional"],
        )
        for key in ("activities", "competences", "modalities"):
            if key not in data:
                self.problem(f"{place}.{key}", "champ obligatoire manquant.")
        activities = self.children(
            data,
            "activities",
            place,
            lambda item, where, index: self.activity(item, where),
        )
        activity_codes = {activity["code"] for activity in activities}
        competences = self.children(
            data,
            "competences",
            place,
            lambda item, where, index: self.competence(item, where, activity_codes),
        )
        competence_codes = {competence["code"] for competence in competences}
        bloc_number = cleaned["number"] if cleaned else 0
        modalities = self.children(
            data,
            "modalities",
            place,
            lambda item, where, index: self.modality(
                item,
                where,
                competence_codes,
                default_code=f"M{bloc_number}.{index + 1}",
            ),
        )
        self.unique(modalities, "code", f"{place}.modalities", "code de modalité")
        if cleaned is None:
            return None
        return {
            "number": cleaned["number"],
            "title": cleaned["title"],
            "optional": cleaned["optional"],
            "validity_years": cleaned["validity_years"],
            "note": cleaned["note"],
            "activities": activities,
            "competences": competences,
            "modalities": modalities,
        }

    def children(self, data, key, place, clean_child):
        cleaned = []
        for index, item in enumerate(self.list_at(data.get(key, []), f"{place}.{key}")):
            child = clean_child(item, f"{place}.{key}[{index}]", index)
            if child is not None:
                cleaned.append(child)
        return cleaned

    def activity(self, value, place):
        data = self.object_at(value, place)
        if data is None:
            return None
        cleaned = self.clean(
            ActivityEntry,
            {k: v for k, v in data.items() if k in ACTIVITY_FIELDS},
            place,
            required=["code", "title"],
        )
        if "tasks" not in data:
            self.problem(f"{place}.tasks", "champ obligatoire manquant.")
        tasks = self.text_list(data.get("tasks", []), f"{place}.tasks")
        if cleaned is None:
            return None
        return {
            "code": cleaned["code"],
            "title": cleaned["title"],
            "tasks": tasks,
            "note": cleaned["note"],
        }

    def competence(self, value, place, activity_codes):
        data = self.object_at(value, place)
        if data is None:
            return None
        cleaned = self.clean(
            CompetenceEntry,
            {k: v for k, v in data.items() if k in COMPETENCE_FIELDS},
            place,
            required=["code", "statement"],
        )
        activity = data.get("activity")
        if activity is None:
            self.problem(f"{place}.activity", "champ obligatoire manquant.")
        elif activity not in activity_codes:
            self.problem(f"{place}.activity", f"activité inconnue dans ce bloc : {activity}.")
        if "criteria" not in data:
            self.problem(f"{place}.criteria", "champ obligatoire manquant.")
        criteria = []
        for index, item in enumerate(self.list_at(data.get("criteria", []), f"{place}.criteria")):
            where = f"{place}.criteria[{index}]"
            item = self.object_at(item, where)
            if item is not None:
                criterion = self.clean(CriterionEntry, item, where, required=["label"])
                if criterion:
                    criteria.append({"label": criterion["label"], "note": criterion["note"]})
        if cleaned is None:
            return None
        return {
            "code": cleaned["code"],
            "activity": activity,
            "statement": cleaned["statement"],
            "note": cleaned["note"],
            "criteria": criteria,
        }

    def modality(self, value, place, competence_codes, default_code):
        data = self.object_at(value, place)
        if data is None:
            return None
        # The code is optional in the file: a missing one is numbered in its bloc.
        fields = {"code": default_code}
        fields.update((k, v) for k, v in data.items() if k in MODALITY_FIELDS and v != "")
        cleaned = self.clean(
            ModalityEntry, fields, place, required=["kind", "title", "instructions"]
        )
        if "competences" not in data:
            self.problem(f"{place}.competences", "champ obligatoire manquant.")
        competences = self.text_list(data.get("competences", []), f"{place}.competences")
        for code in competences:
            if code not in competence_codes:
                self.problem(
                    f"{place}.competences",
                    f"compétence inconnue dans ce bloc : {code}.",
                )
        if "competences" in data and not competences:
            self.problem(f"{place}.competences", "au moins une compétence évaluée est attendue.")
        if cleaned is None:
            return None
        return {
            "code": cleaned["code"],
            "kind": cleaned["kind"],
            "title": cleaned["title"],
            "instructions": cleaned["instructions"],
            "assessed_by": cleaned["assessed_by"],
            "group_work": cleaned["group_work"],
            "note": cleaned["note"],
            "competences": sorted(competences, key=competence_sort_key),
        }


def scale_problems(kind, levels, numeric_max, numeric_pass_mark):
    """Why a grading scale is unusable, in French; empty when it is sound.

    `levels` are dicts with value, label and passing."""
    if kind == CertificationVersion.ScaleKind.NUMERIC:
        if not all(
            isinstance(n, int) and not isinstance(n, bool) for n in (numeric_max, numeric_pass_mark)
        ):
            return ["la note maximale et la note de réussite doivent être des nombres entiers."]
        if numeric_max < 1 or not 0 <= numeric_pass_mark <= numeric_max:
            return ["la note de réussite doit être comprise entre 0 et la note maximale."]
        return []
    problems = []
    values = [level["value"] for level in levels]
    if len(levels) < 2:
        problems.append("une échelle à niveaux compte au moins deux niveaux.")
    if len(set(values)) != len(values):
        problems.append("deux niveaux de l'échelle ont la même valeur.")
    ordered = sorted(levels, key=lambda level: level["value"])
    passing = [level["passing"] for level in ordered]
    if not any(passing):
        problems.append("au moins un niveau de l'échelle doit être un niveau de réussite.")
    elif passing != sorted(passing):
        problems.append("les niveaux de réussite doivent être les plus élevés de l'échelle.")
    return problems


def parse_referential(text):
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise ReferentialFileError(
            [
                FileProblem(
                    f"ligne {error.lineno}, colonne {error.colno}",
                    f"JSON invalide ({error.msg}).",
                )
            ]
        ) from None


def validate_referential(data):
    validator = _Validator()
    canonical = validator.validate(data)
    if validator.problems:
        raise ReferentialFileError(validator.problems)
    return canonical
