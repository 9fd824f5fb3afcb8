"""Sessions that end after a time without activity, written at most once a minute.

A signed-in session expires DJANGO_SESSION_AGE seconds after its last
activity: a trainer who leaves a shared computer is logged out. Saving the
session on every request would push that expiry back exactly, at the price of
a database write on every autosave of a grid; pushing it back once a minute
is as safe (the expiry is at most a minute earlier) for one write in many.

A staff member's session (any role but candidate) also ends
DJANGO_SESSION_MAX_LIFETIME seconds after signing in, however active: a
session stolen or left open on a shared computer does not last for ever.
"""

import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout

from . import roles

REFRESHED_AT = "_refreshed_at"
# Set at sign-in for staff only: candidates keep the idle timeout alone.
STAFF_SIGNED_IN_AT = "_staff_signed_in_at"
LIFETIME_ENDED = "Votre session a atteint sa durée maximale : reconnectez-vous pour continuer."


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


class MaxLifetimeMiddleware:
    """After MessageMiddleware: signs out a staff member whose session began
    more than SESSION_MAX_LIFETIME seconds ago, whatever their activity; the
    view then sends them to the login page, which says why. Read from the
    session alone: no query."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        signed_in_at = request.session.get(STAFF_SIGNED_IN_AT)
        if signed_in_at is not None and (
            int(time.time()) - signed_in_at >= settings.SESSION_MAX_LIFETIME
        ):
            logout(request)
            messages.info(request, LIFETIME_ENDED)
        return self.get_response(request)


def stamp_new_session(sender, request, user, **kwargs):
    """Signing in saves the session anyway: its expiry starts from there, and
    a staff member's maximum lifetime too."""
    now = int(time.time())
    request.session[REFRESHED_AT] = now
    if user.is_staff or roles.has_role(user, roles.ADMIN, roles.TRAINER, roles.JURY_MEMBER):
        request.session[STAFF_SIGNED_IN_AT] = now
