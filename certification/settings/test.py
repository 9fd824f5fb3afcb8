"""The test suite: the base settings with what makes tests fast and isolated."""

from .base import *  # noqa: F403

DEBUG = False
# Django's testing guide: the production hasher costs about 0.2 s a user,
# which the suite would pay hundreds of times; tests need no strong hash.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
# Static files found where they live, without collectstatic (WhiteNoise).
WHITENOISE_USE_FINDERS = True
WHITENOISE_AUTOREFRESH = True
# The suite logs in with Client.login/force_login, which pass no request to
# django-axes; the throttling tests turn it on with override_settings.
AXES_ENABLED = False
# The public rate limit is tested on its own (core/tests/test_ratelimit.py);
# elsewhere the suite would hit it from its one address.
VERIFY_RATE_LIMIT = 0
# The demonstration seal, whatever the developer's environment says.
PDF_SIGNING_PKCS12 = ""
# Print jobs render in the task's process; test_parallel_printing.py turns the
# pool of worker processes on.
PRINT_WORKERS = 1
# A session's expiry pushed back once a day: a slow test between two
# measured requests never adds a session write to one of them.
SESSION_REFRESH_INTERVAL = 24 * 60 * 60
