"""Production-like settings for the benchmark: DEBUG off, the bench urlconf (with the floor
page), a broker that needs no server, and hosts the test client and gunicorn answer to."""

import os
import warnings

# config.settings derives HTTPS redirects and the manifest static storage from DEBUG at import;
# the benchmark speaks plain HTTP on loopback and has no collected static files, so it imports
# with those off and turns DEBUG off afterwards.
os.environ["DJANGO_DEBUG"] = "true"
os.environ["DJANGO_HTTPS"] = "false"
os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only-secret-key-0123456789abcdefghijklmnopqrstuvwxyz")

from config.settings import *  # noqa: F403

DEBUG = False
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
ROOT_URLCONF = "bench.urls"
# Kombu's in-memory transport: publishing a send task costs what serialising it costs,
# without a Redis round trip or the filesystem broker's one file per message.
CELERY_BROKER_URL = "memory://"
CELERY_BROKER_TRANSPORT_OPTIONS = {}
CELERY_TASK_ALWAYS_EAGER = False
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
LOGGING = {**LOGGING, "root": {"handlers": ["console"], "level": "WARNING"}}  # noqa: F405
# Whitenoise looks for collected static files, which the benchmark does not need.
warnings.filterwarnings("ignore", "No directory at", UserWarning)
