"""Refuse, before any view, a request carrying a NUL character.

PostgreSQL cannot store nor compare a text holding U+0000: a query built from
such a value fails deep inside the database driver (a 500), where SQLite just
finds nothing. No legitimate value of this platform holds one, so the request
is refused at the door: a path with a NUL names no page (404); a query string
or form field with one is a bad request (400). Both answers go through the
project's error pages, in French.

Forms stay the place where values are checked (Django's CharField refuses a
NUL too); this is the safety net for the raw values no form reads: the path
captured by a URL pattern, a search parameter, a button's value.
"""

from django.core.exceptions import BadRequest
from django.http import Http404

NUL = "\x00"
FORM_CONTENT_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}
NUL_REFUSED = "La requête contient un caractère nul : elle est refusée."


def holds_nul(querydict):
    return any(
        NUL in key or any(NUL in value for value in values) for key, values in querydict.lists()
    )


class RejectNulMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if NUL in request.path_info:
            raise Http404("Page introuvable.")
        if holds_nul(request.GET):
            raise BadRequest(NUL_REFUSED)
        if request.method == "POST" and self.form_holds_nul(request):
            raise BadRequest(NUL_REFUSED)
        return self.get_response(request)

    @staticmethod
    def form_holds_nul(request):
        if request.content_type not in FORM_CONTENT_TYPES:
            return False  # JSON or raw bodies are read by their own views
        # Uploaded files' names need no check: Django drops their non-printable characters.
        return holds_nul(request.POST)
