"""The checks of an import file's lines: the header, each row on its own
(identity, place of birth, access route, optional blocs), then the rows
together (duplicates within the file)."""

import datetime
import re
from dataclasses import dataclass, field

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from blocks.models import Bloc

from ..models import Candidate, Enrolment, identity_key
from .columns import (
    COLUMN_BY_FIELD,
    COLUMN_BY_HEADER,
    COLUMNS,
    INITIATIVE_BY_VALUE,
    ROUTE_BY_VALUE,
    SEX_BY_VALUE,
    VAE_ROUTE_BY_VALUE,
    fold,
)
from .readers import cell_text

# What importing does with a row.
CREATE = "create"
ENROL_EXISTING = "enrol_existing"
ALREADY_ENROLLED = "already_enrolled"

DATE_FORMATS = ("%d/%m/%Y", "%Y-%m-%d")


@dataclass(frozen=True)
class RowProblem:
    line: int  # line in the file, the header being line 1; 0 for the whole file
    reason: str

    def __str__(self):
        return f"ligne {self.line} : {self.reason}" if self.line else self.reason


@dataclass
class PlannedRow:
    line: int
    values: dict  # Candidate identity fields, cleaned
    access_route: str
    optional_blocs: list[Bloc] = field(default_factory=list)
    vae_route: str = ""
    registration_initiative: str = ""
    registration_date: datetime.date | None = None
    candidate: Candidate | None = None  # the existing candidate with this identity
    action: str = CREATE

    @property
    def access_route_label(self):
        return Enrolment.AccessRoute(self.access_route).label

    @property
    def vae_route_label(self):
        return Enrolment.VaeRoute(self.vae_route).label if self.vae_route else ""

    @property
    def initiative_label(self):
        return (
            Enrolment.Initiative(self.registration_initiative).label
            if self.registration_initiative
            else ""
        )

    def registration(self):
        """The enrolment's registration data this row writes."""
        return {
            "access_route": self.access_route,
            "vae_route": self.vae_route,
            "registration_initiative": self.registration_initiative,
            "registration_date": self.registration_date,
        }

    @property
    def display_name(self):
        if self.candidate is not None:
            return self.candidate.full_name
        name = self.values.get("usage_name") or self.values.get("birth_name", "")
        return f"{name} {self.values.get('first_names', '')}".strip()


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


# --- The header -----------------------------------------------------------


def read_header(line, cells):
    """{column name: position}, or the problems of the header line."""
    positions = {}
    headers = {}
    problems = []
    for position, cell in enumerate(cells):
        header = cell_text(cell)
        column = COLUMN_BY_HEADER.get(fold(header)) if header else None
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


# --- One row --------------------------------------------------------------


def _parse_date(value):
    if isinstance(value, datetime.datetime):
        return value.date()
    if isinstance(value, datetime.date):
        return value
    for date_format in DATE_FORMATS:
        try:
            return datetime.datetime.strptime(cell_text(value), date_format).date()
        except ValueError:
            continue
    return None


def check_row(line, cells, positions, blocs_by_number):
    """The row as planned (its values may be partial) and its problems."""
    raw = {
        column.name: cells[positions[column.name]]
        if column.name in positions and positions[column.name] < len(cells)
        else None
        for column in COLUMNS
    }
    texts = {name: cell_text(value, name) for name, value in raw.items()}
    reasons = []
    reported = set()  # columns already explained, whose form error would repeat it

    for column in COLUMNS:
        if column.required and not texts[column.name]:
            reasons.append(f"champ obligatoire vide : {column.label}")
            reported.add(column.name)

    sex = SEX_BY_VALUE.get(fold(texts["sexe"]), "")
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
    if fold(country) == "france":  # "France" written out still means born in France
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

    access_route = ROUTE_BY_VALUE.get(fold(texts["voie_acces"]), "")
    if texts["voie_acces"] and not access_route:
        reasons.append(
            f"voie d'accès inconnue (« {texts['voie_acces']} ») : "
            + ", ".join(Enrolment.AccessRoute.values)
            + " (ou leur libellé) attendu"
        )

    optional_blocs, bloc_reasons = _optional_blocs(texts["blocs_optionnels"], blocs_by_number)
    reasons += bloc_reasons
    registration, registration_reasons = _registration(raw, texts, access_route)
    reasons += registration_reasons

    values = dict(form.cleaned_data)
    if birth_date:
        values["birth_date"] = birth_date
    row = PlannedRow(
        line=line,
        values=values,
        access_route=access_route,
        optional_blocs=optional_blocs,
        **registration,
    )
    return row, [RowProblem(line, reason) for reason in reasons]


def _registration(raw, texts, access_route):
    """The optional registration columns: type of VAE (for a VAE route only;
    left to the office's edit when absent), initiative, date of registration."""
    reasons = []
    vae_route = VAE_ROUTE_BY_VALUE.get(fold(texts["type_vae"]), "")
    if texts["type_vae"] and not vae_route:
        reasons.append(
            f"type de VAE inconnu (« {texts['type_vae']} ») : "
            + ", ".join(Enrolment.VaeRoute.values)
            + " (ou leur libellé) attendu"
        )
    elif vae_route and access_route and access_route != Enrolment.AccessRoute.VAE:
        reasons.append(
            f"type de VAE (« {texts['type_vae']} ») pour une voie d'accès autre que la VAE"
        )
        vae_route = ""
    initiative = INITIATIVE_BY_VALUE.get(fold(texts["initiative_inscription"]), "")
    if texts["initiative_inscription"] and not initiative:
        reasons.append(
            f"initiative d'inscription inconnue (« {texts['initiative_inscription']} ») : "
            + ", ".join(Enrolment.Initiative.values)
            + " (ou leur libellé) attendu"
        )
    registration_date = _parse_date(raw["date_inscription"]) if texts["date_inscription"] else None
    if texts["date_inscription"] and registration_date is None:
        reasons.append(
            f"date d'inscription invalide (« {texts['date_inscription']} ») : "
            "JJ/MM/AAAA ou AAAA-MM-JJ attendu"
        )
    registration = {
        "vae_route": vae_route,
        "registration_initiative": initiative,
        "registration_date": registration_date,
    }
    return registration, reasons


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


# --- The rows together ----------------------------------------------------


def row_key(row):
    """The row's identity key, or None while its identity is incomplete."""
    values = row.values
    if not all(values.get(name) for name in ("birth_name", "first_names", "birth_date")):
        return None
    return identity_key(values["birth_name"], values["first_names"], values["birth_date"])


def row_email(row):
    # Lower() in SQL, lower() here: the same folding on both sides.
    return row.values.get("email", "").lower()


def duplicates_in_file(rows):
    first_line_by_key = {}
    first_line_by_email = {}
    problems = []
    for row in rows:
        key, email = row_key(row), row_email(row)
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
