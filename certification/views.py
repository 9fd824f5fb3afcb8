import re
from collections import defaultdict

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from core import roles
from core.exports import export
from core.forms import ReasonForm
from core.pagination import paginate
from core.roles import ADMIN, CANDIDATE, role_required
from core.signing import check_pdf, sha256
from core.views import add_errors, form_page, report_refusal
from evaluations.models import Deliberation

from .exports import HEADER, cpf_label, register, register_rows
from .forms import (
    VERIFICATION_CODE,
    CertificateSearchForm,
    IssueWithLegalBasisForm,
    LegalBasisForm,
    PdfCheckForm,
    PrintForm,
    VerificationForm,
)
from .models import Certificate, PrintJob
from .printing import (
    AlreadyRunning,
    due_titles_by_deliberation,
    fail_stale_jobs,
    resume_print_job,
    start_print_job,
)
from .services import (
    AfterRegistration,
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

UNKNOWN_CODE = "Aucun certificat ne correspond à ce code."


def public_certificate(code):
    """The published certificate of a verification code, or None: every
    unknown or malformed code gets the same neutral answer."""
    if len(code) > 64 or not re.fullmatch(VERIFICATION_CODE, code):
        return None
    return (
        Certificate.objects.public()
        .select_related("superseded_by")
        .filter(verification_code=code)
        .first()
    )


def unknown_code(request, *, as_json=False):
    if as_json:
        return JsonResponse({"found": False, "message": UNKNOWN_CODE}, status=404)
    return render(request, "certification/verify_unknown.html", status=404)


def public_status(certificate):
    """(code, French label) of what the certificate is worth today."""
    if certificate.status == Certificate.Status.VALID:
        if withdrawn_certificates().filter(pk=certificate.pk).exists():
            return "withdrawn", "Certificat en cours de révocation"
        return "valid", "Certificat valide"
    if certificate.status == Certificate.Status.REVOKED:
        return "revoked", "Certificat révoqué"
    return "superseded", "Certificat remplacé"


def public_content(certificate):
    """Everything the certificate certifies, as the public may read it (never
    the holder's birth date or place): the page and its JSON version say the
    same, from the mentions frozen at issue. Keys in English for machines."""
    m = certificate.mentions
    status, status_label = public_status(certificate)
    replacement = certificate.superseded_by
    bloc = m.get("bloc") or None
    return {
        "found": True,
        "number": certificate.number,
        "verification_code": certificate.verification_code,
        "kind": certificate.kind,
        "kind_label": certificate.get_kind_display(),
        "status": status,
        "status_label": status_label,
        "revoked_on": (
            timezone.localdate(certificate.revoked_at).isoformat()
            if status == "revoked" and certificate.revoked_at
            else None
        ),
        "superseded_by": (
            {"number": replacement.number, "url": replacement.public_url}
            if status == "superseded" and replacement
            else None
        ),
        "holder": {
            "first_names": m.get("holder_first_names", ""),
            "birth_name": m.get("holder_birth_name", ""),
            "usage_name": m.get("holder_usage_name", ""),
        },
        "certification": {
            "title": m.get("title", ""),
            "certifier": m.get("certifier", ""),
            "rncp_code": m.get("rncp_code", ""),
            "registration_decision_date": m.get("registration_decision_date") or None,
            "national_level": m.get("national_level", ""),
            "european_level": m.get("european_level", ""),
            "nsf_codes": [code for code in re.split(r"[,;\s]+", m.get("nsf_codes", "")) if code],
        },
        "bloc": (
            {
                "official_code": bloc.get("official_code") or "",
                "number": bloc.get("number"),
                "title": bloc.get("title", ""),
                "optional": bool(bloc.get("optional")),
                "competences": [
                    {"code": c.get("code", ""), "statement": c.get("statement", "")}
                    for c in bloc.get("competences", [])
                ],
            }
            if bloc
            else None
        ),
        "blocs": [
            {
                "official_code": b.get("official_code") or "",
                "number": b.get("number"),
                "title": b.get("title", ""),
                "optional": bool(b.get("optional")),
            }
            for b in m.get("blocs", [])
        ],
        "decision": {
            "jury_name": m.get("jury_name", ""),
            "minutes_number": m.get("minutes_number"),
            # Older certificates froze the day planned for the jury instead.
            "decided_on": m.get("minutes_signed_on") or m.get("jury_date") or None,
        },
        "issue": {"date": m.get("issue_date") or None, "place": m.get("issue_place", "")},
        "signatory": {"name": m.get("signatory_name", ""), "title": m.get("signatory_title", "")},
        "file_check_available": bool(certificate.pdf_sha256),
        "pdf_sha256": certificate.pdf_sha256 or None,
    }


def file_outcome(certificate, data):
    """Is `data` exactly the issued file (its SHA-256), and is its seal intact?"""
    digest = sha256(data)
    if not certificate.pdf_sha256:
        matches, label = (
            None,
            (
                "Comparaison avec le document délivré indisponible : ce certificat a été "
                "délivré avant le scellement des PDF, son empreinte n'a pas été conservée."
            ),
        )
    elif digest == certificate.pdf_sha256:
        matches, label = True, "Ce fichier est exactement le document délivré."
    else:
        matches, label = (
            False,
            (
                "Ce fichier n'est pas le document délivré : son contenu diffère, "
                "ne serait-ce que d'un octet."
            ),
        )
    return {
        "sha256": digest,
        "size": len(data),
        "matches_issued": matches,
        "match_label": label,
        "signature": check_pdf(data).as_json(),
    }


def verify_form(request):
    form = VerificationForm(request.GET or None)
    if form.is_valid():
        return redirect("certification:verify", code=form.cleaned_data["code"])
    return render(request, "certification/verify_form.html", {"form": form})


def _verify_page(request, certificate, *, form=None, outcome=None, status=200):
    return render(
        request,
        "certification/verify.html",
        {
            "certificate": certificate,
            "content": public_content(certificate),
            "form": form or PdfCheckForm(),
            "outcome": outcome,
        },
        status=status,
    )


def verify(request, code):
    """Public: what the certificate certifies, in full, and its status; a form
    to check a PDF against it. No birth date is shown."""
    certificate = public_certificate(code)
    if certificate is None:
        return unknown_code(request)
    if request.GET.get("format") == "json":
        return JsonResponse(public_content(certificate), json_dumps_params={"ensure_ascii": False})
    return _verify_page(request, certificate)


@require_GET
def verify_json(request, code):
    """The verification page for machines."""
    certificate = public_certificate(code)
    if certificate is None:
        return unknown_code(request, as_json=True)
    return JsonResponse(public_content(certificate), json_dumps_params={"ensure_ascii": False})


def _check_upload(request, code, *, as_json):
    certificate = public_certificate(code)
    if certificate is None:
        return unknown_code(request, as_json=as_json)
    # The body's size is bounded before Django reads it: nginx's
    # client_max_body_size (deploy/nginx.conf.example), then the form's 10 Mo.
    form = PdfCheckForm(request.POST, request.FILES)
    status = 200 if form.is_valid() else 400
    outcome = file_outcome(certificate, form.data_bytes()) if status == 200 else None
    if as_json:
        if outcome is None:
            errors = {field: list(messages) for field, messages in form.errors.items()}
            return JsonResponse({"errors": errors}, status=status)
        return JsonResponse(
            {"certificate": public_content(certificate), "file": outcome},
            json_dumps_params={"ensure_ascii": False},
        )
    return _verify_page(request, certificate, form=form, outcome=outcome, status=status)


def wants_json(request):
    return "application/json" in request.headers.get("Accept", "")


@require_POST
def verify_file(request, code):
    """Public: a PDF dropped on the verification page (a form with its CSRF
    token); answered in JSON when asked with Accept: application/json."""
    return _check_upload(request, code, as_json=wants_json(request))


@csrf_exempt
@require_POST
def verify_file_json(request, code):
    """The same check for machines, which hold no CSRF token: it reads no
    session and changes nothing, so a forged cross-site request gains nothing."""
    return _check_upload(request, code, as_json=True)


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
    search = CertificateSearchForm(request.GET)
    page, filters = paginate(request, search.filter(register()))
    for certificate in page:
        certificate.cpf_label = cpf_label(certificate)
    return render(
        request,
        "certification/certificate_list.html",
        {
            "withdrawn": withdrawn_certificates().select_related("candidate"),
            "due": [entry for entry in due if entry[1] or entry[2]],
            "print_form": PrintForm() if deliberations else None,
            "search": search,
            "page": page,
            "filters": filters,
            "jobs": PrintJob.objects.select_related(
                "deliberation__jury", "deliberation__cohort"
            ).defer("deliberation__signed_table")[:10],
        },
    )


@role_required(ADMIN)
def register_export(request, fmt):
    """The register, with the list's filters, as a spreadsheet."""
    certificates = CertificateSearchForm(request.GET).filter(register())
    return export(
        fmt, title="Registre des certificats", header=HEADER, rows=register_rows(certificates)
    )


@require_POST
@role_required(ADMIN)
def certificate_issue(request):
    """Issue from the office's list; a decision taken after the registration's
    end asks for the legal basis (the same form again, with its field)."""
    form = IssueWithLegalBasisForm(request.POST)
    if not form.is_valid():
        if form.has_error("decision") or form.has_error("enrolment") or form.non_field_errors():
            raise Http404("Décision ou inscription introuvable.")
        return legal_basis_page(request, form, back="certification:certificates")
    try:
        if decision := form.cleaned_data["decision"]:
            certificate = issue_bloc_certificate(decision, by=request.user, legal_basis=form.text())
        else:
            certificate = issue_title_certificate(
                form.cleaned_data["enrolment"], by=request.user, legal_basis=form.text()
            )
    except AfterRegistration as error:
        add_errors(form, error)
        return legal_basis_page(request, form, back="certification:certificates")
    except ValidationError as error:
        report_refusal(request, error)
        return redirect("certification:certificates")
    messages.success(request, f"Certificat n° {certificate.number} délivré.")
    return redirect(certificate)


def legal_basis_page(request, *forms, back):
    return form_page(
        request,
        *forms,
        title="Délivrance après la fin de l'enregistrement au RNCP",
        intro="Un certificat ne se délivre pour une décision du jury postérieure à la fin de "
        "l'enregistrement que sur un fondement juridique, que vous consignez ici.",
        submit="Délivrer avec ce fondement juridique",
        back=back,
    )


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
    basis = LegalBasisForm(request.POST)
    try:
        new = issue_again(
            certificate,
            reason=issue_again_form(request.POST).text(),
            by=request.user,
            legal_basis=basis.text(),
        )
    except AfterRegistration as error:
        add_errors(basis, error)
        return legal_basis_page(request, issue_again_form(request.POST), basis, back=certificate)
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
