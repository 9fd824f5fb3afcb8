"""Receivers of Django's signals that write to the audit log.

Connected in `CoreConfig.ready()`. Only what has no view of ours to audit it
lives here: a refused login happens inside django.contrib.auth (and
django-axes), which tells of it with the `user_login_failed` signal.
"""

from django.contrib.auth import get_user_model

from .audit import record_event
from .models import Action
from .ratelimit import client_ip

USERNAME_LENGTH = 150


def record_failed_login(sender, credentials, request=None, **kwargs):
    """A refused sign-in: the username typed and the client's address, never
    the password (Django passes it masked; it is not read at all here). The
    event is attached to the account when the username names one."""
    username = str(credentials.get(get_user_model().USERNAME_FIELD) or "")[:USERNAME_LENGTH]
    account = (
        get_user_model().objects.filter(username__iexact=username).order_by("pk").first()
        if username
        else None
    )
    record_event(
        actor=None,
        action=Action.LOGIN_FAILED,
        target=account,
        data={
            "username": username,
            "ip": client_ip(request) if request is not None else "",
        },
    )
