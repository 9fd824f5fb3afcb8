"""Spreadsheet downloads (core.exports): a cohort's results, a deliberation's table."""

from django.shortcuts import get_object_or_404

from candidates.models import Cohort
from core.exports import export
from core.roles import ADMIN, JURY_MEMBER, TRAINER, role_required

from ..exports import cohort_results, deliberation_export
from .deliberations import get_deliberation_for_user


@role_required(ADMIN, TRAINER)
def cohort_results_export(request, pk, fmt):
    """The office, and the trainers of the cohort (without the unpublished orals)."""
    cohort = get_object_or_404(
        Cohort.objects.visible_to(request.user).select_related("certification_version"), pk=pk
    )
    header, rows = cohort_results(cohort, viewer=request.user)
    return export(fmt, title=f"Résultats {cohort.name}", header=header, rows=rows)


@role_required(ADMIN, JURY_MEMBER)
def deliberation_table_export(request, pk, fmt):
    """The office and the jury's members, as the deliberation's page."""
    deliberation = get_deliberation_for_user(request.user, pk)
    header, rows = deliberation_export(deliberation)
    return export(
        fmt,
        title=f"Délibération {deliberation.pk} {deliberation.cohort.name}",
        header=header,
        rows=rows,
    )
