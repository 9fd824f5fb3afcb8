"""Read-only: sessions and scores change only through the platform's pages,
whose services lock, audit and refuse stale saves."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import Assessment, ExamSession, Grid


@admin.register(ExamSession)
class ExamSessionAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "status", "place")
    list_filter = ("status", "cohort")
    list_select_related = ("modality", "cohort")


@admin.register(Assessment)
class AssessmentAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "attempt", "present")
    list_select_related = ("enrolment__candidate", "session__modality", "session__cohort")


@admin.register(Grid)
class GridAdmin(ReadOnlyAdmin):
    list_display = ("__str__", "status", "revision", "updated_at")
    list_filter = ("status",)
