"""`manage.py check --deploy` with the production variables from README.md.

Run in a subprocess: the settings module reads the environment once, at import.
"""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent

PRODUCTION = {
    "DJANGO_DEBUG": "false",
    "DJANGO_ALLOWED_HOSTS": "warm.example.com",
    "SITE_URL": "https://warm.example.com",
}


def _check_deploy(**overrides: str) -> subprocess.CompletedProcess[str]:
    # Drop every inherited DJANGO_* switch (HTTPS, HSTS, proxy) so only what the test names counts;
    # DATABASE_URL and REDIS_URL are inherited: the checks do not open a connection.
    env = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO_") and k != "SITE_URL"}
    env |= PRODUCTION | {"DJANGO_SECRET_KEY": secrets.token_urlsafe(50)} | overrides
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_passes_with_production_variables():
    result = _check_deploy()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_fails_when_https_is_switched_off():
    result = _check_deploy(DJANGO_HTTPS="false")
    output = result.stdout + result.stderr
    assert result.returncode != 0, output
    assert "security.W008" in output  # SECURE_SSL_REDIRECT
    assert "security.W012" in output  # SESSION_COOKIE_SECURE


def test_production_refuses_to_start_without_a_secret_key():
    result = _check_deploy(DJANGO_SECRET_KEY="")
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr


def _settings_with(**env: str) -> subprocess.CompletedProcess[str]:
    """config.settings read in a process of its own, with only `env` set beside PATH."""
    code = (
        "import django; django.setup(); from django.conf import settings as s; print(s.DEBUG, s.SESSION_COOKIE_SECURE)"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env={"PATH": os.environ["PATH"], "DJANGO_SETTINGS_MODULE": "config.settings"} | env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_with_nothing_set_the_settings_are_production():
    bare = _settings_with()
    assert bare.returncode != 0 and "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is false" in bare.stderr
    given = _settings_with(DJANGO_SECRET_KEY=secrets.token_urlsafe(50), DJANGO_ALLOWED_HOSTS="warm.example.com")
    assert given.stdout.split() == ["False", "True"], given.stderr
    development = _settings_with(DJANGO_DEBUG="true")
    assert development.stdout.split() == ["True", "False"], development.stderr


def test_an_empty_variable_counts_as_unset():
    result = _check_deploy(DJANGO_HTTPS="", DJANGO_HSTS_SECONDS="")
    assert result.returncode == 0, result.stdout + result.stderr


def test_a_number_below_its_least_value_stops_the_start():
    result = _settings_with(DJANGO_DEBUG="true", TARGET_LINK_MAX_AGE_DAYS="0")
    assert result.returncode != 0 and "TARGET_LINK_MAX_AGE_DAYS='0' must be at least 1." in result.stderr
