"""Decision letters: once a PV's results are published, each candidate it
decided on receives a letter (PDF) with the jury's decisions, the blocs
capitalised, what remains for the title and how to appeal.

Three layers, as for the PV: `DecisionLetter` records, the renderer (the table
the jury signed plus the candidate's and the version's data, through a Django
template and WeasyPrint), and the files stored once by a background task that
publication schedules after commit. The office prints them all from one merged
PDF; a letter whose rendering failed is rendered when first downloaded.
"""

import io
import logging

from django.core.files.base import ContentFile
from django.template.loader import render_to_string
from django.utils import timezone
from django_tasks import task
from pypdf import PdfWriter

from core.dates import french_date
from core.pdf import render_pdf

from .minutes import css_string, departs_from_proposal, signed_on
from .models import DecisionLetter, Deliberation
from .standings import shown_table

logger = logging.getLogger(__name__)

# When the version gives no appeal information (`appeal_information` empty).
DEFAULT_APPEAL = (
    "Vous pouvez contester cette décision. Le bureau de la certification vous indique, "
    "sur simple demande, les modalités et les délais de recours."
)

REMAINING = {
    "not_validated": "non validé par ce jury",
    "postponed": "ajourné par ce jury",
    "not_presented": "non présenté à cette session",
}


def decided_rows(table):
    """The rows of the signed table with at least one decision: one letter each."""
    return [row for row in table["rows"] if any(cell["decision"] for cell in row["cells"])]


def letter_context(deliberation, table, row, candidate):
    version = deliberation.jury.certification_version
    blocs = {bloc["id"]: bloc for bloc in table["blocs"]}
    decided, capitalised, remaining = [], [], []
    for cell in row["cells"]:
        bloc = blocs[cell["bloc"]]
        if cell["decision"]:
            departs = departs_from_proposal(cell)
            decided.append(
                {
                    "bloc": bloc,
                    "decision": cell["decision"],
                    "label": cell["decision_label"],
                    "justification": cell["justification"] if departs else "",
                }
            )
        if cell["state"] == "capitalised":
            capitalised.append(bloc)
        acquired = cell["state"] == "capitalised" or cell["decision"] == "validated"
        if not bloc["optional"] and not acquired:
            remaining.append(
                {"bloc": bloc, "why": REMAINING.get(cell["decision"] or cell["state"], "")}
            )
    published = deliberation.published_at or timezone.now()
    salutation = {"F": "Madame", "M": "Monsieur"}.get(candidate.sex, "Madame, Monsieur")
    return {
        "deliberation": deliberation,
        "jury": deliberation.jury,
        "version": version,
        "row": row,
        "candidate": candidate,
        "birth_date": french_date(row["birth_date"]) if row["birth_date"] else "",
        "salutation": salutation,
        "dated": french_date(published),
        "held_on": french_date(deliberation.held_on),
        "signed_on": signed_on(deliberation.signed_at),
        "decided": decided,
        "capitalised": capitalised,
        "remaining": remaining,
        "appeal": version.appeal_information.strip() or DEFAULT_APPEAL,
        "running_foot": css_string(
            f"Lettre de décision · PV n° {deliberation.pk} · {row['candidate']} · page "
        ),
    }


def render_letter(deliberation, row, candidate, *, table):
    html = render_to_string(
        "evaluations/decision_letter_pdf.html",
        letter_context(deliberation, table, row, candidate),
    )
    return render_pdf(html)


def _row_of(table, enrolment_id):
    return next((row for row in decided_rows(table) if row["enrolment"] == enrolment_id), None)


def store_letter(letter, *, table):
    """Render the letter once and keep the file; a stored letter is never rendered again."""
    if letter.pdf:
        return letter
    deliberation = letter.deliberation
    row = _row_of(table, letter.enrolment_id)
    data = render_letter(deliberation, row, letter.enrolment.candidate, table=table)
    letter.pdf.save(
        f"lettre-pv{deliberation.pk}-{letter.enrolment_id}.pdf", ContentFile(data), save=False
    )
    # Two renderings at once (a download and the task): the first file stays.
    if not DecisionLetter.objects.filter(pk=letter.pk, pdf="").update(pdf=letter.pdf.name):
        letter.pdf.delete(save=False)
        letter.refresh_from_db()
    return letter


def letter_for(deliberation, enrolment):
    """The candidate's letter of a published PV, rendered now if it had failed.
    None when the PV decided nothing for this enrolment."""
    table = shown_table(deliberation)
    if _row_of(table, enrolment.pk) is None:
        return None
    letter, _ = DecisionLetter.objects.get_or_create(deliberation=deliberation, enrolment=enrolment)
    letter.deliberation, letter.enrolment = deliberation, enrolment
    return store_letter(letter, table=table)


def _letters(deliberation, table):
    """Every letter of the PV, created if missing, in the order of the signed table."""
    rows = decided_rows(table)
    DecisionLetter.objects.bulk_create(
        [DecisionLetter(deliberation=deliberation, enrolment_id=row["enrolment"]) for row in rows],
        ignore_conflicts=True,
    )
    letters = {
        letter.enrolment_id: letter
        for letter in deliberation.letters.select_related("enrolment__candidate")
    }
    for letter in letters.values():
        letter.deliberation = deliberation
    return [letters[row["enrolment"]] for row in rows]


def store_letters(deliberation_id):
    """Render every letter of a published PV not yet stored, then the merged
    PDF the office prints. A letter that fails to render is logged and left
    for its first download; the merged PDF then waits for the office's."""
    deliberation = Deliberation.objects.select_related("jury__certification_version", "cohort").get(
        pk=deliberation_id
    )
    if not deliberation.published_at:
        return 0
    table = shown_table(deliberation)
    letters, failed = _letters(deliberation, table), 0
    for letter in letters:
        try:
            store_letter(letter, table=table)
        except Exception:
            failed += 1
            logger.exception("Lettre de décision non rendue : PV %s, %s", deliberation.pk, letter)
    if not failed and letters and not deliberation.letters_pdf:
        _bundle(deliberation, letters)
    return len(letters) - failed


def merged_letters(deliberation):
    """The merged PDF of every letter of the PV (made now if the task could not);
    None when the PV decided nothing."""
    if not deliberation.letters_pdf:
        table = shown_table(deliberation)
        letters = [store_letter(letter, table=table) for letter in _letters(deliberation, table)]
        if not letters:
            return None
        _bundle(deliberation, letters)
    return deliberation.letters_pdf


def _bundle(deliberation, letters):
    writer = PdfWriter()
    for letter in letters:
        with letter.pdf.open("rb") as stored:
            writer.append(io.BytesIO(stored.read()))
    merged = io.BytesIO()
    writer.write(merged)
    deliberation.letters_pdf.save(
        f"lettres-pv{deliberation.pk}.pdf", ContentFile(merged.getvalue()), save=False
    )
    if not Deliberation.objects.filter(pk=deliberation.pk, letters_pdf="").update(
        letters_pdf=deliberation.letters_pdf.name
    ):
        deliberation.letters_pdf.delete(save=False)
        deliberation.refresh_from_db(fields=["letters_pdf"])


@task()
def generate_letters(deliberation_id):
    """After publication: every candidate's letter, then the merged PDF."""
    return store_letters(deliberation_id)
