from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Count, Prefetch, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core import roles
from core.forms import SearchForm
from core.history import describe_events
from core.models import AuditEvent
from core.pagination import paginate
from core.roles import ADMIN, CANDIDATE, TRAINER, role_required
from core.views import add_errors, form_page, report_refusal

from .forms import (
    CandidateForm,
    CohortForm,
    ConfirmImportForm,
    EnrolmentForm,
    ExistingCandidateEnrolmentForm,
    ImportForm,
    RegistrationForm,
    WithdrawalForm,
)
from .importing import ImportRefused, plan_import
from .models import Candidate, Cohort, Enrolment, name_ordering
from .services import (
    candidates_without_account,
    change_registration,
    confirm_import,
    hold_import,
    invite_candidate,
    invite_cohort,
    save_candidate,
    save_cohort,
    withdraw,
)


def get_cohort_for_user(user, pk):
    return get_object_or_404(Cohort.objects.visible_to(user), pk=pk)


def get_candidate_for_user(user, pk):
    return get_object_or_404(Candidate.objects.visible_to(user), pk=pk)


@role_required(ADMIN, TRAINER)
def cohort_list(request):
    cohorts = (
        Cohort.objects.visible_to(request.user)
        .select_related("certification_version")
        .prefetch_related("trainers")
        .annotate(
            enrolled_count=Count(
                "enrolments", filter=Q(enrolments__status=Enrolment.Status.ENROLLED)
            )
        )
    )
    return render(request, "candidates/cohort_list.html", {"cohorts": cohorts})


@role_required(ADMIN, TRAINER)
def cohort_detail(request, pk):
    cohort = get_cohort_for_user(request.user, pk)
    enrolments = (
        cohort.enrolments.select_related("candidate")
        .prefetch_related("optional_blocs")
        .order_by(*name_ordering("candidate__"), "pk")
    )
    can_manage = roles.is_admin(request.user)
    without_account = (
        candidates_without_account(cohort).aggregate(
            invitable=Count("pk", filter=~Q(email="")), unreachable=Count("pk", filter=Q(email=""))
        )
        if can_manage
        else {}
    )
    return render(
        request,
        "candidates/cohort_detail.html",
        {
            "cohort": cohort,
            "enrolments": enrolments,
            "trainers": cohort.trainers.all(),
            "can_manage": can_manage,
            "without_account": without_account,
        },
    )


@require_POST
@role_required(ADMIN)
def cohort_invite(request, pk):
    cohort = get_cohort_for_user(request.user, pk)
    try:
        invited = invite_cohort(cohort, base_url=request.build_absolute_uri("/"), by=request.user)
    except ValidationError as error:
        report_refusal(request, error)
    else:
        messages.success(
            request, f"{len(invited)} candidat(s) invité(s) : chacun reçoit son lien par courriel."
        )
    return redirect(cohort)


@role_required(ADMIN)
def cohort_edit(request, pk=None):
    cohort = get_cohort_for_user(request.user, pk) if pk else Cohort()
    form = CohortForm(request.POST or None, instance=cohort)
    if request.method == "POST" and form.is_valid():
        values = {k: v for k, v in form.cleaned_data.items() if k != "trainers"}
        try:
            cohort = save_cohort(
                cohort, values=values, trainers=form.cleaned_data["trainers"], by=request.user
            )
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, f"Promotion « {cohort} » enregistrée.")
            return redirect(cohort)
    return form_page(
        request,
        form,
        title="Modifier la promotion" if pk else "Nouvelle promotion",
        submit="Enregistrer",
        back=cohort.get_absolute_url() if pk else "candidates:cohorts",
    )


@role_required(ADMIN)
def cohort_enrol(request, pk):
    cohort = get_cohort_for_user(request.user, pk)
    form = ExistingCandidateEnrolmentForm(request.POST or None, cohort=cohort)
    if request.method == "POST" and form.is_valid():
        try:
            enrolment = form.enrol(form.cleaned_data["candidate"], by=request.user)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, f"{enrolment.candidate} est inscrit(e).")
            return redirect(cohort)
    return form_page(
        request,
        form,
        title=f"Inscrire un candidat existant · {cohort}",
        submit="Inscrire",
        back=cohort.get_absolute_url(),
    )


@role_required(ADMIN)
def cohort_new_candidate(request, pk):
    cohort = get_cohort_for_user(request.user, pk)
    identity = CandidateForm(request.POST or None, prefix="identite")
    enrolment = EnrolmentForm(request.POST or None, cohort=cohort, prefix="inscription")
    if request.method == "POST" and identity.is_valid() and enrolment.is_valid():
        try:
            with transaction.atomic():
                candidate = save_candidate(
                    Candidate(), values=identity.cleaned_data, by=request.user
                )
                enrolment.enrol(candidate, by=request.user)
        except ValidationError as error:
            add_errors(identity, error)
        else:
            messages.success(request, f"{candidate} est créé(e) et inscrit(e).")
            return redirect(cohort)
    return form_page(
        request,
        identity,
        enrolment,
        title=f"Nouveau candidat · {cohort}",
        submit="Créer et inscrire",
        back=cohort.get_absolute_url(),
    )


@role_required(ADMIN)
def cohort_import(request, pk):
    """Upload, then preview what will be written; confirming writes all or nothing.

    A valid file waits for its confirmation in a PendingImport, found again by
    the token of the preview page, for its owner only."""
    cohort = get_cohort_for_user(request.user, pk)
    form = ImportForm()
    if request.method == "POST" and "token" in request.POST:
        return _confirm_import(request, cohort)
    if request.method == "POST":
        form = ImportForm(request.POST, request.FILES)
        if form.is_valid():
            upload = form.cleaned_data["file"]
            content = upload.read()
            plan = plan_import(cohort, upload.name, content)
            pending = (
                hold_import(cohort, filename=upload.name, content=content, by=request.user)
                if plan.is_valid
                else None
            )
            return render(
                request,
                "candidates/import_preview.html",
                {
                    "cohort": cohort,
                    "plan": plan,
                    "token": pending.token if pending else "",
                    "filename": upload.name,
                },
            )
    return render(request, "candidates/import_upload.html", {"cohort": cohort, "form": form})


def _confirm_import(request, cohort):
    try:
        token = ConfirmImportForm(request.POST).token_value()
        plan = confirm_import(cohort, token=token, by=request.user)
    except ValidationError as error:
        report_refusal(request, error)
        return redirect("candidates:cohort_import", pk=cohort.pk)
    except ImportRefused as refused:
        for problem in refused.problems:
            messages.error(request, str(problem))
        return redirect("candidates:cohort_import", pk=cohort.pk)
    messages.success(
        request,
        f"Import terminé : {len(plan.to_create)} candidat(s) créé(s), "
        f"{len(plan.to_enrol_existing)} candidat(s) existant(s) inscrit(s), "
        f"{len(plan.already_enrolled)} déjà inscrit(s).",
    )
    return redirect(cohort)


@role_required(ADMIN, TRAINER)
def candidate_list(request):
    query = SearchForm(request.GET).query()
    candidates = Candidate.objects.visible_to(request.user)
    if query:
        candidates = candidates.filter(
            Q(birth_name__icontains=query)
            | Q(usage_name__icontains=query)
            | Q(first_names__icontains=query)
            | Q(email__icontains=query)
        )
    candidates = candidates.prefetch_related(
        Prefetch(
            "enrolments",
            queryset=Enrolment.objects.visible_to(request.user).select_related("cohort"),
        )
    ).order_by(*name_ordering(), "birth_date", "pk")
    page, filters = paginate(request, candidates)
    return render(
        request,
        "candidates/candidate_list.html",
        {
            "page": page,
            "filters": filters,
            "query": query,
            "can_manage": roles.is_admin(request.user),
        },
    )


@role_required(ADMIN, TRAINER, CANDIDATE)
def candidate_detail(request, pk):
    return _candidate_page(request, get_candidate_for_user(request.user, pk))


@role_required(CANDIDATE)
def my_space(request):
    candidate = get_object_or_404(Candidate, user=request.user)
    return _candidate_page(request, candidate)


def _candidate_page(request, candidate):
    enrolments = (
        candidate.enrolments.visible_to(request.user)
        .select_related("cohort__certification_version")
        .prefetch_related("optional_blocs")
    )
    is_admin = roles.is_admin(request.user)
    history = (
        describe_events(
            (
                AuditEvent.objects.for_object(candidate)
                | AuditEvent.objects.filter(
                    content_type=ContentType.objects.get_for_model(Enrolment),
                    object_id__in=[
                        str(pk) for pk in candidate.enrolments.values_list("pk", flat=True)
                    ],
                )
            )
            .select_related("actor")
            .order_by("-created_at", "-pk")[:50]
        )
        if is_admin
        else []
    )
    return render(
        request,
        "candidates/candidate_detail.html",
        {
            "candidate": candidate,
            "enrolments": enrolments,
            "can_manage": is_admin,
            "history": history,
        },
    )


@role_required(ADMIN)
def candidate_edit(request, pk=None):
    candidate = get_candidate_for_user(request.user, pk) if pk else Candidate()
    form = CandidateForm(request.POST or None, instance=candidate)
    if request.method == "POST" and form.is_valid():
        try:
            candidate = save_candidate(candidate, values=form.cleaned_data, by=request.user)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, f"Fiche de {candidate} enregistrée.")
            return redirect(candidate)
    return form_page(
        request,
        form,
        title=f"Modifier la fiche de {candidate}" if pk else "Nouveau candidat",
        submit="Enregistrer",
        back=candidate.get_absolute_url() if pk else "candidates:candidates",
    )


@require_POST
@role_required(ADMIN)
def candidate_invite(request, pk):
    candidate = get_candidate_for_user(request.user, pk)
    try:
        user = invite_candidate(
            candidate, base_url=request.build_absolute_uri("/"), by=request.user
        )
    except ValidationError as error:
        report_refusal(request, error)
    else:
        messages.success(
            request, f"Invitation envoyée à {candidate.email} (identifiant {user.username})."
        )
    return redirect(candidate)


@role_required(ADMIN)
def enrolment_withdraw(request, pk):
    enrolment = get_object_or_404(
        Enrolment.objects.select_related("candidate", "cohort").filter(
            cohort__in=Cohort.objects.visible_to(request.user)
        ),
        pk=pk,
    )
    form = WithdrawalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            withdraw(enrolment, reason=form.cleaned_data["reason"], by=request.user)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, f"{enrolment.candidate} est retiré(e) de {enrolment.cohort}.")
            return redirect(enrolment.cohort)
    return form_page(
        request,
        form,
        title=f"Retirer {enrolment.candidate} de {enrolment.cohort}",
        intro="L'inscription et son historique sont conservés ; le candidat n'apparaît plus "
        "parmi les inscrits actifs.",
        submit="Retirer",
        back=enrolment.cohort.get_absolute_url(),
    )


@role_required(ADMIN)
def enrolment_registration(request, pk):
    """The office corrects an enrolment's access route, type of VAE,
    initiative and date of registration, from the candidate's page."""
    enrolment = get_object_or_404(
        Enrolment.objects.select_related("candidate", "cohort").filter(
            cohort__in=Cohort.objects.visible_to(request.user)
        ),
        pk=pk,
    )
    form = RegistrationForm(request.POST or None, enrolment=enrolment)
    if request.method == "POST" and form.is_valid():
        try:
            change_registration(enrolment, **form.registration(), by=request.user)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(
                request, f"Inscription de {enrolment.candidate} dans {enrolment.cohort} modifiée."
            )
            return redirect(enrolment.candidate)
    return form_page(
        request,
        form,
        title=f"Modalités d'inscription de {enrolment.candidate} · {enrolment.cohort}",
        intro="Voie d'accès à la certification et inscription : chaque modification est "
        "enregistrée dans l'historique du candidat.",
        submit="Enregistrer",
        back=enrolment.candidate.get_absolute_url(),
    )
