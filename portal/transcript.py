"""The candidate's transcript (relevé de notes), as PDF: their published
results bloc by bloc and competence by competence, the jury's decisions with
their PV, and the blocs they keep for good (capitalised).

Read from what a candidate may see (journeys: published PVs in force only),
so nothing of a PV reaches the transcript before publication. It follows the
candidate's results as they stand, so it is rendered on request: one short
document (a page or two), never a batch.
"""

from django.template.loader import render_to_string
from django.utils import timezone

from core.dates import french_date
from core.pdf import render_pdf
from evaluations.minutes import css_string
from evaluations.models import BlocDecision, Deliberation

from .journeys import candidate_progress


def transcript_enrolments(candidate):
    """One enrolment per certification version (the current one first: an
    active enrolment before a withdrawn one, the latest before the earlier)."""
    chosen = {}
    enrolments = (
        candidate.enrolments.select_related("cohort__certification_version")
        .prefetch_related("optional_blocs")
        .order_by("-created_at", "-pk")
    )
    for enrolment in sorted(enrolments, key=lambda e: not e.is_active):
        chosen.setdefault(enrolment.cohort.certification_version_id, enrolment)
    return sorted(chosen.values(), key=lambda e: (e.created_at, e.pk))


def pv_label(deliberation):
    kind = "PV rectificatif" if deliberation.rectifies_id else "PV"
    return f"{kind} n° {deliberation.pk}"


def decision_facts(decision):
    deliberation = decision.deliberation
    return {
        "bloc": decision.bloc,
        "decision": decision,
        "label": decision.get_decision_display(),
        "pv": pv_label(deliberation),
        "jury": deliberation.jury.name,
        "held_on": french_date(deliberation.held_on),
        "signed_on": french_date(deliberation.signed_at),
        "published_on": french_date(deliberation.published_at),
    }


def published_history(candidate):
    """Every decision of the published PVs in force on the candidate, in the
    order they were signed: the transcript's list of the jury's decisions."""
    return [
        decision_facts(decision)
        for decision in BlocDecision.objects.filter(
            enrolment__candidate=candidate,
            deliberation__in=Deliberation.objects.effective(),
        )
        .select_related("deliberation__jury", "bloc")
        .defer("deliberation__signed_table")
        .order_by("deliberation__signed_at", "deliberation__pk", "bloc__number")
    ]


def section(enrolment):
    """One certification's blocs: the published result of each, the blocs
    capitalised and what remains for the title."""
    version = enrolment.cohort.certification_version
    blocs, capitalised, remaining = [], [], []
    for entry in candidate_progress(enrolment):
        bloc = entry.bloc
        decided = decision_facts(entry.decision) if entry.decision else None
        if entry.state == "validated":
            capitalised.append({"bloc": bloc, **(decided or {})})
        elif not bloc.optional:
            remaining.append(bloc)
        blocs.append(
            {
                "bloc": bloc,
                "not_chosen": entry.state == "not_chosen",
                "validated": entry.state == "validated",
                "decided": decided,
                "acquired": entry.acquired,
                "total": entry.total,
                "competences": [
                    {
                        "competence": competence,
                        "result": result,
                        "criteria": len(result.criteria),
                    }
                    for competence, result, _rows in entry.published
                ],
            }
        )
    return {
        "enrolment": enrolment,
        "version": version,
        "blocs": blocs,
        "capitalised": capitalised,
        "remaining": remaining,
        "title_obtained": not remaining,
    }


def transcript_context(candidate):
    sections = [section(enrolment) for enrolment in transcript_enrolments(candidate)]
    today = french_date(timezone.localdate())
    return {
        "candidate": candidate,
        "birth_date": french_date(candidate.birth_date),
        "birth_place": (
            f"{candidate.birth_commune}, {candidate.birth_country}"
            if candidate.birth_country and candidate.birth_commune
            else candidate.birth_country or candidate.birth_commune
        ),
        "sections": sections,
        "history": published_history(candidate),
        "certifier": sections[0]["version"].certifier if sections else "",
        "edited_on": today,
        "running_foot": css_string(
            f"Relevé de notes · {candidate.full_name} · édité le {today} · page "
        ),
    }


def render_transcript(candidate):
    """The candidate's transcript as PDF bytes."""
    return render_pdf(render_to_string("portal/transcript_pdf.html", transcript_context(candidate)))
