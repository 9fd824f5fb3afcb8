"""A developer's machine: debug pages on unless DJANGO_DEBUG=0."""

import os

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env_flag

DEBUG = env_flag("DJANGO_DEBUG", default=True)

# Debug pages off means a server others can reach: like production, it never
# runs on the development key published in the repository.
if not DEBUG and not os.environ.get("DJANGO_SECRET_KEY", "").strip():
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY manque : avec DJANGO_DEBUG=0, la plateforme refuse de démarrer "
        "sur la clé de développement publiée dans le dépôt. Générez une clé (python -c "
        "'from django.core.management.utils import get_random_secret_key; "
        "print(get_random_secret_key())') et passez-la dans DJANGO_SECRET_KEY, ou "
        "remettez DJANGO_DEBUG=1 sur un poste de développement."
    )
