"""Helpers every app's views share."""

from django.contrib import messages
from django.shortcuts import render, resolve_url

CSRF_REFUSED = (
    "Le formulaire n'a pas pu être accepté : la page était ouverte depuis trop longtemps "
    "ou les cookies sont bloqués. Rechargez la page, autorisez les cookies de ce site "
    "et recommencez."
)


def csrf_failure(request, reason=""):
    """CSRF_FAILURE_VIEW: the project's 403 page, in French, with the navigation;
    Django's technical reason stays out of the page (it is logged by Django)."""
    return render(request, "403.html", {"exception": CSRF_REFUSED}, status=403)


def report_refusal(request, error):
    """Show each French message of a refused state change to the user."""
    for message in error.messages:
        messages.error(request, message)


def add_errors(form, error):
    """A refused service's French messages, above the form (a model's
    per-field errors included, whatever fields the form has)."""
    for message in error.messages:
        form.add_error(None, message)


def is_fetch(request):
    """Autosave posts with fetch() and wants JSON back; a plain form post wants a page."""
    return request.headers.get("X-Requested-With") == "fetch"


def form_page(request, *forms, title, submit, back, intro="", other_submits=(), status=200):
    """One page for every back-office form: a title, the forms (rendered from
    their classes by crispy-forms), submit and cancel; `other_submits`: more
    buttons as (name, label), for a second way to send the same form."""
    return render(
        request,
        "core/form_page.html",
        {
            "forms": forms,
            "title": title,
            "submit": submit,
            "other_submits": other_submits,
            "back": resolve_url(back),
            "intro": intro,
        },
        status=status,
    )
