from core import roles


def user_roles(request):
    """One flag per role, for the navigation and the pages' buttons: templates
    never spell a group's name."""
    held = roles.roles_of(request.user)
    return {
        "is_office": roles.ADMIN in held,
        "is_trainer": roles.TRAINER in held,
        "is_jury_member": roles.JURY_MEMBER in held,
        "is_candidate": roles.CANDIDATE in held,
        "is_staff_role": bool(held & {roles.ADMIN, roles.TRAINER, roles.JURY_MEMBER}),
    }
