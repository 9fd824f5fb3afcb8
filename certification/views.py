import re
from collections import defaultdict

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.http import FileResponse, Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core import roles
from core.forms import ReasonForm
from core.roles import ADMIN, CANDIDATE, role_required
from core.views import report_refusal
from evaluations.models import Deliberation

from .forms import VERIFICATION_CODE, CertificateSearchForm, IssueForm, PrintForm, VerificationForm
from .models import Certificate, PrintJob
from .printing import (
    AlreadyRunning,
    due_titles_by_deliberation,
    fail_stale_jobs,
    resume_print_job,
    start_print_job,
)
from .services import (
    due_bloc_decisions,
    issue_again,
    issue_bloc_certificate,
    issue_title_certificate,
    reissue_certificate,
    revoke_certificate,
    revoke_withdrawn_certificates,
    store_pdf,
    withdrawn_certificates,
)

# --- Public verification ------------------------------------------------------


def verify_form(request):
    form = VerificationForm(request.GET or None)
    if form.is_valid():
        return redirect("certification:verify", code=form.cleaned_data["code"])
    return render(request, "certification/verify_form.html", {"form": form})


def verify(request, code):
    """Public: what the certificate certifies and its status. Unknown codes get
    one neutral answer; no birth date is shown."""
    if len(code) > 64 or not re.fullmatch(VERIFICATION_CODE, code):
        return render(request, "certification/verify_unknown.html", status=404)
    certificate = (
        Certificate.objects.public()
        .select_related("superseded_by")
        .filter(verification_code=code)
        .first()
    )
    if certificate is None:
        return render(request, "certification/verify_unknown.html", status=404)
    withdrawn = (
        certificate.status == Certificate.Status.VALID
        and withdrawn_certificates().filter(pk=certificate.pk).exists()
    )
    return render(
        request, "certification/verify.html", {"certificate": certificate, "withdrawn": withdrawn}
    )


# --- The office -----------------------------------------------------------------


def revocation_form(data=None):
    return ReasonForm(data, label="Motif de la révocation")


def issue_again_form(data=None):
    return ReasonForm(data, label="Motif de la nouvelle délivrance")


def get_certificate_for_user(user, number):
    if "\x00" in number:  # PostgreSQL cannot even compare such a text
        raise Http404("Certificat introuvable.")
    certificates = Certificate.objects.select_related("candidate", "superseded_by", "bloc")
    if not roles.is_admin(user):
        certificates = certificates.public().filter(candidate__user=user)
    return get_object_or_404(certificates, number=number)


@role_required(ADMIN)
def certificate_list(request):
    deliberations = (
        Deliberation.objects.effective().select_related("jury", "cohort").order_by("-signed_at")
    )
    deliberations = list(deliberations)
    decisions = defaultdict(list)
    for decision in due_bloc_decisions().filter(deliberation__in=deliberations):
        decisions[decision.deliberation_id].append(decision)
    titles = due_titles_by_deliberation(deliberations)
    due = [
        (deliberation, decisions[deliberation.pk], titles[deliberation.pk])
        for deliberation in deliberations
    ]
    certificates = Certificate.objects.select_related("candidate").order_by("-year", "-sequence")
    search = CertificateSearchForm(request.GET)
    if status := search.status():
        certificates = certificates.filter(status=status)
    if query := search.query():
        certificates = certificates.filter(
            Q(number__icontains=query)
            | Q(candidate__birth_name__icontains=query)
            | Q(candidate__usage_name__icontains=query)
        )
    return render(
        request,
        "certification/certificate_list.html",
        {
            "withdrawn": withdrawn_certificates().select_related("candidate"),
            "due": [entry for entry in due if entry[1] or entry[2]],
            "print_form": PrintForm() if deliberations else None,
            "certificates": certificates[:200],
            "query": query,
            "jobs": PrintJob.objects.select_related("deliberation__jury", "deliberation__cohort")[
                :10
            ],
        },
    )


@require_POST
@role_required(ADMIN)
def certificate_issue(request):
    form = IssueForm(request.POST)
    if not form.is_valid():
        raise Http404("Décision ou inscription introuvable.")
    try:
        if decision := form.cleaned_data["decision"]:
            certificate = issue_bloc_certificate(decision, by=request.user)
        else:
            certificate = issue_title_certificate(form.cleaned_data["enrolment"], by=request.user)
    except ValidationError as error:
        report_refusal(request, error)
        return redirect("certification:certificates")
    messages.success(request, f"Certificat n° {certificate.number} délivré.")
    return redirect(certificate)


@role_required(ADMIN, CANDIDATE)
def certificate_detail(request, number):
    certificate = get_certificate_for_user(request.user, number)
    return render(
        request,
        "certification/certificate_detail.html",
        {
            "certificate": certificate,
            "is_admin": roles.is_admin(request.user),
            "revocation_form": revocation_form(),
            "issue_again_form": issue_again_form(),
        },
    )


@role_required(ADMIN, CANDIDATE)
def certificate_pdf(request, number):
    certificate = get_certificate_for_user(request.user, number)
    if certificate.status != Certificate.Status.VALID and not roles.is_admin(request.user):
        raise Http404("Ce certificat n'est plus valide.")
    if not certificate.pdf:
        certificate = store_pdf(certificate.pk)  # its rendering after issue had failed
    return FileResponse(
        certificate.pdf.open("rb"),
        as_attachment=True,
        content_type="application/pdf",
        filename=f"certificat-{certificate.number}.pdf",
    )


@require_POST
@role_required(ADMIN)
def certificate_revoke(request, number):
    certificate = get_certificate_for_user(request.user, number)
    try:
        revoke_certificate(
            certificate, reason=revocation_form(request.POST).text(), by=request.user
        )
    except ValidationError as error:
        report_refusal(request, error)
    else:
        messages.success(request, f"Certificat n° {certificate.number} révoqué.")
    return redirect(certificate)


@require_POST
@role_required(ADMIN)
def certificate_reissue(request, number):
    certificate = get_certificate_for_user(request.user, number)
    try:
        new = reissue_certificate(certificate, by=request.user)
    except ValidationError as error:
        report_refusal(request, error)
        return redirect(certificate)
    messages.success(
        request, f"Certificat réédité : n° {new.number} remplace n° {certificate.number}."
    )
    return redirect(new)


@require_POST
@role_required(ADMIN)
def certificate_issue_again(request, number):
    certificate = get_certificate_for_user(request.user, number)
    try:
        new = issue_again(
            certificate, reason=issue_again_form(request.POST).text(), by=request.user
        )
    except ValidationError as error:
        report_refusal(request, error)
        return redirect(certificate)
    messages.success(
        request,
        f"Certificat n° {new.number} délivré à nouveau (n° {certificate.number} reste révoqué).",
    )
    return redirect(new)


@require_POST
@role_required(ADMIN)
def revoke_withdrawn(request):
    """Revoke, in one go, the certificates of blocs a rectifying PV withdrew."""
    revoked = revoke_withdrawn_certificates(by=request.user)
    for certificate in revoked:
        messages.success(request, f"Certificat n° {certificate.number} révoqué.")
    if not revoked:
        messages.info(request, "Aucun certificat retiré par un PV rectificatif n'est à révoquer.")
    return redirect("certification:certificates")


@role_required(CANDIDATE)
def my_certificates(request):
    certificates = (
        Certificate.objects.public()
        .filter(candidate__user=request.user)
        .order_by("-year", "-sequence")
    )
    return render(request, "certification/my_certificates.html", {"certificates": certificates})


@require_POST
@role_required(ADMIN)
def print_start(request):
    form = PrintForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choisissez un procès-verbal publié et en vigueur.")
        return redirect("certification:certificates")
    deliberation = form.cleaned_data["deliberation"]
    try:
        job = start_print_job(deliberation, by=request.user)
    except AlreadyRunning as running:
        messages.info(request, running.message)
        return redirect(running.job)
    except ValidationError as error:
        report_refusal(request, error)
        return redirect("certification:certificates")
    return redirect(job)


@role_required(ADMIN)
def print_job(request, pk):
    fail_stale_jobs(PrintJob.objects.filter(pk=pk))  # its worker died: the page says so
    job = get_object_or_404(PrintJob.objects.select_related("deliberation__jury"), pk=pk)
    return render(request, "certification/print_job.html", {"job": job})


@require_POST
@role_required(ADMIN)
def print_resume(request, pk):
    job = get_object_or_404(PrintJob, pk=pk)
    try:
        job = resume_print_job(job, by=request.user)
    except AlreadyRunning as running:
        messages.info(request, running.message)
        return redirect(running.job)
    except ValidationError as error:
        report_refusal(request, error)
    else:
        messages.success(
            request,
            "Impression reprise : les certificats déjà délivrés ne le seront pas à nouveau.",
        )
    return redirect(job)


@role_required(ADMIN)
def print_job_file(request, pk, kind):
    job = get_object_or_404(PrintJob, pk=pk)
    stored = job.merged_pdf if kind == "pdf" else job.archive
    if not stored:
        raise Http404
    return FileResponse(
        stored.open("rb"),
        content_type="application/pdf" if kind == "pdf" else "application/zip",
        filename=f"impression-{job.pk}.{kind}",
    )
