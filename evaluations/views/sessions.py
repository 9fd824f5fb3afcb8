import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Exists, OuterRef, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from blocks.models import EvaluationModality
from candidates.models import Cohort, name_ordering
from core import roles
from core.collation import French
from core.forms import ReasonForm
from core.links import path_maker
from core.pagination import paginate
from core.roles import ADMIN, JURY_MEMBER, TRAINER, role_required
from core.views import add_errors, form_page, report_refusal

from .. import policies
from ..forms import (
    BlocScheduleForm,
    PresenceForm,
    ReplaceAssessorForm,
    SessionFilterForm,
    SessionForm,
    SessionPlanForm,
    modality_plan_forms,
)
from ..models import Assessment, ExamSession, Grid
from ..sessions import (
    UngradedCandidates,
    cancel_session,
    change_session_status,
    create_session,
    edit_session,
    expected_assessors,
    modality_criteria,
    recused_users,
    replace_assessor,
    schedule_bloc,
    set_presence,
)

ASSESSORS = (TRAINER, JURY_MEMBER)


def sessions_visible_to(user):
    sessions = ExamSession.objects.all()
    if roles.is_admin(user):
        return sessions
    # A subquery rather than a join: no DISTINCT to plan and sort.
    return sessions.filter(Q(lead=user) | Exists(assessor_seat(user, OuterRef("pk"))))


def assessor_seat(user, session):
    """`user`'s row among the assessors of `session` (an outer reference)."""
    return ExamSession.assessors.through.objects.filter(examsession_id=session, user_id=user.pk)


def get_session_for_user(user, pk):
    return get_object_or_404(sessions_visible_to(user), pk=pk)


def assessments_with_their_session():
    """Assessments with their candidate and session, the modality, bloc and
    version in a second query: PostgreSQL takes longer to plan one join of
    nine tables than to answer two small queries."""
    return Assessment.objects.select_related(
        "session__cohort", "enrolment__candidate"
    ).prefetch_related(
        Prefetch(
            "session__modality",
            EvaluationModality.objects.select_related("bloc__certification_version"),
        )
    )


def get_assessment_for_assessor(user, pk):
    """An assessment of a session the user scores in; 404 alike for missing and not theirs."""
    return get_object_or_404(
        assessments_with_their_session().filter(
            Exists(assessor_seat(user, OuterRef("session_id")))
        ),
        pk=pk,
    )


def get_assessment_for_reviewer(user, pk):
    """The office, the session's lead and its assessors may read the synthesis and history."""
    assessments = assessments_with_their_session()
    if not roles.is_admin(user):
        assessments = assessments.filter(
            Q(session__lead=user) | Exists(assessor_seat(user, OuterRef("session_id")))
        )
    return get_object_or_404(assessments, pk=pk)


@role_required(ADMIN, *ASSESSORS)
def session_list(request):
    """The sessions the user may see, filtered (SessionFilterForm), by date then
    modality (newest first), 50 a page; the filters choose among the user's promotions."""
    visible = sessions_visible_to(request.user)
    filters = SessionFilterForm(
        request.GET, cohorts=Cohort.objects.filter(sessions__in=visible).distinct()
    )
    sessions = (
        filters.filter(visible)
        .select_related("modality__bloc", "cohort")
        .annotate(candidate_count=Count("assessments", distinct=True))
        .order_by("-date", "modality__bloc__number", "modality__code", French("cohort__name"), "pk")
    )
    page, query = paginate(request, sessions)
    return render(
        request,
        "evaluations/session_list.html",
        {"filters": filters, "page": page, "query": query},
    )


@role_required(ADMIN)
def session_create(request):
    form = SessionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            session = create_session(
                **form.plan(), open_now="open" in request.POST, by=request.user
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request,
                "Session créée et ouverte à la notation." if session.is_open else "Session créée.",
            )
            return redirect(session)
    return form_page(
        request,
        form,
        title="Nouvelle session d'examen",
        intro="Chaque candidat inscrit (et, pour un bloc optionnel, l'ayant choisi) reçoit une "
        "évaluation ; un candidat qui a déjà passé cette modalité passe une nouvelle tentative, "
        "la précédente est conservée.",
        submit="Créer la session",
        other_submits=[("open", "Créer et ouvrir")],
        back="evaluations:sessions",
    )


@role_required(ADMIN)
def bloc_schedule(request):
    """Every modality of a bloc planned for a promotion in one form: first the
    promotion and the bloc, then a date, place and assessors per modality."""
    choice = BlocScheduleForm(request.GET or None)
    if not choice.is_valid():
        return form_page(
            request,
            choice,
            title="Planifier toutes les épreuves d'un bloc",
            intro="Choisissez la promotion et le bloc ; la page suivante demande la date, le "
            "lieu et les évaluateurs de chacune de ses modalités.",
            submit="Continuer",
            back="evaluations:sessions",
        )
    cohort, bloc = choice.cleaned_data["cohort"], choice.cleaned_data["bloc"]
    modalities = list(bloc.modalities.order_by("code"))
    plans = modality_plan_forms(modalities, request.POST or None)
    token = request.POST.get("token") or str(uuid.uuid4())
    if request.method == "POST" and all(form.is_valid() for form in plans):
        try:
            token = uuid.UUID(token)
        except ValueError:
            token = uuid.uuid4()
        try:
            sessions = schedule_bloc(
                cohort=cohort,
                plans=[
                    {
                        **form.plan(),
                        "modality": form.modality,
                        "token": uuid.uuid5(token, str(form.modality.pk)),
                    }
                    for form in plans
                ],
                by=request.user,
            )
        except ValidationError as error:
            messages.error(request, "Aucune session n'a été créée : " + " ".join(error.messages))
        else:
            messages.success(request, f"{len(sessions)} session(s) planifiée(s) pour {cohort}.")
            return redirect(f"{reverse('evaluations:sessions')}?promotion={cohort.pk}")
    return render(
        request,
        "evaluations/bloc_schedule.html",
        {"cohort": cohort, "bloc": bloc, "plans": plans, "token": token},
        status=400 if request.method == "POST" else 200,
    )


@role_required(ADMIN)
def session_edit(request, pk):
    session = get_session_for_user(request.user, pk)
    form = SessionPlanForm(
        request.POST or None,
        initial={
            "date": session.date,
            "place": session.place,
            "assessors": list(session.assessors.all()),
            "jury": session.jury,
            "lead": session.lead,
            "convocation_time": session.convocation_time,
            "duration_minutes": session.duration_minutes,
            "convocation_instructions": session.convocation_instructions,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            edit_session(session, **form.plan(), by=request.user)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, "Session modifiée.")
            return redirect(session)
    return form_page(
        request,
        form,
        title=f"Modifier la session {session.short_label}",
        intro="La date, le lieu, la convocation, les évaluateurs et le responsable changent "
        "tant qu'aucune grille n'est remise ; ensuite, un évaluateur se remplace avec un motif.",
        submit="Enregistrer",
        back=session,
    )


@role_required(ADMIN)
def session_replace(request, pk):
    session = get_session_for_user(request.user, pk)
    form = ReplaceAssessorForm(request.POST or None, session=session)
    if request.method == "POST" and form.is_valid():
        try:
            replace_assessor(session, **form.cleaned_data, by=request.user)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, "Évaluateur remplacé.")
            return redirect(session)
    return form_page(
        request,
        form,
        title=f"Remplacer un évaluateur · {session.short_label}",
        submit="Remplacer",
        back=session,
    )


@role_required(ADMIN)
def session_cancel(request, pk):
    session = get_session_for_user(request.user, pk)
    form = ReasonForm(request.POST or None, label="Motif de l'annulation")
    if request.method == "POST":
        try:
            cancel_session(session, reason=form.text(), by=request.user)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, "Session annulée.")
            return redirect(session)
    return form_page(
        request,
        form,
        title=f"Annuler la session {session.short_label}",
        intro="Personne ne l'a passée : ses candidats sont libérés et passeront la même "
        "tentative à la prochaine session de cette modalité. La session reste listée, annulée.",
        submit="Annuler la session",
        back=session,
    )


@role_required(ADMIN, *ASSESSORS)
def session_detail(request, pk):
    session = get_object_or_404(
        sessions_visible_to(request.user).select_related(
            "modality__bloc__certification_version", "cohort", "lead"
        ),
        pk=pk,
    )
    assessors = list(session.assessors.order_by("last_name", "first_name"))
    criteria_count = len(modality_criteria(session.modality))
    grids = Grid.objects.annotate(
        scored=Count("scores", filter=Q(scores__value__isnull=False))
    ).order_by("assessor__last_name", "assessor__first_name")
    assessments = (
        session.assessments.select_related("enrolment__candidate")
        .prefetch_related(Prefetch("grids", queryset=grids))
        .order_by(*name_ordering("enrolment__candidate__"))
    )
    page, query = paginate(request, assessments)
    is_assessor = any(assessor.pk == request.user.pk for assessor in assessors)
    can_review = policies.reviews_session(request.user, session)
    replacements = list(session.replacements.select_related("replaced", "replacement"))
    replaced_pairs = [(r.replaced_id, r.replacement_id) for r in replacements]
    assessor_ids = {assessor.pk for assessor in assessors}
    # Those replaced keep a column: their handed-in grids still count.
    columns = assessors + list(
        {
            r.replaced.pk: r.replaced for r in replacements if r.replaced_id not in assessor_ids
        }.values()
    )
    links = {
        name: path_maker(f"evaluations:{name}")
        for name in ("grid", "presence", "synthesis", "history", "convocation")
    }
    recused = recused_users(session)
    is_admin = roles.is_admin(request.user)
    convocations = (
        is_admin
        and session.status != ExamSession.Status.CANCELLED
        and session.convocation_time
        and session.duration_minutes
    )
    # Plain values for the template, whose lookups cost more than the rest of
    # the page at fifty rows.
    rows = []
    for assessment in page:
        by_assessor = {grid.assessor_id: grid for grid in assessment.grids.all()}
        mine = by_assessor.get(request.user.pk)
        submitted = {pk for pk, grid in by_assessor.items() if grid.is_submitted}
        stands_aside = request.user.pk in recused.get(assessment.enrolment_id, ())
        marks = request.user.pk in expected_assessors(assessor_ids, replaced_pairs, submitted)
        marks = marks and not stands_aside
        rows.append(
            {
                "name": assessment.enrolment.candidate.full_name,
                "attempt": assessment.attempt,
                "present": assessment.present,
                "convocation": links["convocation"](assessment.pk)
                if convocations and assessment.enrolment.is_active
                else None,
                "presence": links["presence"](assessment.pk),
                "grid": links["grid"](assessment.pk),
                "history": links["history"](assessment.pk),
                "mine": _grid_cell(mine),
                # Why an assessor of the session does not mark this candidate.
                "not_marking": None
                if marks or not is_assessor
                else ("recused" if stands_aside else "replaced"),
                # The lead reads it once their own grid is in, or when they do not mark.
                "synthesis": links["synthesis"](assessment.pk)
                if is_admin
                or (can_review and (not marks or (mine is not None and mine.is_submitted)))
                else None,
                "grids": [_grid_cell(by_assessor.get(assessor.pk)) for assessor in columns],
            }
        )
    return render(
        request,
        "evaluations/session_detail.html",
        {
            "session": session,
            "assessors": assessors,
            "columns": columns,
            "rows": rows,
            "criteria_count": criteria_count,
            "is_assessor": is_assessor,
            "can_review": can_review,
            "is_admin": is_admin,
            "sets_presence": session.is_open and (is_assessor or is_admin),
            "replacements": replacements,
            # The office changes a session's plan until a grid is handed in
            # (asked of the office only: nobody else sees the button).
            "plan_editable": is_admin
            and not Grid.objects.filter(
                assessment__session=session, status=Grid.Status.SUBMITTED
            ).exists(),
            "page": page,
            "query": query,
        },
    )


def _grid_cell(grid):
    """A grid as the session page shows it: "remise", the number of criteria
    scored in a draft, or None when there is none."""
    if grid is None:
        return None
    return "remise" if grid.is_submitted else grid.scored


@require_POST
@role_required(ADMIN)
def session_status(request, pk):
    session = get_session_for_user(request.user, pk)
    try:
        change_session_status(
            session,
            status=request.POST.get("status", ""),
            confirmed=request.POST.get("confirm") == "1",
            by=request.user,
        )
    except UngradedCandidates as ungraded:
        return render(
            request,
            "evaluations/session_close_confirm.html",
            {"session": session, "candidates": ungraded.candidates},
            status=409,
        )
    except ValidationError as error:
        report_refusal(request, error)
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
    form = PresenceForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Présence non modifiée : la demande est incomplète ou erronée.")
        return redirect(assessment.session)
    try:
        set_presence(assessment, present=form.cleaned_data["present"], by=request.user)
    except ValidationError as error:
        report_refusal(request, error)
    # Back to the page of the list the row was on.
    page = form.cleaned_data["page"]
    return redirect(assessment.session.get_absolute_url() + (f"?page={page}" if page else ""))
