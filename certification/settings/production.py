"""A production server (gunicorn through wsgi.py): debug pages always off,
HTTPS enforced unless DJANGO_SECURE=0, every secret from the environment.

`DJANGO_SETTINGS_MODULE=certification.settings.production manage.py check
--deploy` reports nothing with the environment documented in the README
(section Configuration)."""

import os
from email.utils import getaddresses

from django.core.exceptions import ImproperlyConfigured
from whitenoise.compress import Compressor

from .base import *  # noqa: F403
from .base import BEHIND_PROXY, REFUSALS_ON_ONE_LINE, env_flag

DEBUG = False

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "").strip()
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY manque : la production refuse de démarrer sans clé secrète. "
        "Générez-en une (python -c 'from django.core.management.utils import "
        "get_random_secret_key; print(get_random_secret_key())') et passez-la dans "
        "la variable d'environnement DJANGO_SECRET_KEY."
    )

# The certifier's seal (core/signing.py): production never seals with the
# demonstration seal, so it refuses to start without its own PKCS#12 file.
PDF_SIGNING_PKCS12 = os.environ.get("PDF_SIGNING_PKCS12", "").strip()
if not PDF_SIGNING_PKCS12 or not os.path.isfile(PDF_SIGNING_PKCS12):
    raise ImproperlyConfigured(
        "PDF_SIGNING_PKCS12 manque ou ne désigne pas un fichier lisible : la production "
        "refuse de démarrer sans le cachet du certificateur. Indiquez le chemin du fichier "
        "PKCS#12 (.p12) du certificat de signature du certificateur, et sa phrase de passe "
        "dans PDF_SIGNING_PASSPHRASE (README, « Cachet des PDF »)."
    )

CSRF_TRUSTED_ORIGINS = [
    origin.strip()
    for origin in os.environ.get("DJANGO_CSRF_TRUSTED_ORIGINS", "").split(",")
    if origin.strip()
]

# Long work (printing certificates, rendering a signed PV) never runs inside a
# request: queued in the database and run by `manage.py db_worker`.
# DJANGO_TASKS_BACKEND still chooses another backend.
TASKS = {
    "default": {
        "BACKEND": os.environ.get("DJANGO_TASKS_BACKEND", "django_tasks_db.DatabaseBackend")
    }
}

# The TLS reverse proxy tells Django the request came over HTTPS.
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# HTTPS everywhere: redirect, cookies sent only over HTTPS, HSTS. All on, or
# all off together with DJANGO_SECURE=0 (a plain-HTTP trial on 127.0.0.1).
SECURE = env_flag("DJANGO_SECURE", default=True)
SECURE_SSL_REDIRECT = SECURE
SESSION_COOKIE_SECURE = SECURE
CSRF_COOKIE_SECURE = SECURE
SECURE_HSTS_SECONDS = (
    int(os.environ.get("DJANGO_HSTS_SECONDS", 365 * 24 * 60 * 60)) if SECURE else 0
)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_flag("DJANGO_HSTS_INCLUDE_SUBDOMAINS", default=True)
SECURE_HSTS_PRELOAD = env_flag("DJANGO_HSTS_PRELOAD")
if not SECURE_HSTS_PRELOAD:
    # Asking browsers to preload the domain is the domain owner's decision
    # (hstspreload.org), not a default: its warning is expected when it is off.
    SILENCED_SYSTEM_CHECKS = ["security.W021"]

# Static files: compressed, with a hash in their names, cached for a year;
# `manage.py collectstatic` fills STATIC_ROOT before the server starts.
STORAGES = {
    **STORAGES,  # noqa: F405
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Source maps are large and read only by developer tools: compressing them makes
# `collectstatic` several times slower for nothing.
WHITENOISE_SKIP_COMPRESS_EXTENSIONS = (*Compressor.SKIP_COMPRESS_EXTENSIONS, "map")

# Errors (and their tracebacks) to the standard error stream: systemd's
# journal keeps them (journalctl -u certification-web). With DJANGO_ADMINS
# set, errors are also e-mailed to these people: a request that fails (500)
# and a certificate whose PDF rendering fails (logged with its number).


def parse_admins(value):
    """`Nom <a@b>, Autre <c@d>` (or bare addresses) -> [("Nom", "a@b"), ...]."""
    return [(name, address) for name, address in getaddresses([value]) if "@" in address]


ADMINS = parse_admins(os.environ.get("DJANGO_ADMINS", ""))
# The sender of those e-mails (Django's default, root@localhost, is often refused).
SERVER_EMAIL = os.environ.get("DJANGO_SERVER_EMAIL", DEFAULT_FROM_EMAIL)  # noqa: F405
_MAIL = ["mail_admins"] if ADMINS else []
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"},
    },
    "filters": REFUSALS_ON_ONE_LINE["filters"],
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",  # standard error
            "formatter": "plain",
        },
        "mail_admins": {
            "class": "django.utils.log.AdminEmailHandler",
            "level": "ERROR",
        },
    },
    "root": {"handlers": ["console"], "level": "WARNING"},
    "loggers": {
        # Replaces Django's default handlers for "django" (its own console and
        # mail), so that each error is printed once, by the root's console.
        "django": {"handlers": [], "level": "WARNING", "propagate": True},
        "django.request": {
            "handlers": _MAIL,
            "level": "WARNING",
            "propagate": True,
            "filters": ["one_line_refusals"],
        },
        "certification.rendering": {"handlers": _MAIL, "level": "WARNING", "propagate": True},
    },
}
