"""Warm Intros settings: one file, read from the environment.

Every variable is listed in README.md. A value that cannot be parsed stops the
process at start-up with the variable's name, rather than falling back silently.
"""

from __future__ import annotations

import os
import re
import zoneinfo
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("WARM_VAR_DIR", BASE_DIR / "var"))

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean; use true or false.")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a whole number.") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} must be at least {minimum}.")
    return value


_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*([smhd]?)\s*$")
_RATE_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def env_rate(name: str, default: str) -> tuple[int, int]:
    """A rate limit as "COUNT/PERIOD": `10/15m` is ten in fifteen minutes (units s, m, h, d)."""
    raw = os.environ.get(name) or default
    match = _RATE.match(raw)
    if not match or int(match[1]) < 1 or int(match[2]) < 1:
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not a rate; write it like 10/15m (count/period in s, m, h or d)."
        )
    return int(match[1]), int(match[2]) * _RATE_UNITS[match[3]]


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


DEBUG = env_bool("DJANGO_DEBUG", True)

SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is false.")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set when DJANGO_DEBUG is false.")
CSRF_TRUSTED_ORIGINS = env_list("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# Django's admin, for whoever runs the service (lib.staff_admin): staff only, at this path.
# Something not obvious; never empty (it would sit over the app's own pages).
ADMIN_URL = os.environ.get("ADMIN_URL", "ops/").strip().strip("/")
if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._~-]*(/[A-Za-z0-9._~-]+)*", ADMIN_URL):
    raise ImproperlyConfigured(
        f"ADMIN_URL={os.environ.get('ADMIN_URL')!r} must be a path such as ops/ or staff/admin/ (letters, digits, - . _ ~)."
    )
ADMIN_URL += "/"

# Absolute base for links in emails (target answers, invitations, password reset).
SITE_URL = os.environ.get("SITE_URL", "http://127.0.0.1:8000").rstrip("/")
if not SITE_URL.startswith(("http://", "https://")):
    raise ImproperlyConfigured(f"SITE_URL={SITE_URL!r} must start with http:// or https://.")

INSTALLED_APPS = [
    "config.apps.StaffAdminConfig",  # Django's admin, staff only (lib.staff_admin), at ADMIN_URL (issue 18.4)
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "django.forms",  # its widget templates, for FORM_RENDERER below
    "django_htmx",
    "anymail",  # its system checks; the backend and the webhook view work from the settings below
    "lib.outbox",  # below every domain app: its one model, the outbox (lib/ is otherwise no app)
    "accounts",
    "contacts",
    "intros",
    "followups",
    "cohorts",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "lib.middleware.UserTimezoneMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.csp",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
            # lib is a plain package, not an app, so its tags are named here: `warm` in every
            # template without a {% load %}, `email_text` by {% load email_text %} in emails.
            "builtins": ["django.templatetags.static", "lib.templatetags.warm"],
            "libraries": {"warm": "lib.templatetags.warm", "email_text": "lib.templatetags.email_text"},
        },
    }
]

# Widgets render through the project's templates, so templates/django/forms/ can override one.
FORM_RENDERER = "django.forms.renderers.TemplatesSetting"

# --- Database -----------------------------------------------------------------
DATABASE_URL = os.environ.get("DATABASE_URL", "").strip()
if DATABASE_URL:
    try:
        _db = environ.Env.db_url_config(DATABASE_URL)
    except Exception as exc:  # django-environ raises several types for a bad URL
        raise ImproperlyConfigured(f"DATABASE_URL could not be parsed: {exc}") from exc
    if not _db.get("ENGINE"):
        raise ImproperlyConfigured("DATABASE_URL names an unknown database scheme.")
else:
    _db = {"ENGINE": "django.db.backends.sqlite3", "NAME": VAR_DIR / "db.sqlite3"}
    VAR_DIR.mkdir(parents=True, exist_ok=True)  # the embedded default works on a fresh clone
if _db["ENGINE"] == "django.db.backends.postgresql":
    _db["CONN_MAX_AGE"] = env_int("DATABASE_CONN_MAX_AGE", 60)
    _db["CONN_HEALTH_CHECKS"] = True
    _db.setdefault("OPTIONS", {})
    # No JIT compilation: the app's queries are short, and compiling a plan that crosses the
    # cost threshold (the coach dashboard's member query) took ~85 ms of a ~230 ms query.
    # A DATABASE_URL that sets its own `options` keeps them.
    _db["OPTIONS"].setdefault("options", "-c jit=off")
    _db.setdefault("TEST", {})["NAME"] = os.environ.get("DATABASE_TEST_NAME") or None
elif _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web process, worker and beat share the file.
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache and Celery -----------------------------------------------------
REDIS_URL = os.environ.get("REDIS_URL", "").strip()
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(f"REDIS_URL={REDIS_URL!r} must be a redis:// URL.")

if REDIS_URL:
    # Redis being away must not fail a page: the cache then knows nothing (lib/cache.py).
    CACHES = {
        "default": {
            "BACKEND": "lib.cache.ForgivingRedisCache",
            "LOCATION": REDIS_URL,
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    # The embedded default runs web, worker and beat as separate processes: a cache in files
    # is shared by all of them (rate limits, import progress), where a local-memory one is not.
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
            "LOCATION": VAR_DIR / "cache",
            # Past this many files the backend deletes a third of them at random, live counters
            # included; rate-limit keys are small and short-lived, so allow plenty.
            "OPTIONS": {"MAX_ENTRIES": 20_000},
        }
    }

CELERY_FS_DIR = VAR_DIR / "celery"
BROKER_VISIBILITY_TIMEOUT = 3600
if REDIS_URL:
    CELERY_BROKER_URL = REDIS_URL
    # A task not acknowledged within `visibility_timeout` is handed out again (tasks are acked
    # late): every task's hard time limit below stays under it. `socket_timeout` bounds each
    # command, so a Redis that accepts connections but stops answering cannot hang a request
    # that publishes a task (the connection attempt itself is bounded just below).
    CELERY_BROKER_TRANSPORT_OPTIONS: dict = {"visibility_timeout": BROKER_VISIBILITY_TIMEOUT, "socket_timeout": 10}
else:
    # The embedded default: no server needed; the folders are made by `make run`
    # (and by config.celery before a worker starts).
    CELERY_BROKER_URL = "filesystem://"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(CELERY_FS_DIR / "out"),
        "data_folder_out": str(CELERY_FS_DIR / "out"),
        "processed_folder": str(CELERY_FS_DIR / "processed"),
        "control_folder": str(CELERY_FS_DIR / "control"),
        "store_processed": False,
        # Poll twice a second: tasks start sooner and the worker stops well inside
        # honcho's 5 s grace period on Ctrl-C.
        "polling_interval": 0.5,
    }
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_TIMEZONE = "UTC"
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")
# Enqueueing after commit must not hang a request when the broker is away: the
# outbox row is already saved and the beat sweep sends it later.
CELERY_BROKER_CONNECTION_TIMEOUT = 2
CELERY_TASK_PUBLISH_RETRY = False
CELERY_TASK_ALWAYS_EAGER = env_bool("CELERY_TASK_ALWAYS_EAGER", False)
# Beat's whole schedule. Due work waits in the database; these ticks only look for it.
SWEEP_INTERVAL_SECONDS = env_int("SWEEP_INTERVAL_SECONDS", 60, minimum=1)
CELERY_BEAT_SCHEDULE = {
    # Follow-up reminders, offer nudges, target re-asks and expiries, digests: what is due now.
    "reminder-sweep": {"task": "followups.tasks.sweep_due", "schedule": float(SWEEP_INTERVAL_SECONDS)},
    # Messages whose enqueue-after-commit was lost (broker away, worker crash) are sent here.
    "outbox-flush": {"task": "lib.outbox.tasks.flush_outbox", "schedule": float(SWEEP_INTERVAL_SECONDS)},
    # Old import previews are dropped and lost imports failed with a message (contacts.services).
    "contacts-import-cleanup": {"task": "contacts.tasks.cleanup_imports", "schedule": 3600.0},
    # Data downloads past their days are deleted; lost or stalled preparations are retried or failed.
    "data-export-sweep": {"task": "accounts.tasks.sweep_data_exports", "schedule": 300.0},
}
CELERY_TASK_EAGER_PROPAGATES = True
# Time limits (seconds). At the soft limit a task is interrupted where it stands (a sweep batch
# or a claim rolls back; a message being sent is retried later); at the hard limit its worker
# process is killed. The prefork pool (production) enforces both; the solo pool of `make run`
# and the fault tests enforces neither, where EMAIL_TIMEOUT alone bounds a send.
OUTBOX_TASK_TIME_LIMIT = env_int("OUTBOX_TASK_TIME_LIMIT", 300, minimum=60)
SWEEP_TASK_TIME_LIMIT = env_int("SWEEP_TASK_TIME_LIMIT", 600, minimum=60)
# Any other task (a contacts import, the import cleanup) is killed well before the broker would
# hand it to a second worker while it still runs.
CELERY_TASK_TIME_LIMIT = BROKER_VISIBILITY_TIMEOUT - 600
for _name in ("OUTBOX_TASK_TIME_LIMIT", "SWEEP_TASK_TIME_LIMIT"):
    if vars()[_name] >= BROKER_VISIBILITY_TIMEOUT:
        raise ImproperlyConfigured(
            f"{_name}={vars()[_name]} must stay under the broker's visibility timeout "
            f"({BROKER_VISIBILITY_TIMEOUT} s), or a running task is handed to a second worker."
        )

# --- Email ------------------------------------------------------------------------
EMAIL_URL = os.environ.get("EMAIL_URL", "").strip()
if EMAIL_URL:
    try:
        vars().update(environ.Env.email_url_config(EMAIL_URL))
    except Exception as exc:
        raise ImproperlyConfigured(f"EMAIL_URL could not be parsed: {exc}") from exc
else:
    EMAIL_BACKEND = "lib.mail.ConsoleAndFileBackend"
EMAIL_FILE_PATH = VAR_DIR / "mail"
# Seconds each step of an SMTP conversation (connect, TLS, each command) may take.
EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 20, minimum=1)

# --- An email service instead of SMTP (django-anymail; issue 18.3) ---------------------
# EMAIL_SERVICE=mailgun sends through Mailgun's API (replacing EMAIL_URL) and lets Mailgun's
# tracking webhook (/hooks/email/mailgun/, lib.outbox.webhooks) report bounces and complaints.
# The webhook answers 404 until MAILGUN_WEBHOOK_SIGNING_KEY is set: every post must carry
# Mailgun's HMAC signature made with it. (When the email settings move to MAILERS, this
# block becomes the "default" mailer's BACKEND and OPTIONS; the ANYMAIL dict stays.)
EMAIL_SERVICES = {"mailgun": "anymail.backends.mailgun.EmailBackend"}
EMAIL_SERVICE = os.environ.get("EMAIL_SERVICE", "").strip().lower()
ANYMAIL: dict[str, str] = {}
if EMAIL_SERVICE:
    if EMAIL_SERVICE not in EMAIL_SERVICES:
        raise ImproperlyConfigured(
            f"EMAIL_SERVICE={EMAIL_SERVICE!r} is not supported; use {', '.join(EMAIL_SERVICES)} or leave it empty (SMTP)."
        )
    if not os.environ.get("MAILGUN_API_KEY"):
        raise ImproperlyConfigured("EMAIL_SERVICE=mailgun needs MAILGUN_API_KEY (Mailgun: Sending → API keys).")
    EMAIL_BACKEND = EMAIL_SERVICES[EMAIL_SERVICE]
    ANYMAIL["MAILGUN_API_KEY"] = os.environ["MAILGUN_API_KEY"]
    for _name in ("MAILGUN_SENDER_DOMAIN", "MAILGUN_API_URL"):
        if os.environ.get(_name):
            ANYMAIL[_name] = os.environ[_name]
if os.environ.get("MAILGUN_WEBHOOK_SIGNING_KEY"):
    ANYMAIL["MAILGUN_WEBHOOK_SIGNING_KEY"] = os.environ["MAILGUN_WEBHOOK_SIGNING_KEY"]

# --- The outbox (lib.outbox) ----------------------------------------------------------
# Attempts at one message before it fails for good and an operator sees it
# (`manage.py outbox --failed`); between them the wait grows: 1 min, 5 min, 30 min, 2 h, 12 h.
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 6, minimum=1)
# A worker's claim on a message it is sending runs out after this long; another worker may
# then take it over (the first one died). Longer than a send task may live (its hard time
# limit), so a worker that is still sending is never taken over.
OUTBOX_CLAIM_SECONDS = OUTBOX_TASK_TIME_LIMIT + 60
# Messages written in bulk (`outbox_enqueue_many`: reminders, notices of undelivered mail) are
# rendered when sent, from the ids they carry, by their app's builder: template → builder.
# The outbox sits below every app, so the project names them here, as it names the beat's tasks.
OUTBOX_CONTEXT_BUILDERS = {
    "followup_reminder": "followups.sweep.reminder_context",
    "target_ask_undelivered": "intros.services.undelivered_ask_context",
    "introduction_undelivered": "intros.services.undelivered_introduction_context",
}
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "Warm Intros <hello@warm-intros.test>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

# --- Auth -------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
LOGIN_REDIRECT_URL = "intros:home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
PASSWORD_RESET_TIMEOUT = 60 * 60 * 24

# Emailed links: signed, expiring, single use.
TARGET_LINK_MAX_AGE_DAYS = env_int("TARGET_LINK_MAX_AGE_DAYS", 14, minimum=1)
STEP_BACK_LINK_MAX_AGE_DAYS = env_int("STEP_BACK_LINK_MAX_AGE_DAYS", 365, minimum=1)
INVITATION_MAX_AGE_DAYS = env_int("INVITATION_MAX_AGE_DAYS", 14, minimum=1)
# A target who has not answered is asked once more after this many days, then the request expires.
TARGET_ANSWER_WAIT_DAYS = env_int("TARGET_ANSWER_WAIT_DAYS", 7, minimum=1)
TARGET_MAX_REASKS = env_int("TARGET_MAX_REASKS", 1, minimum=0)

# --- Rate limits (lib.ratelimit) ------------------------------------------------
# Each is (count, seconds): at most `count` in a fixed window of `seconds`, counted in the
# cache above (Redis in production, shared by every web process).
RATE_LIMITS = {
    # Wrong passwords only (lib.ratelimit.LoginAttempt); a known device counts on its own.
    "login_client": env_rate("RATE_LIMIT_LOGIN_PER_CLIENT", "10/15m"),
    "login_email": env_rate("RATE_LIMIT_LOGIN_PER_EMAIL", "20/15m"),
    "login_ip": env_rate("RATE_LIMIT_LOGIN_PER_IP", "30/15m"),
    "password_reset_ip": env_rate("RATE_LIMIT_PASSWORD_RESET_PER_IP", "10/1h"),
    "password_reset_email": env_rate("RATE_LIMIT_PASSWORD_RESET_PER_EMAIL", "3/1h"),
    "target_answer": env_rate("RATE_LIMIT_TARGET_ANSWERS", "10/1h"),
    "intro_request": env_rate("RATE_LIMIT_INTRO_REQUESTS", "20/1h"),
    "invitation": env_rate("RATE_LIMIT_INVITATIONS", "200/1d"),
    "import_upload": env_rate("RATE_LIMIT_IMPORT_UPLOADS", "20/1h"),
    "data_export": env_rate("RATE_LIMIT_DATA_EXPORTS", "5/1d"),
}
# Tests give each test its own prefix, so counts start at zero without flushing Redis.
RATE_LIMIT_KEY_PREFIX = "ratelimit"

# --- Contact import (contacts.services) ----------------------------------------------------
# The most contacts one uploaded file may hold; a larger file is refused, naming both numbers.
IMPORT_MAX_ROWS = env_int("IMPORT_MAX_ROWS", 50_000, minimum=1)

# --- Answers kept until what they are made of changes (lib.freshness) -------------
# Each is kept this many seconds at most, and dropped as soon as a person's data changes;
# 0 turns it off: the coach dashboard's numbers and each calendar feed.
DASHBOARD_CACHE_SECONDS = env_int("DASHBOARD_CACHE_SECONDS", 60)
CALENDAR_CACHE_SECONDS = env_int("CALENDAR_CACHE_SECONDS", 60)
FRESHNESS_KEY_PREFIX = "kept"

# --- Internationalisation -----------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = os.environ.get("DJANGO_TIME_ZONE", "UTC")
if TIME_ZONE not in zoneinfo.available_timezones():
    raise ImproperlyConfigured(f"DJANGO_TIME_ZONE={TIME_ZONE!r} is not a known time zone.")
USE_I18N = False
USE_TZ = True

# --- Static files ---------------------------------------------------------------------
STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
# "Download all my data": the worker writes each person's file here, and the download view
# (login, the owner only) reads it back; nothing serves this folder directly. Web and worker
# processes must share it (one volume in docker-compose.yml). Files are deleted after
# DATA_EXPORT_KEPT_DAYS, when a newer one is ready, and with the account.
DATA_EXPORT_DIR = Path(os.environ.get("DATA_EXPORT_DIR") or VAR_DIR / "exports")
DATA_EXPORT_KEPT_DAYS = env_int("DATA_EXPORT_KEPT_DAYS", 7, minimum=1)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "data_exports": {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {
            "location": DATA_EXPORT_DIR,
            "file_permissions_mode": 0o600,
            "directory_permissions_mode": 0o700,
        },
    },
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if not DEBUG
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}

# --- Security -------------------------------------------------------------------------
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.SELF],
    "object-src": [CSP.NONE],
}
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_SAMESITE = "Lax"
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"

_https = env_bool("DJANGO_HTTPS", not DEBUG)
SESSION_COOKIE_SECURE = _https
CSRF_COOKIE_SECURE = _https
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", _https)
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 60 * 60 * 24 * 365 if _https else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", SECURE_HSTS_SECONDS > 0)
BEHIND_PROXY = env_bool("DJANGO_BEHIND_PROXY", False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Logging ---------------------------------------------------------------------------
LOG_LEVEL = os.environ.get("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
    raise ImproperlyConfigured(f"LOG_LEVEL={LOG_LEVEL!r} is not a logging level.")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": LOG_LEVEL},
    "loggers": {"django.db.backends": {"level": "WARNING"}},
}
