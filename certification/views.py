from django.contrib.auth.decorators import login_required
from django.shortcuts import redirect, render

from candidates import roles


@login_required
def home(request):
    """Each role lands on its own home page after sign-in."""
    user_roles = roles.roles_of(request.user)
    if roles.ADMIN in user_roles or roles.TRAINER in user_roles:
        return redirect("candidates:cohorts")
    if roles.CANDIDATE in user_roles:
        return redirect("candidates:my_space")
    if roles.JURY_MEMBER in user_roles:
        return redirect("evaluations:juries")
    return render(request, "certification/no_role.html")
