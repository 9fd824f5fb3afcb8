"""The procès-verbal of a signed deliberation, as PDF bytes (Django template
rendered by WeasyPrint). Called once, by a background task queued after the
president's signature (deliberations.produce_minutes); the file is then kept.

Everything the PV says of candidates, blocs, decisions and members comes from
the table the jury signed (`Deliberation.signed_table`): a candidate withdrawn
or enrolled later, a score changed later, never changes a PV rendered again.
"""

import datetime

from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.safestring import mark_safe

from core.dates import french_date
from core.pdf import render_pdf

from .standings import bloc_totals, shown_table

# Above this many blocs, the decisions table needs the width of a landscape page.
PORTRAIT_MAX_BLOCS = 3


def signed_on(value):
    """« 20 juin 2027 à 14 h 05 » from a datetime or its ISO text ("" when unsigned)."""
    if not value:
        return ""
    if isinstance(value, str):
        value = datetime.datetime.fromisoformat(value)
    if timezone.is_aware(value):
        value = timezone.localtime(value)
    return f"{french_date(value)} à {value:%H}\u00a0h\u00a0{value:%M}"


def css_string(text):
    """`text` as a quoted CSS string, for the page's margin boxes."""
    escaped = "".join(f"\\{ord(char):x} " if char in '\\"<>\n' else char for char in text)
    return mark_safe(f'"{escaped}"')  # noqa: S308 - every character that could close it is escaped


def proposal_label(cell):
    return "validé" if cell["proposed_validated"] else "non validé"


def departs_from_proposal(cell):
    """The decision is not the proposal (an adjournment never is)."""
    if not cell["decision"]:
        return False
    return cell["decision"] != ("validated" if cell["proposed_validated"] else "not_validated")


def minutes_context(deliberation):
    """What the PV template shows: the signed table, its justifications as
    numbered notes, the totals per bloc and the members' signatures."""
    table = shown_table(deliberation)
    jury = deliberation.jury
    notes, rows = [], []
    for row in table["rows"]:
        cells = []
        for cell in row["cells"]:
            note = None
            if cell["justification"]:
                note = len(notes) + 1
                notes.append(
                    {
                        "number": note,
                        "candidate": row["candidate"],
                        "bloc": cell["number"],
                        "decision": cell["decision_label"],
                        "proposal": proposal_label(cell),
                        "text": cell["justification"],
                    }
                )
            cells.append(
                {
                    **cell,
                    "note": note,
                    "departs": departs_from_proposal(cell),
                    "proposal": proposal_label(cell),
                }
            )
        rows.append(
            {
                **row,
                "birth_date": french_date(row["birth_date"]) if row["birth_date"] else "",
                "cells": cells,
            }
        )
    return {
        "deliberation": deliberation,
        "jury": jury,
        "version": jury.certification_version,
        "landscape": len(table["blocs"]) > PORTRAIT_MAX_BLOCS,
        "blocs": table["blocs"],
        "rows": rows,
        "notes": notes,
        "totals": bloc_totals(table),
        "members": [{**m, "signed_on": signed_on(m["signed_at"])} for m in table["members"]],
        "signed_on": signed_on(deliberation.signed_at),
        "running_head": css_string(
            f"{jury.certification_version.title} · jury « {jury.name} » · "
            f"{french_date(deliberation.held_on)}"
        ),
    }


def render_minutes(deliberation):
    html = render_to_string("evaluations/minutes_pdf.html", minutes_context(deliberation))
    return render_pdf(html)
