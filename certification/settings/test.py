"""The test suite: the base settings with what makes tests fast and isolated."""

from .base import *  # noqa: F403

DEBUG = False
# Django's testing guide: the production hasher costs about 0.2 s a user,
# which the suite would pay hundreds of times; tests need no strong hash.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
