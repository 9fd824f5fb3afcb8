"""What importing a file into a cohort would do, or why it cannot: the file
read and checked, its rows matched with the candidates already known.
Reads the database, writes nothing."""

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models.functions import Lower

from blocks.models import Bloc, CertificationVersion

from ..models import Candidate
from .readers import Unreadable, number, read_records
from .rows import (
    ALREADY_ENROLLED,
    CREATE,
    ENROL_EXISTING,
    PlannedRow,
    RowProblem,
    check_row,
    duplicates_in_file,
    read_header,
    row_email,
    row_key,
)

NO_CANDIDATE = "le fichier ne contient aucun candidat"

# The problems shown for one file: the first ones by line, then their count.
MAX_PROBLEMS = 100

# SQLite refuses more than 999 parameters in one query.
QUERY_CHUNK = 500


class ImportRefused(Exception):
    def __init__(self, problems):
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


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


def _chunks(values):
    values = sorted(values)
    return [values[start : start + QUERY_CHUNK] for start in range(0, len(values), QUERY_CHUNK)]


def _match_existing(cohort, rows):
    """Set each row's existing candidate and action; the problems met doing so.

    A few queries for the whole file: identity keys are compared in Python."""
    candidates_by_key = defaultdict(list)
    birth_dates = {row.values["birth_date"] for row in rows if row_key(row)}
    for chunk in _chunks(birth_dates):
        for candidate in Candidate.objects.filter(birth_date__in=chunk):
            candidates_by_key[candidate.identity_key].append(candidate)
    owner_by_email = {}
    emails = {row_email(row) for row in rows if row_email(row)}
    for chunk in _chunks(emails):
        owners = Candidate.objects.annotate(folded_email=Lower("email"))
        for candidate in owners.filter(folded_email__in=chunk):
            owner_by_email[candidate.folded_email] = candidate
    enrolled_ids = set(cohort.enrolments.values_list("candidate_id", flat=True))

    problems = []
    for row in rows:
        key = row_key(row)
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
        owner = owner_by_email.get(row_email(row))
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
        records = read_records(filename, content)
    except Unreadable as error:
        return ImportPlan(problems=[RowProblem(0, str(error))])
    if not records:
        return ImportPlan(problems=[RowProblem(0, NO_CANDIDATE)])
    (header_line, header), body = records[0], records[1:]
    positions, header_problems = read_header(header_line, header)
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
        row, row_problems = check_row(line, cells, positions, blocs_by_number)
        rows.append(row)
        problems += row_problems
    problems += duplicates_in_file(rows)
    problems += _match_existing(cohort, rows)
    problems.sort(key=lambda problem: problem.line)
    bad_lines = {problem.line for problem in problems}
    return ImportPlan(
        rows=[row for row in rows if row.line not in bad_lines], problems=_capped(problems)
    )


def _capped(problems):
    """The first MAX_PROBLEMS problems, then one line counting the others."""
    if len(problems) <= MAX_PROBLEMS:
        return problems
    others = len(problems) - MAX_PROBLEMS
    return [
        *problems[:MAX_PROBLEMS],
        RowProblem(
            0,
            f"… et {number(others)} autre{'s' if others > 1 else ''} "
            f"problème{'s' if others > 1 else ''} : corrigez d'abord ceux-ci",
        ),
    ]
