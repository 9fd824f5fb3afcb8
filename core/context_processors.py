from core.roles import roles_of


def user_roles(request):
    """The signed-in user's roles, for the navigation."""
    return {"user_roles": roles_of(request.user)}
