from core import roles


def user_roles(request):
    """One flag per role, for the navigation and the pages' buttons: templates
    never spell a group's name."""
    # A page answered before authentication (a refused request) has no user.
    user = getattr(request, "user", None)
    held = roles.roles_of(user) if user is not None else set()
    return {
        "is_office": roles.ADMIN in held,
        "is_trainer": roles.TRAINER in held,
        "is_jury_member": roles.JURY_MEMBER in held,
        "is_candidate": roles.CANDIDATE in held,
        "is_staff_role": bool(held & {roles.ADMIN, roles.TRAINER, roles.JURY_MEMBER}),
    }
