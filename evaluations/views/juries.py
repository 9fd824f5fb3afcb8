"""Pages of juries: composition, members, independence declarations."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from core import roles
from core.roles import ADMIN, JURY_MEMBER, role_required
from core.views import form_page, report_refusal

from .. import juries
from ..forms import JuryForm, MemberForm, OpenDeliberationForm
from ..models import Jury, JuryMember


def juries_visible_to(user):
    juries = Jury.objects.all()
    return juries if roles.is_admin(user) else juries.filter(members__user=user).distinct()


def get_jury_for_user(user, pk):
    return get_object_or_404(juries_visible_to(user), pk=pk)


@role_required(ADMIN, JURY_MEMBER)
def jury_list(request):
    juries = juries_visible_to(request.user).select_related("certification_version")
    return render(request, "evaluations/jury_list.html", {"juries": juries})


@role_required(ADMIN)
def jury_create(request):
    form = JuryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            jury = juries.create_jury(**form.cleaned_data, by=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            return redirect(jury)
    return form_page(
        request,
        form,
        title="Nouveau jury",
        submit="Créer le jury",
        back="evaluations:juries",
    )


@role_required(ADMIN, JURY_MEMBER)
def jury_detail(request, pk):
    jury = get_jury_for_user(request.user, pk)
    members = list(jury.members.select_related("user").order_by(*JuryMember.SEATING_ORDER))
    is_admin = roles.is_admin(request.user)
    return render(
        request,
        "evaluations/jury_detail.html",
        {
            "jury": jury,
            "members": members,
            "problems": juries.composition_problems(members),
            "my_seat": next((m for m in members if m.user_id == request.user.pk), None),
            "deliberations": jury.deliberations.select_related("cohort"),
            "is_admin": is_admin,
            "member_form": MemberForm() if is_admin else None,
            "open_form": OpenDeliberationForm(jury=jury) if is_admin else None,
        },
    )


@require_POST
@role_required(ADMIN)
def jury_add_member(request, pk):
    jury = get_jury_for_user(request.user, pk)
    form = MemberForm(request.POST)
    if form.is_valid():
        try:
            juries.add_member(jury, **form.cleaned_data, by=request.user)
        except ValidationError as error:
            report_refusal(request, error)
    else:
        messages.error(request, "Choisissez la personne et son rôle.")
    return redirect(jury)


@require_POST
@role_required(JURY_MEMBER)
def jury_declare(request, pk):
    jury = get_jury_for_user(request.user, pk)
    seat = get_object_or_404(JuryMember, jury=jury, user=request.user)
    try:
        juries.declare_independence(seat, user=request.user)
    except ValidationError as error:
        report_refusal(request, error)
    else:
        messages.success(request, "Votre déclaration d'indépendance est enregistrée.")
    return redirect(jury)
