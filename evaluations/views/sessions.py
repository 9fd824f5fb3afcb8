from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core import roles
from core.roles import ADMIN, JURY_MEMBER, TRAINER, role_required
from core.views import form_page, report_refusal

from .. import policies
from ..forms import SessionForm
from ..models import Assessment, ExamSession, Grid
from ..sessions import (
    change_session_status,
    create_session,
    modality_criteria,
    set_presence,
)

ASSESSORS = (TRAINER, JURY_MEMBER)


def sessions_visible_to(user):
    sessions = ExamSession.objects.all()
    if roles.is_admin(user):
        return sessions
    return sessions.filter(Q(assessors=user) | Q(lead=user)).distinct()


def get_session_for_user(user, pk):
    return get_object_or_404(sessions_visible_to(user), pk=pk)


def get_assessment_for_assessor(user, pk):
    """An assessment of a session the user scores in; 404 alike for missing and not theirs."""
    return get_object_or_404(
        Assessment.objects.select_related(
            "session__modality__bloc__certification_version", "enrolment__candidate"
        ).filter(session__assessors=user),
        pk=pk,
    )


def get_assessment_for_reviewer(user, pk):
    """The office, the session's lead and its assessors may read the synthesis and history."""
    assessments = Assessment.objects.select_related(
        "session__modality__bloc__certification_version", "enrolment__candidate"
    )
    if not roles.is_admin(user):
        assessments = assessments.filter(
            Q(session__assessors=user) | Q(session__lead=user)
        ).distinct()
    return get_object_or_404(assessments, pk=pk)


@role_required(ADMIN, *ASSESSORS)
def session_list(request):
    sessions = (
        sessions_visible_to(request.user)
        .select_related("modality__bloc", "cohort")
        .annotate(candidate_count=Count("assessments", distinct=True))
    )
    return render(request, "evaluations/session_list.html", {"sessions": sessions})


@role_required(ADMIN)
def session_create(request):
    form = SessionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            session = create_session(
                **{key: value for key, value in form.cleaned_data.items() if key != "assessors"},
                assessors=list(form.cleaned_data["assessors"]),
                by=request.user,
            )
        except ValidationError as error:
            for message in error.messages:
                form.add_error(None, message)
        else:
            messages.success(request, "Session créée.")
            return redirect(session)
    return form_page(
        request,
        form,
        title="Nouvelle session d'examen",
        intro="Chaque candidat inscrit (et, pour un bloc optionnel, l'ayant choisi) reçoit une "
        "évaluation ; un candidat qui a déjà passé cette modalité passe une nouvelle tentative, "
        "la précédente est conservée.",
        submit="Créer la session",
        back="evaluations:sessions",
    )


@role_required(ADMIN, *ASSESSORS)
def session_detail(request, pk):
    session = get_object_or_404(
        sessions_visible_to(request.user).select_related("modality__bloc", "cohort", "lead"), pk=pk
    )
    assessors = list(session.assessors.order_by("last_name", "first_name"))
    criteria_count = modality_criteria(session.modality).count()
    grids = Grid.objects.annotate(
        scored=Count("scores", filter=Q(scores__value__isnull=False))
    ).order_by("assessor__last_name", "assessor__first_name")
    assessments = session.assessments.select_related("enrolment__candidate").prefetch_related(
        Prefetch("grids", queryset=grids)
    )
    is_assessor = any(assessor.pk == request.user.pk for assessor in assessors)
    can_review = policies.reviews_session(request.user, session)
    rows = []
    for assessment in assessments:
        by_assessor = {grid.assessor_id: grid for grid in assessment.grids.all()}
        rows.append(
            {
                "assessment": assessment,
                "mine": by_assessor.get(request.user.pk),
                "grids": [by_assessor.get(assessor.pk) for assessor in assessors],
            }
        )
    return render(
        request,
        "evaluations/session_detail.html",
        {
            "session": session,
            "assessors": assessors,
            "rows": rows,
            "criteria_count": criteria_count,
            "is_assessor": is_assessor,
            "can_review": can_review,
            "is_admin": roles.is_admin(request.user),
        },
    )


@require_POST
@role_required(ADMIN)
def session_status(request, pk):
    session = get_session_for_user(request.user, pk)
    try:
        change_session_status(session, status=request.POST.get("status", ""), by=request.user)
    except (ValidationError, ValueError):
        messages.error(request, "Ce changement de statut n'est pas possible.")
    else:
        messages.success(request, "Statut de la session mis à jour.")
    return redirect(session)


@require_POST
@role_required(ADMIN, *ASSESSORS)
def assessment_presence(request, pk):
    assessment = get_assessment_for_reviewer(request.user, pk)
    is_assessor = assessment.session.assessors.filter(pk=request.user.pk).exists()
    if not policies.sets_presence(request.user, is_assessor=is_assessor):
        raise PermissionDenied
    try:
        set_presence(assessment, present=request.POST.get("present") == "1", by=request.user)
    except ValidationError as error:
        report_refusal(request, error)
    return redirect(assessment.session)
