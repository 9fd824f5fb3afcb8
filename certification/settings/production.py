"""A production server (gunicorn through wsgi.py): debug pages always off."""

from .base import *  # noqa: F403

DEBUG = False
