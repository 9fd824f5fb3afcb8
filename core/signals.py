"""Receivers of Django's signals that write to the audit log.

Connected in `CoreConfig.ready()`. Only what has no view of ours to audit it
lives here: a refused login happens inside django.contrib.auth (and
django-axes), which tells of it with the `user_login_failed` signal; a lockout
inside django-axes, which sends `user_locked_out`.
"""

from django.contrib.auth import get_user_model

from .audit import record_event
from .models import Action
from .ratelimit import client_ip

USERNAME_LENGTH = 150


def account_named(username):
    """The account a typed username names, if any (case aside, as the login does)."""
    if not username:
        return None
    return get_user_model().objects.filter(username__iexact=username).order_by("pk").first()


def record_failed_login(sender, credentials, request=None, **kwargs):
    """A refused sign-in: the username typed and the client's address, never
    the password (Django passes it masked; it is not read at all here). The
    event is attached to the account when the username names one."""
    username = str(credentials.get(get_user_model().USERNAME_FIELD) or "")[:USERNAME_LENGTH]
    account = account_named(username)
    record_event(
        actor=None,
        action=Action.LOGIN_FAILED,
        target=account,
        data={
            "username": username,
            "ip": client_ip(request) if request is not None else "",
        },
    )


def record_lockout(sender, request=None, username=None, ip_address=None, **kwargs):
    """django-axes locked a username out from an address (and again for each
    attempt while it stays locked): the audit log keeps it beside the failures."""
    username = str(username or "")[:USERNAME_LENGTH]
    account = account_named(username)
    record_event(
        actor=None,
        action=Action.LOGIN_LOCKED_OUT,
        target=account,
        data={"username": username, "ip": str(ip_address or "")},
    )
