"""The test suite's settings: config.settings in development mode, as `make run` has it.

config.settings is production when nothing is set (DEBUG off, so a secret key and the hosts
must be given, HTTPS on). The suite runs as a developer does: DJANGO_DEBUG=true unless the
environment says otherwise, set in the environment itself so that the processes tests start
(a Celery worker, gunicorn, manage.py) read the same. Tests of production settings
(tests/test_deploy.py) start their own process with the production variables."""

import os

os.environ.setdefault("DJANGO_DEBUG", "true")

from config.settings import *  # noqa: F403
