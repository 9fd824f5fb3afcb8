"""The office's documents of an exam session: convocations (merged, or one
candidate's) and the attendance sheet; thin views over documents.py."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect

from core.roles import ADMIN, role_required
from core.views import report_refusal

from .. import documents
from ..models import Assessment
from .sessions import ASSESSORS, sessions_visible_to


def pdf_response(data, filename):
    response = HttpResponse(data, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def get_document_session(user, pk):
    """A session whose documents the user may print (404 alike for missing
    and not theirs), read with everything its documents print."""
    session = get_object_or_404(sessions_visible_to(user).values_list("pk", flat=True), pk=pk)
    return documents.document_session(session)


@role_required(ADMIN)
def session_convocations(request, pk):
    """Every candidate's convocation in one PDF to print: rendered by a
    background task, kept until the session or its candidates change."""
    session = get_document_session(request.user, pk)
    try:
        merged = documents.merged_convocations(session)
    except ValidationError as error:
        report_refusal(request, error)
        return redirect(session)
    if not merged.stored:
        # Rendered at once by the inline task backend (development); by a
        # worker in production, the office downloads it a moment later.
        documents.generate_convocations.enqueue(session.pk)
    if not merged.stored:
        messages.info(
            request,
            f"Les {merged.count} convocations sont en cours de production : "
            "réessayez dans un instant.",
        )
        return redirect(session)
    return FileResponse(
        default_storage.open(merged.name, "rb"),
        as_attachment=True,
        content_type="application/pdf",
        filename=f"convocations-{session.modality.code}-{session.date:%Y-%m-%d}.pdf",
    )


@role_required(ADMIN)
def assessment_convocation(request, pk):
    """One candidate's convocation (one page, rendered on request)."""
    assessment = get_object_or_404(Assessment.objects.only("pk", "session"), pk=pk)
    session = get_document_session(request.user, assessment.session_id)
    assessments = documents.session_assessments(session, only=assessment.pk)
    if not assessments:
        raise Http404("Ce candidat s'est retiré de la certification.")
    assessment = assessments[0]
    try:
        data = documents.render_convocation(assessment)
    except ValidationError as error:
        report_refusal(request, error)
        return redirect(session)
    candidate = assessment.enrolment.candidate
    return pdf_response(
        data, f"convocation-{session.modality.code}-{session.date:%Y-%m-%d}-{candidate.pk}.pdf"
    )


@role_required(ADMIN, *ASSESSORS)
def session_attendance(request, pk):
    """The attendance sheet: for the office and the session's assessors, who
    have it signed on the day."""
    session = get_document_session(request.user, pk)
    try:
        data = documents.render_attendance_sheet(session)
    except ValidationError as error:
        report_refusal(request, error)
        return redirect(session)
    return pdf_response(data, f"emargement-{session.modality.code}-{session.date:%Y-%m-%d}.pdf")
