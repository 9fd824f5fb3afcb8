"""Settings shared by every environment, driven by the environment variables.

SQLite by default; DATABASE_URL (for example
postgres://postgres@127.0.0.1:5432/certif) switches to PostgreSQL. The modules
beside this one (development, test, production) start from it.
"""

import datetime
import os
from pathlib import Path

import dj_database_url

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env_flag(name, default=False):
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_flag("DJANGO_DEBUG")
# The fallback is for development and tests only: production.py refuses to
# start without DJANGO_SECRET_KEY, and development.py too with DJANGO_DEBUG=0.
SECRET_KEY = os.environ.get(
    "DJANGO_SECRET_KEY", "django-insecure-dev-only-key-never-use-in-production"
)
ALLOWED_HOSTS = [
    host.strip()
    for host in os.environ.get("DJANGO_ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
    if host.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "axes",
    "crispy_forms",
    "crispy_bootstrap5",
    "bootstrap",
    "django_tasks",
    "django_tasks_db",
    "core",
    "blocks",
    "candidates",
    "evaluations",
    "certification",
    "portal",
]

MIDDLEWARE = [
    # First, so that it compresses what every other middleware wrote: gzip of
    # text answers (Django's, BREACH mitigated), never of PDFs (core.compression).
    "core.compression.TextGZipMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Static files from the application itself, compressed and cached for
    # a year when their names carry a hash (production's storage).
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    # Inside the session middleware: its expiry pushed back once a minute at most.
    "core.idle_sessions.IdleExpiryMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # After the messages: a staff session past its maximum lifetime is signed
    # out with a French message on the login page.
    "core.idle_sessions.MaxLifetimeMiddleware",
    # A NUL character in a path, query string or form field: 404 or 400, in
    # French, before any view (PostgreSQL refuses NUL in text).
    "core.middleware.RejectNulMiddleware",
    # After authentication: its 429 page shows the navigation of the user.
    "core.ratelimit.PublicRateLimitMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # Last, as django-axes asks: answers the lockout page after a refused login.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "certification.urls"
# A refused form (missing or stale CSRF token) answered in French with the
# site's navigation, not Django's bare English page.
CSRF_FAILURE_VIEW = "core.views.csrf_failure"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "core.context_processors.user_roles",
            ],
        },
    },
]

WSGI_APPLICATION = "certification.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}", conn_max_age=60
    )
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# django-axes first: it refuses a locked-out username+address pair before
# the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "home"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "fr"
LANGUAGES = [("fr", "Français")]
TIME_ZONE = "Europe/Paris"
USE_I18N = True
USE_TZ = True
LOCALE_PATHS = [BASE_DIR / "locale"]

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
# Where `collectstatic` gathers the static files that WhiteNoise serves.
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))
MEDIA_URL = "media/"
MEDIA_ROOT = Path(os.environ.get("DJANGO_MEDIA_ROOT", BASE_DIR / "media"))

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

EMAIL_BACKEND = os.environ.get(
    "DJANGO_EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend"
)
# The SMTP server, when DJANGO_EMAIL_BACKEND is
# django.core.mail.backends.smtp.EmailBackend.
EMAIL_HOST = os.environ.get("DJANGO_EMAIL_HOST", "localhost")
EMAIL_PORT = int(os.environ.get("DJANGO_EMAIL_PORT", 25))
EMAIL_HOST_USER = os.environ.get("DJANGO_EMAIL_HOST_USER", "")
EMAIL_HOST_PASSWORD = os.environ.get("DJANGO_EMAIL_HOST_PASSWORD", "")
EMAIL_USE_TLS = env_flag("DJANGO_EMAIL_USE_TLS")
DEFAULT_FROM_EMAIL = os.environ.get(
    "DJANGO_DEFAULT_FROM_EMAIL", "Certification CEFPF <certification@localhost>"
)

STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Sessions end after DJANGO_SESSION_AGE seconds without a request: the
# session's expiry is pushed back by core.idle_sessions at most once every
# SESSION_REFRESH_INTERVAL seconds, so the age is an idle timeout (a trainer
# who leaves a shared computer is logged out) without a write per request.
SESSION_COOKIE_AGE = int(os.environ.get("DJANGO_SESSION_AGE", 2 * 60 * 60))
SESSION_REFRESH_INTERVAL = 60
# A staff member (any role but candidate) is signed out this many seconds
# after signing in, however active (core.idle_sessions.MaxLifetimeMiddleware).
SESSION_MAX_LIFETIME = int(os.environ.get("DJANGO_SESSION_MAX_LIFETIME", 12 * 60 * 60))

# The counters of the rate limit of the public pages (core/ratelimit.py):
# local memory by default (one process); with REDIS_URL, shared by every
# process and machine.
REDIS_URL = os.environ.get("REDIS_URL", "")
CACHES = {
    "default": (
        {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Behind a reverse proxy, the client's address is the last one the proxy
# added to X-Forwarded-For (REMOTE_ADDR is the proxy's own).
BEHIND_PROXY = env_flag("DJANGO_BEHIND_HTTPS_PROXY")

# Login throttling (django-axes): after AXES_FAILURE_LIMIT wrong passwords
# for one username from one address, that pair waits AXES_COOLOFF_TIME.
# Attempts and lockouts are listed in the administration (Axes section).
AXES_FAILURE_LIMIT = int(os.environ.get("DJANGO_LOGIN_FAILURE_LIMIT", 5))
AXES_COOLOFF_TIME = datetime.timedelta(
    minutes=int(os.environ.get("DJANGO_LOGIN_COOLOFF_MINUTES", 15))
)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
AXES_CLIENT_IP_CALLABLE = "core.ratelimit.client_ip"
AXES_RESET_ON_SUCCESS = True
# Every failure kept (administration: "échecs de connexion"), even after the
# attempt counter was reset by a success or an office action.
AXES_ENABLE_ACCESS_FAILURE_LOG = True
# The wait announced on the lockout page is not stretched by more attempts.
AXES_RESET_COOL_OFF_ON_FAILURE_DURING_LOCKOUT = False
AXES_VERBOSE = False

# Public certificate verification (/verifier/): requests allowed per address
# and per minute before a 429 page.
VERIFY_RATE_LIMIT = int(os.environ.get("DJANGO_VERIFY_RATE_LIMIT", 30))
RATE_LIMITED_PATHS = ["/verifier/"]

# Certificates are generated in background tasks: inline by default (one
# machine), or queued in the database and run by `manage.py db_worker` with
# DJANGO_TASKS_BACKEND=django_tasks_db.DatabaseBackend.
TASKS = {
    "default": {
        "BACKEND": os.environ.get(
            "DJANGO_TASKS_BACKEND", "django_tasks.backends.immediate.ImmediateBackend"
        )
    }
}

# Bulk printing (certification/printing.py): how many processes render and
# seal the certificates of a print job at the same time, beside the task's
# process that numbers them. Default: one per processor of the machine; 1
# renders them one after another in the task's process, without a pool.
PRINT_WORKERS = max(1, int(os.environ.get("DJANGO_PRINT_WORKERS") or os.cpu_count() or 1))

# Where the QR code of a certificate points: the public address of the platform.
PUBLIC_BASE_URL = os.environ.get("PUBLIC_BASE_URL", "http://127.0.0.1:8000").rstrip("/")

# The certifier's seal on certificates and PVs (core/signing.py): a PKCS#12
# file (certificate and key) and its passphrase. Required in production; when
# empty elsewhere, a self-signed demonstration seal (« non valable ») is
# generated once into PDF_DEMO_SEAL and used.
PDF_SIGNING_PKCS12 = os.environ.get("PDF_SIGNING_PKCS12", "").strip()
PDF_SIGNING_PASSPHRASE = os.environ.get("PDF_SIGNING_PASSPHRASE", "")
PDF_DEMO_SEAL = BASE_DIR / "var" / "cachet-demo.p12"

# A refused request (403) is logged as one line, without the traceback of the
# PermissionDenied that answered it (core/log_filters.py); the rest of
# Django's default logging stays as it is.
REFUSALS_ON_ONE_LINE = {
    "version": 1,
    "disable_existing_loggers": False,
    "filters": {"one_line_refusals": {"()": "core.log_filters.OneLineRefusals"}},
    "loggers": {"django.request": {"filters": ["one_line_refusals"]}},
}
LOGGING = REFUSALS_ON_ONE_LINE
