"""The office's pages for trainers and jury members: list, account, create,
edit, invite. The services live in `people.py`."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import transaction
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from .collation import French
from .history import describe_events
from .models import AuditEvent
from .pagination import paginate
from .people import (
    account_state,
    create_person,
    display_name,
    send_invitation,
    staff_people,
    update_person,
)
from .people_forms import NewPersonForm, PersonForm
from .roles import ADMIN, role_required
from .views import add_errors, form_page, report_refusal


def get_person_for_office(pk):
    """A trainer or jury member; anyone else answers 404 like a missing account."""
    return get_object_or_404(staff_people(), pk=pk)


@role_required(ADMIN)
def people_list(request):
    people = staff_people().order_by(French("last_name"), French("first_name"), "pk")
    page, filters = paginate(request, people)
    for person in page:
        person.account_state = account_state(person)
    return render(request, "core/people_list.html", {"page": page, "filters": filters})


@role_required(ADMIN)
def person_detail(request, pk):
    person = get_person_for_office(pk)
    history = AuditEvent.objects.for_object(person).select_related("actor")[:50]
    return render(
        request,
        "core/person_detail.html",
        {
            "person": person,
            "account_state": account_state(person),
            "history": describe_events(history),
        },
    )


@role_required(ADMIN)
def person_create(request):
    form = NewPersonForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                person = create_person(**form.values(), by=request.user)
                if form.cleaned_data["invite"]:
                    send_invitation(
                        person, base_url=request.build_absolute_uri("/"), by=request.user
                    )
        except ValidationError as error:
            add_errors(form, error)
        else:
            invited = (
                f" ; invitation envoyée à {person.email}" if form.cleaned_data["invite"] else ""
            )
            messages.success(request, f"Compte de {person.get_full_name()} créé{invited}.")
            return redirect("core:person", pk=person.pk)
    return form_page(
        request,
        form,
        title="Nouveau formateur ou membre de jury",
        submit="Créer le compte",
        back="core:people",
    )


@role_required(ADMIN)
def person_edit(request, pk):
    person = get_person_for_office(pk)
    initial = {
        "first_name": person.first_name,
        "last_name": person.last_name,
        "email": person.email,
        "roles": [group.name for group in person.staff_groups],
        "organisation": person.organisation,
        "phone": person.phone,
    }
    form = PersonForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            person = update_person(person, **form.values(), by=request.user)
        except ValidationError as error:
            add_errors(form, error)
        else:
            messages.success(request, f"Compte de {person.get_full_name()} enregistré.")
            return redirect("core:person", pk=person.pk)
    return form_page(
        request,
        form,
        title=f"Modifier le compte de {display_name(person)}",
        submit="Enregistrer",
        back=reverse("core:person", args=[person.pk]),
    )


@require_POST
@role_required(ADMIN)
def person_invite(request, pk):
    person = get_person_for_office(pk)
    try:
        send_invitation(person, base_url=request.build_absolute_uri("/"), by=request.user)
    except ValidationError as error:
        report_refusal(request, error)
    else:
        messages.success(
            request, f"Invitation envoyée à {person.email} (identifiant {person.username})."
        )
    if request.POST.get("back") == "list":
        return redirect("core:people")
    return redirect("core:person", pk=person.pk)
