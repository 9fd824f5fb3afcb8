"""Read-only bases for the Django admin, the audit log in it, and the user
admin that audits every change of an account."""

from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.admin import UserAdmin

from .audit import record_event
from .models import Action, AuditEvent
from .people import display_name


class ReadOnlyAdmin(admin.ModelAdmin):
    """Regulated records change only through the platform's pages, whose
    services lock, check and audit; the admin shows them and nothing more."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor", "action", "object_repr")
    list_filter = ("action",)
    search_fields = ("object_repr", "action")


# Accounts: the admin that edits them audits every change, with old and new
# values, in the same transaction as the change (the admin's views are atomic).

ACCOUNT_FIELDS = {
    "username": "identifiant",
    "first_name": "prénom",
    "last_name": "nom",
    "email": "courriel",
}
SUPERUSER = "superutilisateur"
STAFF = "accès à l'administration"


def account_roles(user):
    """What the account may do: its groups, and the admin flags in words."""
    roles = sorted(user.groups.values_list("name", flat=True)) if user.pk else []
    return roles + [SUPERUSER] * user.is_superuser + [STAFF] * user.is_staff


def account_state(user):
    return {
        **{field: getattr(user, field) for field in ACCOUNT_FIELDS},
        "active": user.is_active,
        "roles": account_roles(user),
    }


def account_data(user, roles):
    return {
        "name": display_name(user),
        "username": user.username,
        "email": user.email,
        "roles": roles,
    }


class AuditedUserAdmin(UserAdmin):
    """Django's user admin, each creation, change and deletion of an account
    written to the audit log by the signed-in administrator."""

    def save_model(self, request, obj, form, change):
        if change:
            before = type(obj).objects.get(pk=obj.pk)
            obj._account_before = account_state(before)
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        user = form.instance
        after = account_state(user)
        if not change:
            record_event(
                actor=request.user,
                action=Action.PERSON_CREATED,
                target=user,
                data={**account_data(user, after["roles"]), "active": user.is_active},
            )
            return
        before = user._account_before
        changes = [
            {"field": label, "old": before[field], "new": after[field]}
            for field, label in ACCOUNT_FIELDS.items()
            if before[field] != after[field]
        ]
        if changes:
            record_event(
                actor=request.user,
                action=Action.PERSON_CHANGED,
                target=user,
                data={"changes": changes},
            )
        if before["active"] != after["active"]:
            activation = (
                Action.ACCOUNT_REACTIVATED if after["active"] else Action.ACCOUNT_DEACTIVATED
            )
            record_event(
                actor=request.user,
                action=activation,
                target=user,
                data={"name": display_name(user), "active": [before["active"], after["active"]]},
            )
        if before["roles"] != after["roles"]:
            record_event(
                actor=request.user,
                action=Action.ACCOUNT_ROLES_CHANGED,
                target=user,
                data={"name": display_name(user), "old": before["roles"], "new": after["roles"]},
            )

    def delete_model(self, request, obj):
        self.record_deletions(request, [obj])
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        self.record_deletions(request, queryset)
        super().delete_queryset(request, queryset)

    def record_deletions(self, request, users):
        for user in users:
            record_event(
                actor=request.user,
                action=Action.ACCOUNT_DELETED,
                target=user,
                data={**account_data(user, account_roles(user)), "active": user.is_active},
            )


User = get_user_model()
if admin.site.is_registered(User):
    admin.site.unregister(User)
admin.site.register(User, AuditedUserAdmin)
