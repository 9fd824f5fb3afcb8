"""Read-only views in the Django admin: candidates and enrolments change only
through the back-office pages, whose services audit every change."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin

from .models import Candidate, Cohort, Enrolment


@admin.register(Candidate)
class CandidateAdmin(ReadOnlyAdmin):
    list_display = ("birth_name", "usage_name", "first_names", "birth_date", "email")
    search_fields = ("birth_name", "usage_name", "first_names", "email")


@admin.register(Cohort)
class CohortAdmin(ReadOnlyAdmin):
    list_display = ("name", "certification_version", "start_date", "end_date")


@admin.register(Enrolment)
class EnrolmentAdmin(ReadOnlyAdmin):
    list_display = ("candidate", "cohort", "access_route", "status")
    list_filter = ("cohort", "status", "access_route")
    list_select_related = ("candidate", "cohort")
