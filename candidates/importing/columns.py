"""The columns of an import file, and how a header or a value is recognised:
case, accents, punctuation and small words aside."""

import re
import unicodedata
from dataclasses import dataclass

from ..models import Candidate, Enrolment

_SMALL_WORDS = {"de", "du", "d", "la", "le", "l", "des"}


def fold(text):
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
    Column("type_vae", "type de VAE", aliases=("VAE", "vae_route")),
    Column(
        "initiative_inscription",
        "inscription à l'initiative de",
        aliases=("initiative", "à l'initiative de", "registration_initiative"),
    ),
    Column(
        "date_inscription",
        "date d'inscription",
        aliases=("date d'inscription à la certification", "registration_date"),
    ),
]
COLUMN_BY_HEADER = {
    fold(header): column for column in COLUMNS for header in (column.name, *column.aliases)
}
COLUMN_BY_FIELD = {column.candidate_field: column for column in COLUMNS if column.candidate_field}

SEX_BY_VALUE = {
    fold(value): code for code, label in Candidate.Sex.choices for value in (code, label)
}
ROUTE_BY_VALUE = {
    fold(value): code for code, label in Enrolment.AccessRoute.choices for value in (code, label)
}
VAE_ROUTE_BY_VALUE = {
    fold(value): code for code, label in Enrolment.VaeRoute.choices for value in (code, label)
}
INITIATIVE_BY_VALUE = {
    fold(value): code for code, label in Enrolment.Initiative.choices for value in (code, label)
}
