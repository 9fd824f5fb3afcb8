"""Pages of juries: composition and its changes, members, independence
declarations, recusals."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_POST

from candidates.models import name_ordering
from core import roles
from core.forms import ReasonForm
from core.people import display_name
from core.roles import ADMIN, JURY_MEMBER, role_required
from core.views import form_page, report_refusal

from .. import juries
from ..forms import JuryForm, MemberForm, OpenDeliberationForm, RecusalForm, ReplaceMemberForm
from ..models import Deliberation, Jury, JuryMember, Recusal


def juries_visible_to(user):
    juries = Jury.objects.all()
    return juries if roles.is_admin(user) else juries.filter(members__user=user).distinct()


def get_jury_for_user(user, pk):
    return get_object_or_404(juries_visible_to(user), pk=pk)


def get_member_of_jury(user, pk, member_pk):
    jury = get_jury_for_user(user, pk)
    return get_object_or_404(
        JuryMember.objects.select_related("user", "jury"), pk=member_pk, jury=jury
    )


def composition_state(deliberations):
    """(frozen, deliberating) from the jury's deliberations already read: the
    composition is fixed once a PV is signed, and changes with a reason once a
    deliberation is open."""
    statuses = {deliberation.status for deliberation in deliberations}
    return Deliberation.Status.SIGNED in statuses, bool(statuses)


def recusal_form(jury, user, data=None):
    """The office picks any member; a member records their own recusal."""
    members = jury.members.select_related("user").order_by(*JuryMember.SEATING_ORDER)
    form = RecusalForm(data, members=members, enrolments=juries.recusal_enrolments(jury))
    if not roles.is_admin(user):
        form.fields["member"].queryset = members.filter(user=user)
        form.fields["member"].empty_label = None  # their own seat, already chosen
    return form


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


@role_required(ADMIN)
def jury_edit(request, pk):
    jury = get_jury_for_user(request.user, pk)
    locked = jury.sessions.exists() or jury.deliberations.exists()
    form = JuryForm(request.POST or None, jury=jury, version_locked=locked)
    if request.method == "POST" and form.is_valid():
        try:
            juries.edit_jury(jury, **form.cleaned_data, by=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "Jury modifié.")
            return redirect(jury)
    return form_page(
        request,
        form,
        title=f"Modifier le jury « {jury.name} »",
        submit="Enregistrer",
        back=jury.get_absolute_url(),
    )


@role_required(ADMIN, JURY_MEMBER)
def jury_detail(request, pk):
    jury = get_jury_for_user(request.user, pk)
    members = list(jury.members.select_related("user").order_by(*JuryMember.SEATING_ORDER))
    deliberations = list(jury.deliberations.select_related("cohort"))
    recusals = list(
        Recusal.objects.filter(member__jury=jury)
        .select_related("member__user", "enrolment__candidate", "enrolment__cohort", "recorded_by")
        .order_by(*name_ordering("enrolment__candidate__"), "pk")
    )
    frozen, deliberating = composition_state(deliberations)
    is_admin = roles.is_admin(request.user)
    my_seat = next((m for m in members if m.user_id == request.user.pk), None)
    compositions = juries.candidate_compositions(members, recusals)
    return render(
        request,
        "evaluations/jury_detail.html",
        {
            "jury": jury,
            "members": members,
            "problems": juries.composition_problems(members),
            "my_seat": my_seat,
            "deliberations": deliberations,
            "is_admin": is_admin,
            "frozen": frozen,
            "deliberating": deliberating,
            "recusals": [
                {"recusal": r, "problems": compositions[r.enrolment_id][1]} for r in recusals
            ],
            "member_form": (
                MemberForm(jury=jury, needs_reason=deliberating)
                if is_admin and not frozen
                else None
            ),
            "recusal_form": recusal_form(jury, request.user) if is_admin or my_seat else None,
            "open_form": OpenDeliberationForm(jury=jury) if is_admin else None,
        },
    )


@require_POST
@role_required(ADMIN)
def jury_add_member(request, pk):
    jury = get_jury_for_user(request.user, pk)
    form = MemberForm(request.POST, jury=jury, needs_reason=True)
    if form.is_valid():
        try:
            juries.add_member(jury, **form.cleaned_data, by=request.user)
        except ValidationError as error:
            report_refusal(request, error)
        else:
            messages.success(request, "Membre ajouté au jury.")
    else:
        messages.error(request, "Choisissez la personne et son rôle.")
    return redirect(jury)


@role_required(ADMIN)
def jury_replace_member(request, pk, member_pk):
    member = get_member_of_jury(request.user, pk, member_pk)
    jury = member.jury
    _, deliberating = composition_state(jury.deliberations.all())
    form = ReplaceMemberForm(request.POST or None, member=member, needs_reason=deliberating)
    if request.method == "POST" and form.is_valid():
        try:
            juries.replace_member(member, **form.cleaned_data, by=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(
                request,
                f"{display_name(member.user)} est remplacé(e) "
                f"par {display_name(form.cleaned_data['user'])}, qui déclare son indépendance "
                "avant de noter ou de délibérer.",
            )
            return redirect(jury)
    return form_page(
        request,
        form,
        title=f"Remplacer {display_name(member.user)} ({member.get_role_display()})",
        intro=f"Jury « {jury.name} ». La personne qui remplace prend le même rôle.",
        submit="Remplacer",
        back=jury.get_absolute_url(),
    )


@role_required(ADMIN)
def jury_remove_member(request, pk, member_pk):
    member = get_member_of_jury(request.user, pk, member_pk)
    jury = member.jury
    _, deliberating = composition_state(jury.deliberations.all())
    form = ReasonForm(request.POST or None, label="Motif du retrait")
    if deliberating:
        form.fields["reason"].help_text = "Obligatoire : le jury a déjà ouvert une délibération."
    if request.method == "POST":
        try:
            juries.remove_member(member, reason=form.text(), by=request.user)
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, f"{display_name(member.user)} ne siège plus dans ce jury.")
            return redirect(jury)
    return form_page(
        request,
        form,
        title=f"Retirer {display_name(member.user)} ({member.get_role_display()})",
        intro=f"Jury « {jury.name} ». La composition est vérifiée de nouveau après le retrait.",
        submit="Retirer du jury",
        back=jury.get_absolute_url(),
    )


@require_POST
@role_required(ADMIN, JURY_MEMBER)
def jury_recuse(request, pk):
    """The office, or a member for themself, records a recusal."""
    jury = get_jury_for_user(request.user, pk)  # a member sees only the juries they sit on
    form = recusal_form(jury, request.user, request.POST)
    if not form.is_valid():
        messages.error(
            request, "Choisissez le membre et le candidat, et indiquez le motif du déport."
        )
        return redirect(jury)
    try:
        recusal = juries.record_recusal(
            form.cleaned_data["member"],
            enrolment=form.cleaned_data["enrolment"],
            reason=form.cleaned_data["reason"],
            by=request.user,
        )
    except ValidationError as error:
        report_refusal(request, error)
    else:
        messages.success(
            request,
            f"Déport enregistré : {display_name(recusal.member.user)} ne note ni ne délibère "
            f"pour {recusal.enrolment.candidate.full_name}.",
        )
    return redirect(f"{jury.get_absolute_url()}#deports")


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
