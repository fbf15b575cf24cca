import os
import uuid

import pytest

# Playwright's sync API runs an event loop in the test thread; live_server's ORM
# calls from that thread are safe here (one thread per test).
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")

# WARM_TEST_NOW=2026-12-05T23:30:00+00:00 runs the whole session from that moment (the clock
# ticks on from there), to catch tests that pass only on some days or at some hours. Started
# in pytest_configure, before the test database exists; unset, nothing changes. Only this
# process moves: the browser and faults tests (Chromium, Celery subprocesses) keep the real clock.
_session_clock = None


def pytest_configure(config):
    global _session_clock
    if worker := os.environ.get("PYTEST_XDIST_WORKER"):
        # Under pytest-xdist (`make test-fast`) each worker has a test database of its own
        # (pytest-django names it test_…_gw0, _gw1 …), so ids repeat from one worker to the next,
        # while Redis is one database for all: the cache keys the app builds from ids (an
        # import's progress) get the worker's name in front. Set before anything opens the cache.
        from django.conf import settings

        for cache in settings.CACHES.values():
            cache["KEY_PREFIX"] = f"{worker}-{cache.get('KEY_PREFIX', '')}"
    if moment := os.environ.get("WARM_TEST_NOW"):
        import datetime as dt

        import time_machine

        start = dt.datetime.fromisoformat(moment)
        if start.tzinfo is None:
            raise pytest.UsageError(f"WARM_TEST_NOW needs a UTC offset, e.g. 2026-12-05T23:30:00+00:00, not {moment!r}")
        _session_clock = time_machine.travel(start, tick=True)
        _session_clock.start()


def pytest_unconfigure(config):
    global _session_clock
    if _session_clock is not None:
        _session_clock.stop()
        _session_clock = None


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    # PBKDF2's deliberate slowness is for production, not for thousands of test users.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_rate_limits(settings):
    """Every test counts its attempts from zero; the limits themselves stay on. A prefix of its
    own rather than `cache.clear()`, which on Redis would flush the database the Celery broker
    shares (and other people's tests on the same server)."""
    settings.RATE_LIMIT_KEY_PREFIX = f"ratelimit-test-{uuid.uuid4().hex}"
    settings.FRESHNESS_KEY_PREFIX = f"kept-test-{uuid.uuid4().hex}"  # the same for kept answers


@pytest.fixture(scope="session")
def data_export_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("data-exports")


def storages_with_data_exports_in(location) -> dict:
    """settings.STORAGES with the "Download all my data" files in `location`."""
    from django.conf import settings

    storage = settings.STORAGES["data_exports"]
    return {**settings.STORAGES, "data_exports": {**storage, "OPTIONS": {**storage["OPTIONS"], "location": location}}}


@pytest.fixture(autouse=True)
def _data_exports_in_a_temporary_folder(settings, data_export_dir):
    """Downloads the tests prepare ("Download all my data") go under pytest's temporary folder,
    not the repository's var/."""
    settings.STORAGES = storages_with_data_exports_in(data_export_dir)


@pytest.fixture(autouse=True)
def _celery_eager(settings):
    """Tasks run inline in tests (the real worker is exercised in tests/test_services.py)."""
    from config.celery import app

    app.conf.task_always_eager = True
    app.conf.task_eager_propagates = True
    yield


@pytest.fixture(scope="session")
def _mail_key_recorder():
    """Every email the suite writes or sends, checked as it goes (tests/mail_keys.py)."""
    from tests.mail_keys import Recorder, keys

    keys()  # fails loudly, before any test, if the URLconf names no no-login key route
    recorder = Recorder()
    recorder.install()
    yield recorder
    recorder.uninstall()


@pytest.fixture(autouse=True)
def _no_login_links_go_to_their_owner_alone(_mail_key_recorder):
    """A no-login link (target answer, step back, feedback, invitation, calendar, password reset)
    only ever goes in an email with one recipient: checked after every test, over every email
    written or sent since the last check (a module's shared world included)."""
    yield
    found = _mail_key_recorder.drain()
    if found:
        pytest.fail("No-login links sent to more than their owner:\n" + "\n".join(found), pytrace=False)


@pytest.fixture
def seeker(db):
    from tests.factories import UserFactory

    return UserFactory(full_name="Janet Seeker")


@pytest.fixture
def connector(db):
    from tests.factories import UserFactory

    return UserFactory(full_name="Jill Connector")


@pytest.fixture
def outsider(db):
    from tests.factories import UserFactory

    return UserFactory(full_name="Olive Outsider")


@pytest.fixture
def cohort(db, seeker, connector):
    from tests.factories import CohortFactory, MembershipFactory

    cohort = CohortFactory()
    MembershipFactory(cohort=cohort, user=seeker)
    MembershipFactory(cohort=cohort, user=connector)
    return cohort


@pytest.fixture
def member(db, cohort):
    """A third member of the same cohort: not the seeker, not the connector."""
    from tests.factories import MembershipFactory, UserFactory

    user = UserFactory(full_name="Max Member")
    MembershipFactory(cohort=cohort, user=user)
    return user


@pytest.fixture
def target(db, connector):
    from tests.factories import ContactFactory

    return ContactFactory(owner=connector, name="Carol Target", email="carol@example.org", shareable=True)


def login(client, user):
    client.force_login(user)
    return client


# Which tests `make test-fast` leaves out is declared by marks (pyproject.toml), not by paths: a
# test that starts Chromium or the broken-on-purpose stack must carry the mark that says so.
_FIXTURE_NEEDS_MARK = {"browser": "browser", "faults": "faults"}


def pytest_collection_modifyitems(config, items):
    unmarked = [
        f"{item.nodeid} uses the `{fixture}` fixture: mark it `pytest.mark.{mark}`"
        for item in items
        for fixture, mark in _FIXTURE_NEEDS_MARK.items()
        if fixture in item.fixturenames and item.get_closest_marker(mark) is None
    ]
    if unmarked:
        raise pytest.UsageError("\n".join(unmarked))


def pytest_runtest_setup(item):
    """A test marked `services` needs PostgreSQL (and Redis when it says so): it fails, never skips."""
    marker = item.get_closest_marker("services")
    if marker is None:
        return
    missing = []
    if not os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        missing.append("DATABASE_URL=postgres://…")
    if marker.kwargs.get("redis") and not os.environ.get("REDIS_URL"):
        missing.append("REDIS_URL=redis://…")
    if missing:
        pytest.fail(f"This test needs the real services: set {' and '.join(missing)} (`make test` does).")
