"""An assessor's grid, the session lead's synthesis and an assessment's history."""

from collections import defaultdict

from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import JsonResponse
from django.shortcuts import redirect, render

from core.models import AuditEvent
from core.roles import ADMIN, role_required
from core.views import is_fetch

from .. import policies
from ..forms import GridForm
from ..models import Assessment, Grid
from ..results import assessors_disagree, criterion_mean
from ..sessions import StaleGrid, modality_criteria, save_grid
from .sessions import ASSESSORS, get_assessment_for_assessor, get_assessment_for_reviewer


@role_required(*ASSESSORS)
def grid(request, pk):
    """An assessor's own grid for one candidate: save a draft, or submit it."""
    assessment = get_assessment_for_assessor(request.user, pk)
    session = assessment.session
    version = session.modality.bloc.certification_version
    criteria = list(modality_criteria(session.modality))

    def own_grid():
        return (
            Grid.objects.filter(assessment=assessment, assessor=request.user)
            .prefetch_related("scores")
            .first()
        )

    def grid_form(data=None):
        return GridForm(data, criteria=criteria, version=version, initial=grid_initial(own_grid()))

    form = grid_form(request.POST or None)
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
            )
        except StaleGrid as stale:
            if is_fetch(request):
                current = own_grid()
                return JsonResponse(
                    {
                        "error": stale.message,
                        "revision": current.revision,
                        "values": grid_initial(current),
                    },
                    status=409,
                )
            messages.error(request, stale.message)
            form = grid_form()  # the newer values, as stored
        except ValidationError as error:
            if is_fetch(request):
                return JsonResponse({"error": " ".join(error.messages)}, status=400)
            for message in error.messages:
                form.add_error(None, message)
        else:
            if is_fetch(request):
                return JsonResponse({"revision": saved.revision, "status": saved.status})
            messages.success(
                request,
                "Grille remise : elle est verrouillée." if submit else "Grille enregistrée.",
            )
            return redirect("evaluations:grid", pk=assessment.pk)
    elif request.method == "POST" and is_fetch(request):
        return JsonResponse(
            {"error": " ".join(m for errors in form.errors.values() for m in errors)}, status=400
        )
    own = own_grid()
    others, others_shown = _others_if_all_submitted(assessment, request.user)
    rows = [
        (
            criterion,
            form[f"value_{criterion.pk}"],
            form[f"comment_{criterion.pk}"],
            others.get(criterion.pk, []),
        )
        for criterion in criteria
    ]
    return render(
        request,
        "evaluations/grid.html",
        {
            "assessment": assessment,
            "session": session,
            "form": form,
            "rows": rows,
            "grid": own,
            "numeric": version.is_numeric_scale,
            "others_shown": others_shown,
            "locked": own is not None and own.is_submitted,
        },
        status=400 if form.errors else 200,
    )


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
    return Grid.objects.filter(assessment=assessment, assessor=user).first()


def _others_if_all_submitted(assessment, user):
    """The other assessors' scores by criterion, shown only once every assessor
    of the session has submitted: assessors score independently."""
    grids = list(assessment.grids.select_related("assessor").prefetch_related("scores"))
    assessor_count = assessment.session.assessors.count()
    submitted = [grid for grid in grids if grid.is_submitted]
    others = defaultdict(list)
    if not policies.shows_other_grids(
        assessor_count=assessor_count, submitted_count=len(submitted)
    ):
        return others, False
    for grid in submitted:
        if grid.assessor_id != user.pk:
            for score in grid.scores.all():
                others[score.criterion_id].append((grid.assessor, score))
    return others, True


@role_required(ADMIN, *ASSESSORS)
def synthesis(request, pk):
    """The consolidated grid: each criterion's mean over submitted grids, and disagreements."""
    assessment = get_assessment_for_reviewer(request.user, pk)
    session = assessment.session
    refusal = policies.review_refusal(request.user, session, _own_grid(assessment, request.user))
    if refusal is not None:
        raise PermissionDenied(refusal)
    version = session.modality.bloc.certification_version
    criteria = list(modality_criteria(session.modality))
    grids = list(
        assessment.grids.select_related("assessor")
        .prefetch_related("scores")
        .order_by("assessor__last_name")
    )
    submitted = [grid for grid in grids if grid.is_submitted]
    values = defaultdict(dict)
    for grid in submitted:
        for score in grid.scores.all():
            values[score.criterion_id][grid.assessor_id] = score
    tolerance = version.disagreement_tolerance()
    rows = []
    for criterion in criteria:
        scores = [values[criterion.pk].get(grid.assessor_id) for grid in submitted]
        numbers = [score.value for score in scores if score is not None]
        rows.append(
            {
                "criterion": criterion,
                "scores": scores,
                "mean": criterion_mean(numbers),
                "disagree": assessors_disagree(numbers, tolerance=tolerance),
            }
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
            "levels": {level.value: level.label for level in version.grading_levels.all()},
        },
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
    return render(request, "evaluations/history.html", {"assessment": assessment, "events": events})
