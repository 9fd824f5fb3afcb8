"""A candidate reports an error in their civil status from « Ma fiche »; the
office answers and closes the report from the candidate's page. Both shown
by templates/candidates/_civil_status_reports.html."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.views.decorators.http import require_POST

from core.roles import ADMIN, CANDIDATE, role_required
from core.views import report_refusal

from .forms import CivilStatusAnswerForm, CivilStatusReportForm
from .models import Candidate, CivilStatusReport
from .services import close_civil_status_report, report_civil_status_error


def _form_refusal(request, form):
    for field, errors in form.errors.items():
        label = form.fields[field].label if field in form.fields else ""
        for error in errors:
            messages.error(request, f"{label} : {error}" if label else error)


@require_POST
@role_required(CANDIDATE)
def civil_status_report(request):
    """The signed-in candidate's own report: never anyone else's."""
    candidate = get_object_or_404(Candidate, user=request.user)
    form = CivilStatusReportForm(request.POST)
    if not form.is_valid():
        _form_refusal(request, form)
        return redirect("candidates:my_space")
    try:
        report_civil_status_error(candidate, message=form.cleaned_data["message"], by=request.user)
    except ValidationError as error:
        report_refusal(request, error)
    else:
        messages.success(
            request,
            "Votre signalement est transmis au bureau de la certification : sa réponse "
            "s'affichera sur cette page.",
        )
    return redirect("candidates:my_space")


@require_POST
@role_required(ADMIN)
def civil_status_report_close(request, pk):
    report = get_object_or_404(CivilStatusReport.objects.select_related("candidate"), pk=pk)
    form = CivilStatusAnswerForm(request.POST)
    if not form.is_valid():
        _form_refusal(request, form)
        return redirect(report.candidate)
    try:
        close_civil_status_report(report, answer=form.cleaned_data["answer"], by=request.user)
    except ValidationError as error:
        report_refusal(request, error)
    else:
        messages.success(request, f"Signalement de {report.candidate} traité.")
    return redirect(report.candidate)
