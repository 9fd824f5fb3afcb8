"""A signed-in person's own account: changing one's password, audited."""

from django.db import transaction

from .audit import record_event
from .models import Action
from .people import display_name


def change_password(form, *, user):
    """Save the password chosen in Django's PasswordChangeForm (old password
    checked, validators passed) and audit it; the password itself is never
    written anywhere but in its hash."""
    with transaction.atomic():
        user = form.save()
        record_event(
            actor=user,
            action=Action.PASSWORD_CHANGED,
            target=user,
            data={"name": display_name(user)},
        )
    return user
