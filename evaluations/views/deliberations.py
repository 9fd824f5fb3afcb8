"""Pages of deliberations: the table, decisions, signatures, the PV,
rectification and publication; thin views over deliberations.py."""

from collections import defaultdict

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import FileResponse, Http404, QueryDict
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from blocks.models import Bloc
from candidates.models import Enrolment
from core import roles
from core.forms import ReasonForm, id_from
from core.pagination import PageForm
from core.roles import ADMIN, JURY_MEMBER, role_required
from core.views import report_refusal

from .. import deliberations, juries, letters, policies, standings
from ..forms import DeliberationFilterForm, OpenDeliberationForm, RowDecisionForm
from ..models import Deliberation, Grid, Recusal, Score
from .juries import get_jury_for_user, juries_visible_to


def get_deliberation_for_user(user, pk):
    return get_object_or_404(
        Deliberation.objects.select_related(
            "jury__certification_version", "cohort", "rectifies"
        ).filter(jury__in=juries_visible_to(user)),
        pk=pk,
    )


@require_POST
@role_required(ADMIN)
def jury_open_deliberation(request, pk):
    jury = get_jury_for_user(request.user, pk)
    form = OpenDeliberationForm(request.POST, jury=jury)
    if not form.is_valid():
        messages.error(
            request, "Choisissez une promotion de cette certification et la date de la réunion."
        )
        return redirect(jury)
    try:
        deliberation = deliberations.open_deliberation(
            jury,
            form.cleaned_data["cohort"],
            held_on=form.cleaned_data["held_on"],
            added_blocs=list(form.cleaned_data["added_blocs"]),
            by=request.user,
        )
    except ValidationError as error:
        report_refusal(request, error)
        return redirect(jury)
    return redirect(deliberation)


def rectification_form(data=None):
    return ReasonForm(data, label="Motif de la rectification")


ROWS_PER_PAGE = 25


def missing_a_decision(row):
    return any(cell["state"] == "due" and not cell["decision"] for cell in row["cells"])


def table_page(deliberation, filters, number):
    """(the table with the rows of the page asked for, the whole table's
    totals, the page): the proposals of the page's rows alone are computed,
    the rows missing a decision and the totals without reading a score."""
    missing_only, candidate = filters.values()
    if deliberation.signed_table is not None:
        whole = deliberation.signed_table
        listed = [
            row
            for row in whole["rows"]
            if (not missing_only or missing_a_decision(row))
            and (candidate is None or row["enrolment"] == candidate)
        ]
        if candidate is not None and not listed:
            raise Http404("Ce candidat n'est pas délibéré ici.")
        page = Paginator(listed, ROWS_PER_PAGE).get_page(number)
        return {**whole, "rows": list(page)}, standings.bloc_totals(whole), page
    scope = standings.deliberation_scope(deliberation)
    due = scope.due_decisions()
    listed = [
        enrolment_id
        for enrolment_id, decisions in due.items()
        if (not missing_only or None in decisions.values())
        and (candidate is None or enrolment_id == candidate)
    ]
    if candidate is not None and not listed:
        raise Http404("Ce candidat n'est pas délibéré ici.")
    page = Paginator(listed, ROWS_PER_PAGE).get_page(number)
    # The frozen table's blocs and rows (the page shows no members: they are
    # not read).
    table = {
        "blocs": standings.frozen_blocs(scope.blocs),
        "rows": standings.frozen_rows(
            standings.deliberation_table(deliberation, among=page.object_list, scope=scope)
        ),
    }
    return table, standings.due_totals(table["blocs"], due), page


def page_rows(deliberation, table, *, can_decide, compositions, mine):
    """The page's rows as the row template writes them: each cell to decide
    with its drill-down link and, where the user decides for the candidate,
    the controls of its decision (read once per row)."""
    rows, options = [], {}
    for row in table["rows"]:
        enrolment_id = row["enrolment"]
        form = RowDecisionForm(row=row) if can_decide and enrolment_id not in mine else None
        controls = form.cell_controls(options) if form is not None else {}
        recused, unlawful = compositions.get(enrolment_id, ([], []))
        cells = [
            {
                **cell,
                "url": reverse(
                    "evaluations:deliberation_candidate",
                    args=[deliberation.pk, enrolment_id, cell["bloc"]],
                ),
                "control": controls.get(cell["bloc"]),
            }
            if cell["state"] == "due"
            else cell
            for cell in row["cells"]
        ]
        rows.append(
            {
                **row,
                "cells": cells,
                "form": form,
                "has_controls": bool(controls),
                "recused": recused,
                "unlawful": unlawful,
                "i_stand_aside": enrolment_id in mine,
            }
        )
    return rows


@role_required(ADMIN, JURY_MEMBER)
def deliberation_detail(request, pk):
    deliberation = get_deliberation_for_user(request.user, pk)
    jury = deliberation.jury
    members = list(jury.members.all())
    seat = next((member for member in members if member.user_id == request.user.pk), None)
    signatures = list(deliberation.signatures.select_related("member__user"))
    signed_by = {signature.member_id for signature in signatures}
    rectifications = list(deliberation.rectifications.all())
    # Whether it is in force and its promotion busy: read for a signed PV only
    # (an open one is refused first, it is not signed).
    signed = deliberation.is_signed
    rectification = policies.rectification_refusal(
        request.user,
        deliberation,
        president=policies.president_of(members),
        in_force=signed and Deliberation.objects.in_force().filter(pk=deliberation.pk).exists(),
        correction_open=any(c.status == Deliberation.Status.OPEN for c in rectifications),
        cohort_busy=signed
        and Deliberation.objects.filter(
            cohort_id=deliberation.cohort_id, status=Deliberation.Status.OPEN
        ).exists(),
    )
    can_decide = policies.decision_refusal(deliberation, seat, signed_by=signed_by) is None
    filters = DeliberationFilterForm(request.GET)
    table, totals, page = table_page(deliberation, filters, PageForm(request.GET).number())
    # Who stands aside for whom, while the jury deliberates: one query.
    recusals = (
        []
        if deliberation.is_signed
        else list(
            Recusal.objects.filter(
                member__jury=jury, enrolment__cohort_id=deliberation.cohort_id
            ).select_related("member__user")
        )
    )
    compositions = juries.candidate_compositions(members, recusals)
    mine = {r.enrolment_id for r in recusals if seat is not None and r.member_id == seat.pk}
    rows = page_rows(
        deliberation, table, can_decide=can_decide, compositions=compositions, mine=mine
    )
    return render(
        request,
        "evaluations/deliberation.html",
        {
            "deliberation": deliberation,
            "jury": jury,
            "table": table,
            "rows": rows,
            "totals": totals,
            "page": page,
            "filters": filters,
            "missing_only": filters.values()[0],
            "one_candidate": filters.values()[1] is not None,
            "filter_query": filters.query(),
            "back_query": filters.query(page.number),
            "can_decide": can_decide,
            "stands_aside": bool(mine),
            "can_sign": policies.signature_refusal(deliberation, seat, signed_by=signed_by) is None,
            "signatures": signatures,
            "is_admin": roles.is_admin(request.user),
            "can_rectify": rectification is None,
            "rectification_form": rectification_form(),
            "rectifications": rectifications,
            "letters_url": (
                reverse("evaluations:letters", args=[deliberation.pk])
                if deliberation.published_at and roles.is_admin(request.user)
                else None
            ),
        },
    )


def back_to_row(deliberation, enrolment_id=None, *, request=None):
    """The deliberation's page, scrolled back to the row the jury was on: the
    same page of the table with the same filters (`retour`, read through the
    filter form, never taken as it comes)."""
    url = deliberation.get_absolute_url()
    if request is not None:
        back = QueryDict(request.POST.get("retour", "")[:200])
        query = DeliberationFilterForm(back).query(PageForm(back).number())
        if query:
            url = f"{url}?{query}"
    return redirect(f"{url}#row-{enrolment_id}" if enrolment_id else url)


@require_POST
@role_required(JURY_MEMBER)
def deliberation_decide(request, pk):
    """Save one candidate's row: every bloc to decide at once."""
    deliberation = get_deliberation_for_user(request.user, pk)
    raw = request.POST.get("enrolment", "")
    enrolment = get_object_or_404(Enrolment, pk=id_from(raw), cohort=deliberation.cohort)
    rows = standings.shown_table(deliberation, only=enrolment)["rows"]
    if not rows:
        raise Http404("Ce candidat n'est pas délibéré ici.")
    row = rows[0]
    form = RowDecisionForm(request.POST, row=row)
    if not form.is_valid():
        messages.error(
            request, f"{enrolment.candidate} : choisissez une décision pour chaque bloc."
        )
        return back_to_row(deliberation, enrolment.pk, request=request)
    try:
        deliberations.record_decisions(
            deliberation, enrolment=enrolment, choices=form.choices(), user=request.user
        )
    except ValidationError as error:
        messages.error(request, f"{enrolment.candidate} : rien n'est enregistré.")
        report_refusal(request, error)
    else:
        messages.success(request, f"Décisions enregistrées : {enrolment.candidate}.")
    return back_to_row(deliberation, enrolment.pk, request=request)


@require_POST
@role_required(JURY_MEMBER)
def deliberation_adopt(request, pk):
    """Adopt the proposals for every bloc still undecided (or one bloc's column)."""
    deliberation = get_deliberation_for_user(request.user, pk)
    raw = request.POST.get("bloc", "")
    bloc = None
    if raw:
        bloc = get_object_or_404(
            Bloc,
            pk=id_from(raw),
            certification_version=deliberation.jury.certification_version,
        )
    try:
        count = deliberations.adopt_proposals(deliberation, user=request.user, bloc=bloc)
    except ValidationError as error:
        report_refusal(request, error)
    else:
        where = f" du bloc {bloc.number}" if bloc else ""
        messages.success(
            request, f"Propositions{where} adoptées : {count} décision(s) enregistrée(s)."
        )
        aside = deliberations.recused_for(deliberation, request.user)
        if aside:
            names = Enrolment.objects.filter(pk__in=aside).select_related("candidate")
            messages.info(
                request,
                "Vous vous êtes déporté(e) pour "
                + ", ".join(sorted(e.candidate.full_name for e in names))
                + " : leurs blocs sont laissés aux autres membres du jury.",
            )
    return back_to_row(deliberation, request=request)


@require_POST
@role_required(JURY_MEMBER)
def deliberation_sign(request, pk):
    deliberation = get_deliberation_for_user(request.user, pk)
    try:
        signed = deliberations.sign_minutes(deliberation, user=request.user)
    except ValidationError as error:
        report_refusal(request, error)
    else:
        messages.success(
            request,
            "Procès-verbal signé et clos : les décisions sont figées."
            if signed.is_signed
            else "Votre signature est enregistrée.",
        )
    return redirect(deliberation)


@require_POST
@role_required(ADMIN, JURY_MEMBER)
def deliberation_rectify(request, pk):
    deliberation = get_deliberation_for_user(request.user, pk)
    try:
        correction = deliberations.rectify(
            deliberation, reason=rectification_form(request.POST).text(), user=request.user
        )
    except ValidationError as error:
        report_refusal(request, error)
        return redirect(deliberation)
    messages.success(request, "PV rectificatif ouvert : modifiez les décisions puis signez-le.")
    return redirect(correction)


@require_POST
@role_required(ADMIN)
def deliberation_publish(request, pk):
    deliberation = get_deliberation_for_user(request.user, pk)
    try:
        deliberations.publish_results(deliberation, by=request.user)
    except ValidationError as error:
        report_refusal(request, error)
    else:
        messages.success(request, "Résultats publiés : les candidats les voient.")
    return redirect(deliberation)


@role_required(ADMIN, JURY_MEMBER)
def deliberation_minutes(request, pk):
    deliberation = get_deliberation_for_user(request.user, pk)
    if not deliberation.is_signed:
        raise Http404("Le procès-verbal n'est pas encore signé.")
    if not deliberation.minutes_pdf:
        # Still being produced, or its task failed: queued (again); served
        # at once only with the inline task backend.
        deliberations.produce_minutes.enqueue(deliberation.pk)
        deliberation.refresh_from_db()
    if not deliberation.minutes_pdf:
        messages.info(
            request, "Le procès-verbal est en cours de production : réessayez dans un instant."
        )
        return redirect(deliberation)
    return FileResponse(
        deliberation.minutes_pdf.open("rb"),
        content_type="application/pdf",
        filename=f"proces-verbal-{deliberation.pk}.pdf",
    )


@role_required(ADMIN)
def deliberation_letters(request, pk):
    """Every candidate's decision letter of a published PV, in one PDF to print."""
    deliberation = get_deliberation_for_user(request.user, pk)
    if not deliberation.published_at:
        raise Http404("Les résultats de ce procès-verbal ne sont pas publiés.")
    merged = letters.merged_letters(deliberation)  # made now if the task could not
    if not merged:
        raise Http404("Ce procès-verbal ne contient aucune décision.")
    return FileResponse(
        merged.open("rb"),
        content_type="application/pdf",
        filename=f"lettres-de-decision-pv-{deliberation.pk}.pdf",
    )


@role_required(ADMIN, JURY_MEMBER)
def deliberation_candidate(request, pk, enrolment_pk, bloc_pk):
    """Drill-down: one candidate's bloc, competence by competence, with the
    assessors' comments."""
    deliberation = get_deliberation_for_user(request.user, pk)
    enrolment = get_object_or_404(Enrolment, pk=enrolment_pk, cohort=deliberation.cohort)
    row = next(iter(standings.deliberation_table(deliberation, only=enrolment)), None)
    cell = next((c for c in row.cells if c.bloc.pk == bloc_pk), None) if row else None
    if cell is None or cell.result is None:
        raise Http404
    competences = {
        competence.pk: competence
        for competence in cell.bloc.competences.prefetch_related("criteria")
    }
    criteria = {c.pk: c for competence in competences.values() for c in competence.criteria.all()}
    comments = defaultdict(list)
    scores = Score.objects.filter(
        grid__status=Grid.Status.SUBMITTED,
        grid__assessment__enrolment_id=enrolment_pk,
        criterion__in=criteria,
    ).select_related("grid__assessor", "grid__assessment")
    for score in scores.filter(~Q(comment="")):
        comments[score.criterion_id].append(score)
    overall = (
        Grid.objects.filter(
            status=Grid.Status.SUBMITTED,
            assessment__enrolment_id=enrolment_pk,
            assessment__session__modality__bloc=cell.bloc,
        )
        .exclude(overall_comment="")
        .select_related("assessor", "assessment__session__modality")
    )
    return render(
        request,
        "evaluations/deliberation_candidate.html",
        {
            "deliberation": deliberation,
            "page_label": f"{row.enrolment.candidate.full_name} · bloc {cell.bloc.number}",
            "row": row,
            "cell": cell,
            "competences": [
                (
                    competences[result.competence_id],
                    result,
                    [
                        (criteria[c.criterion_id], c, comments.get(c.criterion_id, []))
                        for c in result.criteria
                    ],
                )
                for result in cell.result.competences
            ],
            "overall": overall,
        },
    )
