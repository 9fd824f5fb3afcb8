"""A developer's machine: debug pages on unless DJANGO_DEBUG=0."""

from .base import *  # noqa: F403
from .base import env_flag

DEBUG = env_flag("DJANGO_DEBUG", default=True)
