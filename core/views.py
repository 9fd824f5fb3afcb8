"""Helpers every app's views share."""

from django.contrib import messages


def report_refusal(request, error):
    """Show each French message of a refused state change to the user."""
    for message in error.messages:
        messages.error(request, message)


def is_fetch(request):
    """Autosave posts with fetch() and wants JSON back; a plain form post wants a page."""
    return request.headers.get("X-Requested-With") == "fetch"
