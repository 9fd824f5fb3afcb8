"""Sessions that end after a time without activity, written at most once a minute.

A signed-in session expires DJANGO_SESSION_AGE seconds after its last
activity: a trainer who leaves a shared computer is logged out. Saving the
session on every request would push that expiry back exactly, at the price of
a database write on every autosave of a grid; pushing it back once a minute
is as safe (the expiry is at most a minute earlier) for one write in many.
"""

import time

from django.conf import settings

REFRESHED_AT = "_refreshed_at"


class IdleExpiryMiddleware:
    """After SessionMiddleware: marks a non-empty session modified when its
    expiry was last pushed back more than SESSION_REFRESH_INTERVAL seconds ago,
    so that SessionMiddleware saves it with a new expiry."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        session = getattr(request, "session", None)
        if session is None or session.is_empty() or not session.keys():
            return response  # an anonymous visitor: no session is created for them
        now = int(time.time())
        if now - session.get(REFRESHED_AT, 0) >= settings.SESSION_REFRESH_INTERVAL:
            session[REFRESHED_AT] = now
        return response


def stamp_new_session(sender, request, user, **kwargs):
    """Signing in saves the session anyway: its expiry starts from there."""
    request.session[REFRESHED_AT] = int(time.time())
