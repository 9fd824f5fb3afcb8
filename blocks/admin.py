"""Django admin for the referential: drafts are edited here, frozen versions only read."""

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from .models import (
    Activity,
    Bloc,
    CertificationVersion,
    Competence,
    Criterion,
    EvaluationModality,
    GradingLevel,
)
from .services import (
    EDITABLE_MENTIONS,
    activate_version,
    archive_version,
    duplicate_version,
    mention_changes,
    mention_problems,
    record_mention_changes,
)

# What stays editable on a frozen version: the mentions printed on
# certificates, which the certifier may only learn after registration.
VERSION_MENTIONS = (*EDITABLE_MENTIONS, "note")


class FrozenAwareMixin:
    """Read-only admin for everything that belongs to a frozen version."""

    def version_of(self, obj):
        return obj.owning_version() if obj is not None else None

    def is_frozen(self, obj):
        version = self.version_of(obj)
        return version is not None and version.is_frozen

    def has_change_permission(self, request, obj=None):
        return not self.is_frozen(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not self.is_frozen(obj) and super().has_delete_permission(request, obj)


class FrozenAwareInline(FrozenAwareMixin):
    """An inline's add permission receives the parent object (`None` on the
    parent's add page), unlike a ModelAdmin's, which receives none: the
    ModelAdmins keep Django's `has_add_permission(request)`."""

    def has_add_permission(self, request, obj=None):
        return not self.is_frozen(obj) and super().has_add_permission(request, obj)


class InlineOfVersion(FrozenAwareInline):
    def version_of(self, obj):
        return obj


class InlineOfStructure(FrozenAwareInline):
    pass


class GradingLevelInline(InlineOfVersion, admin.TabularInline):
    model = GradingLevel
    extra = 0


class BlocInline(InlineOfVersion, admin.TabularInline):
    model = Bloc
    fields = ("number", "title", "optional", "validity_years")
    show_change_link = True
    extra = 0


class VersionAdminForm(forms.ModelForm):
    """The same rules on the mentions as the office's mentions page (the
    admin gives the model and the fields)."""

    def clean(self):
        cleaned = super().clean()
        planned = CertificationVersion(
            **{
                field: cleaned.get(field, getattr(self.instance, field))
                for field in ("registration_decision_date", "registration_end_date", "rncp_code")
            },
            **{field: cleaned.get(field) or "" for field in ("cdc_issuer_id", "cdc_certifier_id")},
        )
        problems = mention_problems(planned, [])
        if problems:
            raise ValidationError(problems)
        return cleaned


@admin.register(CertificationVersion)
class CertificationVersionAdmin(admin.ModelAdmin):
    form = VersionAdminForm
    list_display = ("title", "version", "status", "rncp_code", "created_at")
    list_filter = ("status",)
    inlines = [GradingLevelInline, BlocInline]
    actions = ["duplicate", "activate", "archive"]

    def get_readonly_fields(self, request, obj=None):
        if obj is not None and obj.is_frozen:
            return [
                f.name
                for f in self.model._meta.fields
                if f.name not in VERSION_MENTIONS and f.editable
            ] + ["created_at"]
        return ["status", "duplicated_from", "created_at"]

    def has_delete_permission(self, request, obj=None):
        return (obj is None or not obj.is_frozen) and super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        """The mentions printed on certificates, changed here, are audited
        with their old and new values, as on the office's mentions page
        (blocks.services.update_mentions): they may change after activation."""
        before = type(obj).objects.get(pk=obj.pk) if change else None
        super().save_model(request, obj, form, change)
        if before is not None:
            record_mention_changes(obj, mention_changes(before, obj), by=request.user)

    @admin.action(description="Dupliquer en nouvelle version brouillon")
    def duplicate(self, request, queryset):
        for version in queryset:
            label = f"{version.version} (copie)"
            suffix = 2
            while CertificationVersion.objects.filter(title=version.title, version=label).exists():
                label = f"{version.version} (copie {suffix})"
                suffix += 1
            try:
                copy = duplicate_version(version, new_label=label, by=request.user)
            except ValidationError as error:
                for message in error.messages:
                    self.message_user(request, f"{version} : {message}", messages.ERROR)
                continue
            self.message_user(
                request,
                f"Version brouillon « {copy.version} » créée.",
                messages.SUCCESS,
            )

    @admin.action(description="Activer (fige la structure)")
    def activate(self, request, queryset):
        self._run(request, queryset, activate_version, "activée")

    @admin.action(description="Archiver")
    def archive(self, request, queryset):
        self._run(request, queryset, archive_version, "archivée")

    def _run(self, request, queryset, service, done):
        for version in queryset:
            try:
                service(version, by=request.user)
            except ValidationError as error:
                for message in error.messages:
                    self.message_user(request, f"{version} : {message}", messages.ERROR)
            else:
                self.message_user(request, f"{version} : version {done}.", messages.SUCCESS)


class ActivityInline(InlineOfStructure, admin.StackedInline):
    model = Activity
    fields = ("code", "order", "title", "tasks", "note")
    extra = 0

    def version_of(self, obj):
        return obj.certification_version if obj is not None else None


class CompetenceInline(InlineOfStructure, admin.TabularInline):
    model = Competence
    fields = ("code", "order", "activity", "statement", "note")
    show_change_link = True
    extra = 0

    def version_of(self, obj):
        return obj.certification_version if obj is not None else None

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "activity" and getattr(request, "_admin_bloc", None) is not None:
            kwargs["queryset"] = Activity.objects.filter(bloc=request._admin_bloc)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class ModalityForm(forms.ModelForm):
    class Meta:
        model = EvaluationModality
        fields = [
            "code",
            "order",
            "kind",
            "title",
            "instructions",
            "competences",
            "group_work",
            "assessed_by",
            "note",
        ]

    def clean(self):
        cleaned = super().clean()
        bloc_id = self.instance.bloc_id or getattr(cleaned.get("bloc"), "pk", None)
        outsiders = [c.code for c in cleaned.get("competences", []) if c.bloc_id != bloc_id]
        if outsiders:
            raise ValidationError(
                "Une modalité n'évalue que des compétences de son bloc : "
                + ", ".join(outsiders)
                + " n'en font pas partie."
            )
        return cleaned


class ModalityInline(InlineOfStructure, admin.StackedInline):
    model = EvaluationModality
    form = ModalityForm
    filter_horizontal = ("competences",)
    extra = 0

    def version_of(self, obj):
        return obj.certification_version if obj is not None else None

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        if db_field.name == "competences" and getattr(request, "_admin_bloc", None) is not None:
            kwargs["queryset"] = Competence.objects.filter(bloc=request._admin_bloc)
        return super().formfield_for_manytomany(db_field, request, **kwargs)


@admin.register(Bloc)
class BlocAdmin(FrozenAwareMixin, admin.ModelAdmin):
    list_display = ("__str__", "certification_version", "optional")
    list_filter = ("certification_version",)
    inlines = [ActivityInline, CompetenceInline, ModalityInline]

    def get_form(self, request, obj=None, **kwargs):
        # The inlines offer only this bloc's activities and competences.
        request._admin_bloc = obj
        return super().get_form(request, obj, **kwargs)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "certification_version":
            kwargs["queryset"] = CertificationVersion.objects.editable()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)


class CriterionInline(InlineOfStructure, admin.TabularInline):
    model = Criterion
    fields = ("order", "label", "note")
    extra = 0

    def version_of(self, obj):
        return obj.certification_version if obj is not None else None


@admin.register(Competence)
class CompetenceAdmin(FrozenAwareMixin, admin.ModelAdmin):
    list_display = ("code", "statement", "bloc")
    list_filter = ("certification_version",)
    search_fields = ("code", "statement")
    inlines = [CriterionInline]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("bloc__certification_version")

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        # A new competence goes only into a draft version.
        editable = CertificationVersion.objects.editable()
        if db_field.name == "certification_version":
            kwargs["queryset"] = editable
        elif db_field.name == "bloc":
            kwargs["queryset"] = Bloc.objects.filter(certification_version__in=editable)
        elif db_field.name == "activity":
            kwargs["queryset"] = Activity.objects.filter(certification_version__in=editable)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)
