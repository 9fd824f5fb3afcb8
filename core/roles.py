"""The four roles of the platform, held as Django groups (created by a migration)."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied

ADMIN = "administrateur"
TRAINER = "formateur"
JURY_MEMBER = "membre de jury"
CANDIDATE = "candidat"
ROLES = [ADMIN, TRAINER, JURY_MEMBER, CANDIDATE]


def group(role):
    """The group of a role. A migration creates them; this also mends one
    deleted by hand in the admin."""
    return Group.objects.get_or_create(name=role)[0]


def roles_of(user):
    """The user's role names, read once per request."""
    if not user.is_authenticated:
        return set()
    if not hasattr(user, "_role_names"):
        user._role_names = set(user.groups.filter(name__in=ROLES).values_list("name", flat=True))
        if user.is_superuser:
            user._role_names.add(ADMIN)
    return user._role_names


def has_role(user, *roles):
    return bool(roles_of(user) & set(roles))


def is_admin(user):
    return has_role(user, ADMIN)


def role_required(*roles):
    """Signed-in users only; those without one of `roles` get 403."""

    def decorator(view):
        @login_required
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not has_role(request.user, *roles):
                raise PermissionDenied("Cette page est réservée à un autre rôle.")
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
