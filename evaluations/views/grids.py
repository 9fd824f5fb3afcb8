"""An assessor's grid, the session lead's synthesis and an assessment's history."""

from collections import defaultdict
from types import SimpleNamespace

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import JsonResponse
from django.shortcuts import redirect, render

from core.history import describe_events
from core.models import AuditEvent
from core.roles import ADMIN, role_required
from core.views import is_fetch

from .. import policies
from ..agreements import agreement_refusal, record_agreed_score
from ..forms import AgreedScoreForm, GridForm
from ..models import Assessment, Grid
from ..navigation import grading_round
from ..results import assessors_disagree, criterion_mean
from ..sessions import StaleGrid, assessors_of, modality_criteria, save_grid
from .sessions import ASSESSORS, get_assessment_for_assessor, get_assessment_for_reviewer


@role_required(*ASSESSORS)
def grid(request, pk):
    """An assessor's own grid for one candidate: save a draft, or hand it in and
    go on to the next candidate still to grade."""
    assessment = get_assessment_for_assessor(request.user, pk)
    session = assessment.session
    version = session.modality.bloc.certification_version
    criteria = modality_criteria(session.modality)

    def read_grids():
        """Every grid of this candidate with its assessor and scores, and the user's own."""
        grids = list(assessment.grids.select_related("assessor").prefetch_related("scores"))
        return grids, next((grid for grid in grids if grid.assessor_id == request.user.pk), None)

    def grid_form(data=None, own=None):
        # A posted form shows what was posted: the stored values serve only a new page.
        initial = {} if data is not None else grid_initial(own)
        return GridForm(data, criteria=criteria, version=version, initial=initial)

    grids, own = ([], None) if request.method == "POST" else read_grids()
    form = grid_form(request.POST or None, own)
    if request.method == "POST" and form.is_valid():
        submit = "submit" in request.POST
        try:
            saved = save_grid(
                assessment,
                assessor=request.user,
                revision=form.cleaned_data["revision"],
                entries=form.entries(),
                overall_comment=form.cleaned_data["overall_comment"],
                reason=form.cleaned_data["reason"],
                submit=submit,
                criteria=criteria,
            )
        except StaleGrid as stale:
            if is_fetch(request):
                _, current = read_grids()
                return JsonResponse(
                    {
                        "error": stale.message,
                        "revision": current.revision,
                        "values": grid_initial(current),
                    },
                    status=409,
                )
            messages.error(request, stale.message)
            form = grid_form(own=read_grids()[1])  # the newer values, as stored
        except ValidationError as error:
            if is_fetch(request):
                return JsonResponse({"error": " ".join(error.messages)}, status=400)
            form.add_error(None, error)
        else:
            if is_fetch(request):
                return JsonResponse({"revision": saved.revision, "status": saved.status})
            if submit:
                return _after_hand_in(request, assessment)
            messages.success(request, "Grille enregistrée.")
            return redirect("evaluations:grid", pk=assessment.pk)
    elif request.method == "POST" and is_fetch(request):
        # Each refusal by field name, so the page shows it next to its criterion.
        return JsonResponse(
            {
                "error": " ".join(m for errors in form.errors.values() for m in errors),
                "errors": {field: list(errors) for field, errors in form.errors.items()},
            },
            status=400,
        )
    if request.method == "POST":
        grids, own = read_grids()  # as stored after what this request did
    others, others_shown = _others_if_all_submitted(assessment, request.user, grids)
    rows = [
        (
            criterion,
            form[f"value_{criterion.pk}"],
            form[f"comment_{criterion.pk}"],
            others.get(criterion.pk, []),
        )
        for criterion in criteria
    ]
    # The radio buttons, written by the template from one list of levels rather
    # than through the widget's subwidgets, criterion after criterion.
    choices = (
        []
        if version.is_numeric_scale or not criteria
        else [(str(value), label) for value, label in rows[0][1].field.choices if value != ""]
    )
    levels = [value for value, _ in choices]
    return render(
        request,
        "evaluations/grid.html",
        {
            "assessment": assessment,
            "session": session,
            "form": form,
            "rows": rows,
            "scored": sum(value.value() not in (None, "") for _, value, _, _ in rows),
            "choices": choices,
            "grid": own,
            "numeric": version.is_numeric_scale,
            "levels": levels,
            "others_shown": others_shown,
            "locked": own is not None and own.is_submitted,
            "round": grading_round(assessment, assessor=request.user),
        },
        status=400 if form.errors else 200,
    )


def _after_hand_in(request, assessment):
    """After a hand-in, the next candidate still to grade; the session page
    once every grid of the assessor is in."""
    done = f"Grille de {assessment.enrolment.candidate.full_name} remise."
    following = grading_round(assessment, assessor=request.user).next_to_grade
    if following is None:
        messages.success(request, f"{done} Toutes vos grilles sont remises.")
        return redirect(assessment.session)
    messages.success(request, f"{done} Candidat suivant : {following.name}.")
    return redirect("evaluations:grid", pk=following.pk)


def grid_initial(grid):
    if grid is None:
        return {"revision": 0}
    initial = {"revision": grid.revision, "overall_comment": grid.overall_comment}
    for score in grid.scores.all():
        initial[f"value_{score.criterion_id}"] = (
            None if score.value is None else format(score.value.normalize(), "f")
        )
        initial[f"comment_{score.criterion_id}"] = score.comment
    return initial


def _own_grid(assessment, user):
    """The user's grid for this candidate, for the independence check; a
    lead who does not mark this candidate (they replaced someone who had
    handed it in, or stand aside) has nothing to hand in first."""
    grids = list(assessment.grids.all())
    own = next((grid for grid in grids if grid.assessor_id == user.pk), None)
    if own is None or not own.is_submitted:
        submitted = {grid.assessor_id for grid in grids if grid.is_submitted}
        if user.pk not in assessors_of(assessment, submitted):
            return NOT_MARKING
    return own


# Stands for the grid of a lead who does not mark the candidate: nothing to wait for.
NOT_MARKING = SimpleNamespace(is_submitted=True)


def _others_if_all_submitted(assessment, user, grids):
    """The other assessors' scores by criterion, shown only once every assessor
    of the session has submitted: assessors score independently. `grids`: the
    candidate's grids with their assessors and scores."""
    others = defaultdict(list)
    submitted_ids = {grid.assessor_id for grid in grids if grid.is_submitted}
    if not policies.shows_other_grids(assessor_count=2, submitted_count=len(submitted_ids)):
        return others, False  # no panel is complete before two grids are in: skip asking who marks
    expected = assessors_of(assessment, submitted_ids)
    submitted = [grid for grid in grids if grid.is_submitted and grid.assessor_id in expected]
    if not policies.shows_other_grids(assessor_count=len(expected), submitted_count=len(submitted)):
        return others, False
    for grid in submitted:
        if grid.assessor_id != user.pk:
            for score in grid.scores.all():
                others[score.criterion_id].append((grid.assessor, score))
    return others, True


@role_required(ADMIN, *ASSESSORS)
def synthesis(request, pk):
    """The consolidated grid: each criterion's mean over submitted grids, the
    disagreements and the values agreed on instead of a mean; the session's
    lead records those here (a post of the form of one criterion)."""
    assessment = get_assessment_for_reviewer(request.user, pk)
    session = assessment.session
    refusal = policies.review_refusal(request.user, session, _own_grid(assessment, request.user))
    if refusal is not None:
        raise PermissionDenied(refusal)
    version = session.modality.bloc.certification_version
    criteria = modality_criteria(session.modality)
    levels = version.levels()
    grids = list(
        assessment.grids.select_related("assessor")
        .prefetch_related("scores")
        .order_by("assessor__last_name")
    )
    submitted = [grid for grid in grids if grid.is_submitted]
    agree_refusal = agreement_refusal(request.user, assessment, submitted)

    def agreed_form(criterion=None, data=None):
        return AgreedScoreForm(
            data, criteria=criteria, version=version, levels=levels, criterion=criterion
        )

    posted = agreed_form(data=request.POST) if request.method == "POST" else None
    if posted is not None and posted.is_valid():
        try:
            record_agreed_score(
                assessment,
                criterion=next(c for c in criteria if c.pk == posted.cleaned_data["criterion"]),
                value=posted.cleaned_data["value"],
                reason=posted.cleaned_data["reason"],
                by=request.user,
            )
        except ValidationError as error:
            for message in error.messages:
                posted.add_error(None, message)
        else:
            messages.success(
                request, "Note retenue enregistrée : elle remplace la moyenne dans la proposition."
            )
            return redirect("evaluations:synthesis", pk=assessment.pk)
    agreed = {
        agreement.criterion_id: agreement
        for agreement in assessment.agreed_scores.select_related("recorded_by")
    }
    values = defaultdict(dict)
    for grid in submitted:
        for score in grid.scores.all():
            values[score.criterion_id][grid.assessor_id] = score
    tolerance = version.disagreement_tolerance()
    labels = {level.value: level.label for level in levels}
    rows = []
    for criterion in criteria:
        scores = [values[criterion.pk].get(grid.assessor_id) for grid in submitted]
        numbers = [score.value for score in scores if score is not None]
        disagree = assessors_disagree(numbers, tolerance=tolerance)
        settled = agreed.get(criterion.pk)
        form = None
        if disagree and agree_refusal is None:
            mine = posted is not None and posted.criterion_id == criterion.pk
            form = posted if mine else agreed_form(criterion)
        rows.append(
            {
                "criterion": criterion,
                "scores": scores,
                "mean": criterion_mean(numbers),
                "disagree": disagree,
                "agreed": settled,
                "agreed_label": labels.get(settled.value, "") if settled else "",
                "form": form,
            }
        )
    errors = (
        [error for field in posted.errors.values() for error in field] if posted is not None else []
    )
    lead_note = (
        agree_refusal
        if session.lead_id == request.user.pk and any(row["disagree"] for row in rows)
        else None
    )
    return render(
        request,
        "evaluations/synthesis.html",
        {
            "assessment": assessment,
            "session": session,
            "grids": grids,
            "submitted": submitted,
            "rows": rows,
            "errors": errors,
            "lead_note": lead_note,
        },
        status=400 if errors else 200,
    )


@role_required(ADMIN, *ASSESSORS)
def history(request, pk):
    """Every change of the assessment's grids for the office and the session's
    lead; an assessor sees only their own grid's (independence)."""
    assessment = get_assessment_for_reviewer(request.user, pk)
    grids = assessment.grids.all()
    own = _own_grid(assessment, request.user)
    if policies.review_refusal(request.user, assessment.session, own) is not None:
        grids = grids.filter(assessor=request.user)
    grid_ids = [str(pk) for pk in grids.values_list("pk", flat=True)]
    events = (
        AuditEvent.objects.filter(
            Q(content_type=ContentType.objects.get_for_model(Grid), object_id__in=grid_ids)
            | Q(
                content_type=ContentType.objects.get_for_model(Assessment),
                object_id=str(assessment.pk),
            )
        )
        .select_related("actor")
        .order_by("created_at", "pk")
    )
    lines = describe_events(events)
    return render(
        request,
        "evaluations/history.html",
        {"assessment": assessment, "events": [line.event for line in lines], "lines": lines},
    )
