"""Warm Intros settings: one file, read from the environment.

Every variable is listed in README.md; django-environ reads them. A number that cannot be
parsed, or is below its least value, stops the process at start-up rather than falling back
silently. With nothing set this is production (DEBUG off): `make run` and the test settings
(tests/settings.py) turn development mode on with DJANGO_DEBUG=true.
"""

from __future__ import annotations

import os
import re
import zoneinfo
from collections.abc import Iterator, Mapping
from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("WARM_VAR_DIR") or BASE_DIR / "var")


class _SetVariables(Mapping):
    """os.environ where an empty variable counts as unset (docker-compose's `${NAME:-}` passes
    one), so it takes the default below rather than "false" or 0."""

    def __getitem__(self, name: str) -> str:
        if not (value := os.environ[name]).strip():
            raise KeyError(name)
        return value

    def __iter__(self) -> Iterator[str]:
        return (name for name, value in os.environ.items() if value.strip())

    def __len__(self) -> int:
        return sum(1 for _ in self)


env = environ.Env()  # django-environ reads every variable
env.ENVIRON = _SetVariables()

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*([smhd]?)\s*$")
_RATE_UNITS = {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}


def env_rate(name: str, default: str) -> tuple[int, int]:
    """A rate limit as "COUNT/PERIOD": `10/15m` is ten in fifteen minutes (units s, m, h, d);
    a format of our own, so parsed here."""
    raw = env.str(name, default=default)
    match = _RATE.match(raw)
    if not match or int(match[1]) < 1 or int(match[2]) < 1:
        raise ImproperlyConfigured(
            f"{name}={raw!r} is not a rate; write it like 10/15m (count/period in s, m, h or d)."
        )
    return int(match[1]), int(match[2]) * _RATE_UNITS[match[3]]


def env_hosts(name: str, default: list[str]) -> list[str]:
    return [host.strip() for host in env.list(name, default=default) if host.strip()]


# Production unless told otherwise: `make run` (and the test settings) set DJANGO_DEBUG=true.
DEBUG = env.bool("DJANGO_DEBUG", default=False)

SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is false.")
    SECRET_KEY = "dev-only-insecure-key-do-not-use-in-production-0123456789abcdef"

ALLOWED_HOSTS = env_hosts("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "[::1]"] if DEBUG else [])
if not DEBUG and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("DJANGO_ALLOWED_HOSTS must be set when DJANGO_DEBUG is false.")
CSRF_TRUSTED_ORIGINS = env_hosts("DJANGO_CSRF_TRUSTED_ORIGINS", [])

# Django's admin, for whoever runs the service (lib.staff_admin): staff only, at this path.
# Something not obvious; never empty (it would sit over the app's own pages).
# An empty ADMIN_URL is refused, not taken as unset: the admin would sit over the app's pages.
_admin_url = os.environ.get("ADMIN_URL", "ops/")
ADMIN_URL = _admin_url.strip().strip("/")
if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9._~-]*(/[A-Za-z0-9._~-]+)*", ADMIN_URL):
    raise ImproperlyConfigured(
        f"ADMIN_URL={_admin_url!r} must be a path such as ops/ or staff/admin/ (letters, digits, - . _ ~)."
    )
ADMIN_URL += "/"

# Absolute base for links in emails (target answers, invitations, password reset).
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000").rstrip("/")
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
    "api",  # the JSON API over every app above (issue 18.1); nothing imports it
    "ninja",  # django-ninja's docs page and its static files (Swagger UI, served from here)
    "webhooks",  # at the top: it hears every app's events (issue 18.2)
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
DATABASE_URL = env.str("DATABASE_URL", default="").strip()
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
    _db["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    _db["CONN_HEALTH_CHECKS"] = True
    _db.setdefault("OPTIONS", {})
    # No JIT compilation: the app's queries are short, and compiling a plan that crosses the
    # cost threshold (the coach dashboard's member query) took ~85 ms of a ~230 ms query.
    # A DATABASE_URL that sets its own `options` keeps them.
    _db["OPTIONS"].setdefault("options", "-c jit=off")
    _db.setdefault("TEST", {})["NAME"] = env.str("DATABASE_TEST_NAME", default="") or None
elif _db["ENGINE"] == "django.db.backends.sqlite3":
    # WAL and a busy timeout let the web process, worker and beat share the file.
    _db["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
    }
    # The dashboard's covering indexes (INCLUDE columns) are for PostgreSQL; SQLite builds the
    # same indexes on their key columns alone, which is all the embedded default needs.
    SILENCED_SYSTEM_CHECKS = ["models.W040"]
DATABASES = {"default": _db}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis, cache and Celery -----------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="").strip()
if REDIS_URL and not REDIS_URL.startswith(("redis://", "rediss://", "unix://")):
    raise ImproperlyConfigured(f"REDIS_URL={REDIS_URL!r} must be a redis:// URL.")


def redis_cache(location: str) -> dict:
    """Redis as the cache, where Redis being away means a cache that knows nothing: everything
    it holds can be lost (import progress, rate-limit counters, kept answers), so a page must not
    fail because Redis is down or restarting. django-redis's IGNORE_EXCEPTIONS makes reads find
    nothing, writes drop, and `incr` answer None (lib.ratelimit counts nothing then); each is
    logged. Tested with the real server stopped in tests/faults/test_redis_down.py."""
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": location,
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2, "IGNORE_EXCEPTIONS": True},
    }


DJANGO_REDIS_LOG_IGNORED_EXCEPTIONS = True
if REDIS_URL:
    CACHES = {"default": redis_cache(REDIS_URL)}
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
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=False)
# Beat's whole schedule. Due work waits in the database; these ticks only look for it.
SWEEP_INTERVAL_SECONDS = env.int("SWEEP_INTERVAL_SECONDS", default=60)
CELERY_BEAT_SCHEDULE = {
    # Follow-up reminders, offer nudges, target re-asks and expiries, digests: what is due now.
    "reminder-sweep": {"task": "followups.tasks.sweep_due", "schedule": float(SWEEP_INTERVAL_SECONDS)},
    # Messages whose enqueue-after-commit was lost (broker away, worker crash) are sent here.
    "outbox-flush": {"task": "lib.outbox.tasks.flush_outbox", "schedule": float(SWEEP_INTERVAL_SECONDS)},
    # Old import previews are dropped and lost imports failed with a message (contacts.services).
    "contacts-import-cleanup": {"task": "contacts.tasks.cleanup_imports", "schedule": 3600.0},
    # Data downloads past their days are deleted; lost or stalled preparations are retried or failed.
    "data-export-sweep": {"task": "accounts.tasks.sweep_data_exports", "schedule": 300.0},
    # Webhook deliveries whose send after commit was lost, and retries whose wait is over.
    "webhook-flush": {"task": "webhooks.tasks.flush_webhooks", "schedule": float(SWEEP_INTERVAL_SECONDS)},
}
CELERY_TASK_EAGER_PROPAGATES = True
# Time limits (seconds). At the soft limit a task is interrupted where it stands (a sweep batch
# or a claim rolls back; a message being sent is retried later); at the hard limit its worker
# process is killed. The prefork pool (production) enforces both; the solo pool of `make run`
# and the fault tests enforces neither, where EMAIL_TIMEOUT (the SMTP mailer's timeout) alone bounds a send.
OUTBOX_TASK_TIME_LIMIT = env.int("OUTBOX_TASK_TIME_LIMIT", default=300)
SWEEP_TASK_TIME_LIMIT = env.int("SWEEP_TASK_TIME_LIMIT", default=600)
# Any other task (a contacts import, the import cleanup) is killed well before the broker would
# hand it to a second worker while it still runs.
CELERY_TASK_TIME_LIMIT = BROKER_VISIBILITY_TIMEOUT - 600
for _name in ("OUTBOX_TASK_TIME_LIMIT", "SWEEP_TASK_TIME_LIMIT"):
    if vars()[_name] >= BROKER_VISIBILITY_TIMEOUT:
        raise ImproperlyConfigured(
            f"{_name}={vars()[_name]} must stay under the broker's visibility timeout "
            f"({BROKER_VISIBILITY_TIMEOUT} s), or a running task is handed to a second worker."
        )

# --- Email: Django's MAILERS ------------------------------------------------------------
# The "default" mailer sends everything. Which one it is:
# - EMAIL_SERVICE=mailgun: Mailgun's API (django-anymail), whose tracking webhook
#   (/hooks/email/mailgun/, lib.outbox.webhooks) reports bounces and complaints; the webhook
#   answers 404 until MAILGUN_WEBHOOK_SIGNING_KEY is set (every post must carry Mailgun's
#   HMAC signature made with it);
# - EMAIL_URL (e.g. smtp+tls://user:password@smtp.example.com:587): SMTP, or any backend
#   django-environ names by scheme;
# - neither: the development backend, every message to the console and to a file in MAIL_DIR.
MAIL_DIR = VAR_DIR / "mail"
# Seconds each step of an SMTP conversation (connect, TLS, each command) may take.
EMAIL_TIMEOUT_SECONDS = env.int("EMAIL_TIMEOUT", default=20)
EMAIL_URL = env.str("EMAIL_URL", default="").strip()
EMAIL_SERVICES = {"mailgun": "anymail.backends.mailgun.EmailBackend"}
EMAIL_SERVICE = env.str("EMAIL_SERVICE", default="").strip().lower()
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
DEV_MAIL_BACKEND = "lib.mail.ConsoleAndFileBackend"
# What django-environ reads from EMAIL_URL, as the SMTP backend's OPTIONS.
_SMTP_OPTIONS = {
    "EMAIL_HOST": "host",
    "EMAIL_PORT": "port",
    "EMAIL_HOST_USER": "username",
    "EMAIL_HOST_PASSWORD": "password",
    "EMAIL_USE_TLS": "use_tls",
    "EMAIL_USE_SSL": "use_ssl",
}
ANYMAIL: dict[str, str] = {}
if EMAIL_SERVICE:
    if EMAIL_SERVICE not in EMAIL_SERVICES:
        raise ImproperlyConfigured(
            f"EMAIL_SERVICE={EMAIL_SERVICE!r} is not supported; use {', '.join(EMAIL_SERVICES)} or leave it empty (SMTP)."
        )
    if not env.str("MAILGUN_API_KEY", default=""):
        raise ImproperlyConfigured("EMAIL_SERVICE=mailgun needs MAILGUN_API_KEY (Mailgun: Sending → API keys).")
    _mailer = {"BACKEND": EMAIL_SERVICES[EMAIL_SERVICE]}
    ANYMAIL["MAILGUN_API_KEY"] = env.str("MAILGUN_API_KEY")
    for _name in ("MAILGUN_SENDER_DOMAIN", "MAILGUN_API_URL"):
        if env.str(_name, default=""):
            ANYMAIL[_name] = env.str(_name)
elif EMAIL_URL:
    try:
        _url = environ.Env.email_url_config(EMAIL_URL)
    except Exception as exc:
        raise ImproperlyConfigured(f"EMAIL_URL could not be parsed: {exc}") from exc
    _mailer = {"BACKEND": _url["EMAIL_BACKEND"]}
    if _url["EMAIL_BACKEND"] == SMTP_BACKEND:
        _mailer["OPTIONS"] = {option: _url[key] for key, option in _SMTP_OPTIONS.items() if _url.get(key) is not None}
        _mailer["OPTIONS"]["timeout"] = EMAIL_TIMEOUT_SECONDS
    elif _url["EMAIL_BACKEND"] == "django.core.mail.backends.filebased.EmailBackend":
        _mailer["OPTIONS"] = {"file_path": "/" + _url["EMAIL_FILE_PATH"]}
else:
    _mailer = {"BACKEND": DEV_MAIL_BACKEND, "OPTIONS": {"file_path": MAIL_DIR}}
MAILERS = {"default": _mailer}
if env.str("MAILGUN_WEBHOOK_SIGNING_KEY", default=""):
    ANYMAIL["MAILGUN_WEBHOOK_SIGNING_KEY"] = env.str("MAILGUN_WEBHOOK_SIGNING_KEY")

# --- The outbox (lib.outbox) ----------------------------------------------------------
# Attempts at one message before it fails for good and an operator sees it
# (`manage.py outbox --failed`); between them the wait grows: 1 min, 5 min, 30 min, 2 h, 12 h.
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=6)
# A worker's claim on a message it is sending runs out after this long; another worker may
# then take it over (the first one died). Longer than a send task may live (its hard time
# limit), so a worker that is still sending is never taken over.
OUTBOX_CLAIM_SECONDS = OUTBOX_TASK_TIME_LIMIT + 60

# --- Webhooks (webhooks/) ---------------------------------------------------------------
# Attempts at one delivery before it fails; between them 1 min, 5 min, 30 min, 2 h, then 12 h (±20%).
WEBHOOK_MAX_ATTEMPTS = env.int("WEBHOOK_MAX_ATTEMPTS", default=8)
# Seconds to connect to a subscriber's server, and again to wait for its answer.
WEBHOOK_TIMEOUT = env.int("WEBHOOK_TIMEOUT", default=10)
# Endpoints must be https:// (and are refused otherwise) unless this is off; off while debugging.
WEBHOOK_REQUIRE_HTTPS = env.bool("WEBHOOK_REQUIRE_HTTPS", default=not DEBUG)
# Private, loopback, link-local and other non-public addresses are refused (SSRF) unless this is
# on: for an operator whose subscribers live on the same private network, and for the tests.
WEBHOOK_ALLOW_PRIVATE_ADDRESSES = env.bool("WEBHOOK_ALLOW_PRIVATE_ADDRESSES", default=False)
# Like an email's claim: outlives the send task's hard time limit.
WEBHOOK_CLAIM_SECONDS = OUTBOX_TASK_TIME_LIMIT + 60

# Messages written in bulk (`outbox_enqueue_many`: reminders, notices of undelivered mail) are
# rendered when sent, from the ids they carry, by their app's builder: template → builder.
# The outbox sits below every app, so the project names them here, as it names the beat's tasks.
OUTBOX_CONTEXT_BUILDERS = {
    "followup_reminder": "followups.sweep.reminder_context",
    "target_ask_undelivered": "intros.services.undelivered_ask_context",
    "introduction_undelivered": "intros.services.undelivered_introduction_context",
}
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="Warm Intros <hello@warm-intros.test>")
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
TARGET_LINK_MAX_AGE_DAYS = env.int("TARGET_LINK_MAX_AGE_DAYS", default=14)
STEP_BACK_LINK_MAX_AGE_DAYS = env.int("STEP_BACK_LINK_MAX_AGE_DAYS", default=365)
INVITATION_MAX_AGE_DAYS = env.int("INVITATION_MAX_AGE_DAYS", default=14)
# A target who has not answered is asked once more after this many days, then the request expires.
TARGET_ANSWER_WAIT_DAYS = env.int("TARGET_ANSWER_WAIT_DAYS", default=7)
TARGET_MAX_REASKS = env.int("TARGET_MAX_REASKS", default=1)

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
    # Every request to the JSON API (api/), per person, whether by token or session.
    "api": env_rate("RATE_LIMIT_API", "1000/1h"),
    "webhook_test": env_rate("RATE_LIMIT_WEBHOOK_TESTS", "10/1h"),
}
# Tests give each test its own prefix, so counts start at zero without flushing Redis.
RATE_LIMIT_KEY_PREFIX = "ratelimit"

# --- Contact import (contacts.services) ----------------------------------------------------
# The most contacts one uploaded file may hold; a larger file is refused, naming both numbers.
IMPORT_MAX_ROWS = env.int("IMPORT_MAX_ROWS", default=50_000)

# --- Answers kept until what they are made of changes (lib.freshness) -------------
# Each is kept this many seconds at most, and dropped as soon as a person's data changes;
# 0 turns it off: the coach dashboard's numbers and each calendar feed.
DASHBOARD_CACHE_SECONDS = env.int("DASHBOARD_CACHE_SECONDS", default=60)
CALENDAR_CACHE_SECONDS = env.int("CALENDAR_CACHE_SECONDS", default=60)
FRESHNESS_KEY_PREFIX = "kept"

# --- Internationalisation -----------------------------------------------------------
LANGUAGE_CODE = "en-gb"
TIME_ZONE = env.str("DJANGO_TIME_ZONE", default="UTC")
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
DATA_EXPORT_DIR = Path(env.str("DATA_EXPORT_DIR", default="") or VAR_DIR / "exports")
DATA_EXPORT_KEPT_DAYS = env.int("DATA_EXPORT_KEPT_DAYS", default=7)
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

_https = env.bool("DJANGO_HTTPS", default=not DEBUG)
SESSION_COOKIE_SECURE = _https
CSRF_COOKIE_SECURE = _https
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=_https)
SECURE_HSTS_SECONDS = env.int("DJANGO_HSTS_SECONDS", default=60 * 60 * 24 * 365 if _https else 0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = env.bool("DJANGO_HSTS_PRELOAD", default=SECURE_HSTS_SECONDS > 0)
BEHIND_PROXY = env.bool("DJANGO_BEHIND_PROXY", default=False)
if BEHIND_PROXY:
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

# --- Logging ---------------------------------------------------------------------------
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
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

# --- The least each number may be (django-environ parses them; this refuses nonsense) ----------
for _name, _least in {
    "DATABASE_CONN_MAX_AGE": 0,
    "SWEEP_INTERVAL_SECONDS": 1,
    "OUTBOX_TASK_TIME_LIMIT": 60,
    "SWEEP_TASK_TIME_LIMIT": 60,
    "EMAIL_TIMEOUT": 1,
    "OUTBOX_MAX_ATTEMPTS": 1,
    "WEBHOOK_MAX_ATTEMPTS": 1,
    "WEBHOOK_TIMEOUT": 1,
    "TARGET_LINK_MAX_AGE_DAYS": 1,
    "STEP_BACK_LINK_MAX_AGE_DAYS": 1,
    "INVITATION_MAX_AGE_DAYS": 1,
    "TARGET_ANSWER_WAIT_DAYS": 1,
    "TARGET_MAX_REASKS": 0,
    "IMPORT_MAX_ROWS": 1,
    "DASHBOARD_CACHE_SECONDS": 0,
    "CALENDAR_CACHE_SECONDS": 0,
    "DATA_EXPORT_KEPT_DAYS": 1,
    "DJANGO_HSTS_SECONDS": 0,
}.items():
    if env.int(_name, default=_least) < _least:
        raise ImproperlyConfigured(f"{_name}={env.str(_name)!r} must be at least {_least}.")
