"""Import of a promotion's candidates from a spreadsheet: all or nothing.

The file format, as the README gives it to the office:

Format du fichier d'import d'une promotion
------------------------------------------

* Un fichier ``.csv`` en UTF-8 (avec ou sans BOM) ou en Windows-1252 (l'export
  « CSV (séparateur : point-virgule) » d'Excel), séparé par ``;`` ou ``,``
  (celui que la ligne d'en-tête emploie le plus) ; ou un classeur ``.xlsx``,
  dont seule la première feuille est lue. Toute autre extension est refusée.
* La première ligne non vide est l'en-tête. Les noms de colonnes se comparent
  sans tenir compte de la casse, des accents, des espaces, tirets, soulignés,
  apostrophes et points, ni des petits mots « de », « du », « d' », « la »,
  « le », « l' », « des » : « Nom de naissance », « NOM_NAISSANCE » et
  « nom-naissance » désignent la même colonne. Les autres colonnes sont
  ignorées, les lignes vides aussi.

  ====================  ===========  ===========================================
  colonne               obligatoire  autres en-têtes acceptés, valeurs
  ====================  ===========  ===========================================
  nom_naissance         oui          nom de famille, birth_name
  nom_usage                          nom marital, usage_name
  prenoms               oui          prénom, first_names — tous les prénoms
  sexe                  oui          sex — F ou M (ou Féminin, Masculin)
  date_naissance        oui          birth_date — JJ/MM/AAAA ou AAAA-MM-JJ (ou
                                     une cellule date dans un .xlsx)
  commune_naissance                  lieu de naissance, ville de naissance
  code_insee_naissance               code INSEE, code INSEE de la commune de
                                     naissance, INSEE — 5 caractères (75056,
                                     2A004)
  pays_naissance                     pays de naissance
  email                              courriel, adresse électronique, adresse
                                     e-mail, mail
  telephone                          tél, téléphone portable, portable, phone
  voie_acces            oui          voie d'accès, voie, access_route — le code
                                     (formation_initiale, apprentissage,
                                     formation_continue,
                                     contrat_professionnalisation, vae,
                                     candidat_libre) ou le libellé (« Contrat
                                     de professionnalisation »…)
  blocs_optionnels                   bloc optionnel, options — numéros de blocs
                                     optionnels de la certification, séparés
                                     par des virgules ou des espaces (« 4 »)
  ====================  ===========  ===========================================

* Né(e) en France : ``code_insee_naissance`` renseigné et ``pays_naissance``
  vide (ou « France »). Né(e) à l'étranger : ``pays_naissance`` renseigné, sans
  code INSEE.
* Dans un ``.xlsx``, un code INSEE ou un téléphone saisi comme nombre retrouve
  le zéro initial qu'Excel a retiré (1053 → 01053, 612345678 → 0612345678).
* Une ligne dont le nom de naissance, les prénoms et la date de naissance
  désignent un candidat existant (casse, accents et espaces mis à part) inscrit
  ce candidat : sa fiche n'est jamais modifiée. Réimporter le même fichier ne
  crée donc rien. Une adresse électronique déjà utilisée par un autre candidat
  est refusée, comme un doublon dans le fichier (même identité ou même
  adresse).
* Une seule ligne en erreur fait refuser tout le fichier, sans rien écrire ;
  chaque problème est signalé avec son numéro de ligne (l'en-tête est la
  ligne 1).
"""

import csv
import datetime
import io
import re
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path, PurePath

from django import forms
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models.functions import Lower
from django.utils import timezone
from openpyxl import load_workbook

from blocks.models import Bloc, CertificationVersion
from core.audit import record_event, record_events

from .models import Candidate, Cohort, Enrolment, identity_key

# A promotion of 12 fictional candidates in this format, shipped as an example.
SAMPLE_FILE = Path(__file__).resolve().parent / "data" / "exemple-promotion.csv"

CREATE = "create"
ENROL_EXISTING = "enrol_existing"
ALREADY_ENROLLED = "already_enrolled"

NO_CANDIDATE = "le fichier ne contient aucun candidat"
UNSUPPORTED_FORMAT = "format non pris en charge : utilisez un fichier .csv ou .xlsx"

# SQLite refuses more than 999 parameters in one query.
QUERY_CHUNK = 500
INSERT_BATCH = 500


@dataclass(frozen=True)
class RowProblem:
    line: int  # line in the file, the header being line 1; 0 for the whole file
    reason: str

    def __str__(self):
        return f"ligne {self.line} : {self.reason}" if self.line else self.reason


class ImportRefused(Exception):
    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


@dataclass
class PlannedRow:
    line: int
    values: dict  # Candidate identity fields, cleaned
    access_route: str
    optional_blocs: list[Bloc] = field(default_factory=list)
    candidate: Candidate | None = None  # the existing candidate with this identity
    action: str = CREATE

    @property
    def access_route_label(self):
        return Enrolment.AccessRoute(self.access_route).label

    @property
    def display_name(self):
        if self.candidate is not None:
            return self.candidate.full_name
        name = self.values.get("usage_name") or self.values.get("birth_name", "")
        return f"{name} {self.values.get('first_names', '')}".strip()


@dataclass
class ImportPlan:
    rows: list[PlannedRow] = field(default_factory=list)
    problems: list[RowProblem] = field(default_factory=list)

    @property
    def is_valid(self):
        return not self.problems and bool(self.rows)

    @property
    def to_create(self):
        return [row for row in self.rows if row.action == CREATE]

    @property
    def to_enrol_existing(self):
        return [row for row in self.rows if row.action == ENROL_EXISTING]

    @property
    def already_enrolled(self):
        return [row for row in self.rows if row.action == ALREADY_ENROLLED]


# --- Columns --------------------------------------------------------------

_SMALL_WORDS = {"de", "du", "d", "la", "le", "l", "des"}


def _fold(text):
    """A header or a value as compared: no case, accents, punctuation or small words."""
    text = unicodedata.normalize("NFKD", str(text))
    text = "".join(c for c in text if not unicodedata.combining(c)).casefold()
    return "".join(word for word in re.split(r"[^0-9a-z]+", text) if word not in _SMALL_WORDS)


@dataclass(frozen=True)
class Column:
    name: str
    label: str  # as named in a problem
    required: bool = False
    aliases: tuple[str, ...] = ()
    candidate_field: str | None = None


COLUMNS = [
    Column(
        "nom_naissance",
        "nom de naissance",
        required=True,
        aliases=("nom de famille", "birth_name"),
        candidate_field="birth_name",
    ),
    Column(
        "nom_usage",
        "nom d'usage",
        aliases=("nom marital", "usage_name"),
        candidate_field="usage_name",
    ),
    Column(
        "prenoms",
        "prénoms",
        required=True,
        aliases=("prénom", "first_names"),
        candidate_field="first_names",
    ),
    Column("sexe", "sexe", required=True, aliases=("sex",), candidate_field="sex"),
    Column(
        "date_naissance",
        "date de naissance",
        required=True,
        aliases=("birth_date",),
        candidate_field="birth_date",
    ),
    Column(
        "commune_naissance",
        "commune de naissance",
        aliases=("lieu de naissance", "ville de naissance", "birth_commune"),
        candidate_field="birth_commune",
    ),
    Column(
        "code_insee_naissance",
        "code INSEE de naissance",
        aliases=(
            "code INSEE",
            "code INSEE de la commune de naissance",
            "INSEE",
            "birth_insee_code",
        ),
        candidate_field="birth_insee_code",
    ),
    Column(
        "pays_naissance",
        "pays de naissance",
        aliases=("birth_country",),
        candidate_field="birth_country",
    ),
    Column(
        "email",
        "adresse électronique",
        aliases=("courriel", "adresse électronique", "adresse e-mail", "mail"),
        candidate_field="email",
    ),
    Column(
        "telephone",
        "téléphone",
        aliases=("tél", "téléphone portable", "portable", "phone"),
        candidate_field="phone",
    ),
    Column(
        "voie_acces",
        "voie d'accès",
        required=True,
        aliases=("voie", "access_route"),
    ),
    Column("blocs_optionnels", "blocs optionnels", aliases=("bloc optionnel", "options")),
]
COLUMN_BY_HEADER = {
    _fold(header): column for column in COLUMNS for header in (column.name, *column.aliases)
}
COLUMN_BY_FIELD = {column.candidate_field: column for column in COLUMNS if column.candidate_field}

SEX_BY_VALUE = {
    _fold(value): code for code, label in Candidate.Sex.choices for value in (code, label)
}
ROUTE_BY_VALUE = {
    _fold(value): code for code, label in Enrolment.AccessRoute.choices for value in (code, label)
}
DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d")


class _IdentityRules(forms.Form):
    """Adds the model fields' own validators (such as the INSEE code pattern),
    which form fields built from model fields do not carry."""

    def clean(self):
        cleaned = super().clean()
        for name, value in list(cleaned.items()):
            try:
                Candidate._meta.get_field(name).run_validators(value)
            except ValidationError as error:
                self.add_error(name, error)
        return cleaned


# The birth date is read apart: only two formats are accepted, not the locale's.
FORM_FIELDS = [name for name in COLUMN_BY_FIELD if name != "birth_date"]
IdentityForm = type(
    "IdentityForm", (_IdentityRules,), forms.fields_for_model(Candidate, fields=FORM_FIELDS)
)


# --- Reading the file -----------------------------------------------------


class _Unreadable(Exception):
    pass


def _read_records(filename, content):
    """[(line, cells)] of the whole file, blank lines included."""
    extension = PurePath(filename or "").suffix.lower()
    if extension == ".csv":
        return _csv_records(content)
    if extension == ".xlsx":
        return _xlsx_records(content)
    raise _Unreadable(UNSUPPORTED_FORMAT)


def _decode(content):
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return content.decode("cp1252")
    except UnicodeDecodeError:
        raise _Unreadable(
            "encodage du fichier non reconnu : enregistrez-le en « CSV UTF-8 »"
        ) from None


def _csv_records(content):
    text = _decode(content)
    header = next((line for line in text.splitlines() if line.strip()), "")
    delimiter = ";" if header.count(";") >= header.count(",") else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    records = []
    line = 1
    try:
        for cells in reader:
            records.append((line, cells))
            # A quoted cell may span several lines: the next record starts after it.
            line = reader.line_num + 1
    except csv.Error as error:
        raise _Unreadable(f"fichier CSV illisible à la ligne {line} : {error}") from None
    return records


def _xlsx_records(content):
    try:
        workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
    except Exception:  # a damaged workbook fails in many ways inside openpyxl
        raise _Unreadable("fichier .xlsx illisible : est-ce bien un classeur Excel ?") from None
    try:
        sheet = workbook.worksheets[0]
        return list(enumerate((list(row) for row in sheet.iter_rows(values_only=True)), start=1))
    finally:
        workbook.close()


def _text(value, column_name=""):
    """A cell as text; a number gets back the leading zero a spreadsheet dropped."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, int) and not isinstance(value, bool):
        if column_name == "code_insee_naissance":
            return f"{value:05d}"  # 1053 was typed 01053 (Bourg-en-Bresse)
        if column_name == "telephone" and 100_000_000 <= value <= 999_999_999:
            return f"0{value}"  # 612345678 was typed 06 12 34 56 78
    return str(value).strip()


def _is_blank(cells):
    return all(_text(cell) == "" for cell in cells)


def _read_header(line, cells):
    """{column name: position}, or the problems of the header line."""
    positions = {}
    headers = {}
    problems = []
    for position, cell in enumerate(cells):
        header = _text(cell)
        column = COLUMN_BY_HEADER.get(_fold(header)) if header else None
        if column is None:
            continue
        if column.name in positions:
            problems.append(
                RowProblem(
                    line,
                    f"colonne en double : « {headers[column.name]} » et « {header} » "
                    f"désignent toutes deux {column.name}",
                )
            )
        positions[column.name] = position
        headers[column.name] = header
    for column in COLUMNS:
        if column.required and column.name not in positions:
            problems.append(RowProblem(line, f"colonne obligatoire absente : {column.name}"))
    return positions, problems


# --- Checking rows --------------------------------------------------------


def _parse_date(value):
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    for date_format in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(_text(value), date_format).date()
        except ValueError:
            continue
    return None


def _check_row(line, cells, positions, blocs_by_number):
    """The row as planned (its values may be partial) and its problems."""
    raw = {
        column.name: cells[positions[column.name]]
        if column.name in positions and positions[column.name] < len(cells)
        else None
        for column in COLUMNS
    }
    texts = {name: _text(value, name) for name, value in raw.items()}
    reasons = []
    reported = set()  # columns already explained, whose form error would repeat it

    for column in COLUMNS:
        if column.required and not texts[column.name]:
            reasons.append(f"champ obligatoire vide : {column.label}")
            reported.add(column.name)

    sex = SEX_BY_VALUE.get(_fold(texts["sexe"]), "")
    if texts["sexe"] and not sex:
        reasons.append(f"sexe invalide (« {texts['sexe']} ») : F ou M attendu")
        reported.add("sexe")

    birth_date = _parse_date(raw["date_naissance"]) if texts["date_naissance"] else None
    if texts["date_naissance"] and birth_date is None:
        reasons.append(
            f"date de naissance invalide (« {texts['date_naissance']} ») : "
            "JJ/MM/AAAA ou AAAA-MM-JJ attendu"
        )
    elif birth_date and birth_date > timezone.localdate():
        reasons.append(f"date de naissance dans le futur ({birth_date:%d/%m/%Y})")
        birth_date = None

    insee = texts["code_insee_naissance"]
    country = texts["pays_naissance"]
    if _fold(country) == "france":  # "France" written out still means born in France
        country = ""
    if not insee and not country:
        reasons.append(
            "lieu de naissance manquant : indiquez le code INSEE de la commune pour une "
            "naissance en France, ou le pays pour une naissance à l'étranger"
        )
    elif insee and country:
        reasons.append(
            f"lieu de naissance contradictoire : code INSEE (« {insee} ») et pays "
            f"(« {country} ») sont renseignés ; le code INSEE seul pour une naissance en "
            "France, le pays seul pour une naissance à l'étranger"
        )

    form_data = {name: texts[COLUMN_BY_FIELD[name].name] for name in FORM_FIELDS}
    form_data.update(sex=sex, birth_country=country)
    form = IdentityForm(data=form_data)
    for field_name, errors in form.errors.items():
        column = COLUMN_BY_FIELD[field_name]
        if column.name not in reported:
            reasons.append(
                f"{column.label} invalide (« {texts[column.name]} ») : {' '.join(errors)}"
            )

    access_route = ROUTE_BY_VALUE.get(_fold(texts["voie_acces"]), "")
    if texts["voie_acces"] and not access_route:
        reasons.append(
            f"voie d'accès inconnue (« {texts['voie_acces']} ») : "
            + ", ".join(Enrolment.AccessRoute.values)
            + " (ou leur libellé) attendu"
        )

    optional_blocs, bloc_reasons = _optional_blocs(texts["blocs_optionnels"], blocs_by_number)
    reasons += bloc_reasons

    values = dict(form.cleaned_data)
    if birth_date:
        values["birth_date"] = birth_date
    row = PlannedRow(
        line=line, values=values, access_route=access_route, optional_blocs=optional_blocs
    )
    return row, [RowProblem(line, reason) for reason in reasons]


def _optional_blocs(text, blocs_by_number):
    optional_numbers = sorted(n for n, bloc in blocs_by_number.items() if bloc.optional)
    choice = (
        "les blocs optionnels de la certification sont : "
        + ", ".join(str(number) for number in optional_numbers)
        if optional_numbers
        else "la certification n'a aucun bloc optionnel"
    )
    chosen = []
    reasons = []
    for token in re.split(r"[\s,;]+", text):
        if not token:
            continue
        if not token.isdigit():
            reasons.append(f"bloc optionnel invalide (« {token} ») : numéro de bloc attendu")
            continue
        bloc = blocs_by_number.get(int(token))
        if bloc is None:
            reasons.append(f"bloc {token} inconnu : {choice}")
        elif not bloc.optional:
            reasons.append(f"le bloc {bloc.number} n'est pas optionnel : {choice}")
        elif bloc not in chosen:
            chosen.append(bloc)
    return chosen, reasons


def _key(row):
    values = row.values
    if not all(values.get(name) for name in ("birth_name", "first_names", "birth_date")):
        return None
    return identity_key(values["birth_name"], values["first_names"], values["birth_date"])


def _email(row):
    # Lower() in SQL, lower() here: the same folding on both sides.
    return row.values.get("email", "").lower()


def _duplicates_in_file(rows):
    first_line_by_key = {}
    first_line_by_email = {}
    problems = []
    for row in rows:
        key, email = _key(row), _email(row)
        if key and key in first_line_by_key:
            problems.append(
                RowProblem(
                    row.line,
                    f"doublon de la ligne {first_line_by_key[key]} "
                    "(même nom de naissance, prénoms et date de naissance)",
                )
            )
        elif email and email in first_line_by_email:
            problems.append(
                RowProblem(
                    row.line,
                    f"doublon de la ligne {first_line_by_email[email]} (même adresse électronique)",
                )
            )
        if key:
            first_line_by_key.setdefault(key, row.line)
        if email:
            first_line_by_email.setdefault(email, row.line)
    return problems


def _chunks(values):
    values = sorted(values)
    return [values[start : start + QUERY_CHUNK] for start in range(0, len(values), QUERY_CHUNK)]


def _match_existing(cohort, rows):
    """Set each row's existing candidate and action; the problems met doing so.

    A few queries for the whole file: identity keys are compared in Python."""
    candidates_by_key = defaultdict(list)
    birth_dates = {row.values["birth_date"] for row in rows if _key(row)}
    for chunk in _chunks(birth_dates):
        for candidate in Candidate.objects.filter(birth_date__in=chunk):
            candidates_by_key[candidate.identity_key].append(candidate)
    owner_by_email = {}
    emails = {_email(row) for row in rows if _email(row)}
    for chunk in _chunks(emails):
        owners = Candidate.objects.annotate(folded_email=Lower("email"))
        for candidate in owners.filter(folded_email__in=chunk):
            owner_by_email[candidate.folded_email] = candidate
    enrolled_ids = set(cohort.enrolments.values_list("candidate_id", flat=True))

    problems = []
    for row in rows:
        key = _key(row)
        matches = candidates_by_key.get(key, []) if key else []
        if len(matches) > 1:
            problems.append(
                RowProblem(
                    row.line,
                    "plusieurs candidats existants ont cette identité ("
                    + ", ".join(f"n° {candidate.pk}" for candidate in matches)
                    + ") : fusionnez leurs fiches avant l'import",
                )
            )
            continue
        existing = matches[0] if matches else None
        owner = owner_by_email.get(_email(row))
        if owner is not None and owner != existing:
            problems.append(
                RowProblem(
                    row.line,
                    f"adresse électronique déjà utilisée par un autre candidat : "
                    f"{owner.full_name}, né(e) le {owner.birth_date:%d/%m/%Y}",
                )
            )
        row.candidate = existing
        if existing is None:
            row.action = CREATE
        elif existing.pk in enrolled_ids:
            row.action = ALREADY_ENROLLED
        else:
            row.action = ENROL_EXISTING
    return problems


# --- Planning and applying ------------------------------------------------


def plan_import(cohort, filename, content):
    """What importing this file into the cohort would do, or why it cannot.

    Reads the database, writes nothing."""
    if cohort.certification_version.status != CertificationVersion.Status.ACTIVE:
        return ImportPlan(
            problems=[
                RowProblem(0, "la version de certification de cette promotion n'est plus active")
            ]
        )
    try:
        records = _read_records(filename, content)
    except _Unreadable as error:
        return ImportPlan(problems=[RowProblem(0, str(error))])
    records = [(line, cells) for line, cells in records if not _is_blank(cells)]
    if not records:
        return ImportPlan(problems=[RowProblem(0, NO_CANDIDATE)])
    (header_line, header), body = records[0], records[1:]
    positions, header_problems = _read_header(header_line, header)
    if header_problems:
        return ImportPlan(problems=header_problems)
    if not body:
        return ImportPlan(problems=[RowProblem(0, NO_CANDIDATE)])

    blocs_by_number = {
        bloc.number: bloc
        for bloc in Bloc.objects.filter(certification_version_id=cohort.certification_version_id)
    }
    rows = []
    problems = []
    for line, cells in body:
        row, row_problems = _check_row(line, cells, positions, blocs_by_number)
        rows.append(row)
        problems += row_problems
    problems += _duplicates_in_file(rows)
    problems += _match_existing(cohort, rows)
    problems.sort(key=lambda problem: problem.line)
    bad_lines = {problem.line for problem in problems}
    return ImportPlan(rows=[row for row in rows if row.line not in bad_lines], problems=problems)


def apply_import(cohort, filename, content, *, by):
    """Import the file into the cohort, entirely, or raise ImportRefused and write nothing."""
    with transaction.atomic():
        cohort = (
            Cohort.objects.select_for_update()
            .select_related("certification_version")
            .get(pk=cohort.pk)
        )
        plan = plan_import(cohort, filename, content)
        if not plan.is_valid:
            raise ImportRefused(plan.problems)
        created = Candidate.objects.bulk_create(
            [Candidate(**row.values) for row in plan.to_create], batch_size=INSERT_BATCH
        )
        to_enrol = list(zip(created, plan.to_create, strict=True)) + [
            (row.candidate, row) for row in plan.to_enrol_existing
        ]
        enrolments = Enrolment.objects.bulk_create(
            [
                Enrolment(
                    candidate=candidate,
                    cohort=cohort,
                    access_route=row.access_route,
                    status=Enrolment.Status.ENROLLED,
                )
                for candidate, row in to_enrol
            ],
            batch_size=INSERT_BATCH,
        )
        Choice = Enrolment.optional_blocs.through
        Choice.objects.bulk_create(
            [
                Choice(enrolment_id=enrolment.pk, bloc_id=bloc.pk)
                for enrolment, (_, row) in zip(enrolments, to_enrol, strict=True)
                for bloc in row.optional_blocs
            ],
            batch_size=INSERT_BATCH,
        )
        record_events(
            actor=by,
            action="candidates.candidate.imported",
            targets=created,
            data={"file": filename},
        )
        record_events(
            actor=by,
            action="candidates.enrolment.imported",
            targets=enrolments,
            data={"file": filename},
        )
        record_event(
            actor=by,
            action="candidates.import.applied",
            target=cohort,
            data={
                "file": filename,
                "created": len(plan.to_create),
                "enrolled_existing": len(plan.to_enrol_existing),
                "already_enrolled": len(plan.already_enrolled),
            },
        )
    return plan
