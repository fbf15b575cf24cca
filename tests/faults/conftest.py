"""Fault tests: the real stack (gunicorn, Celery worker and beat, PostgreSQL, Redis) as
separate processes, which a test kills, stops or cuts off on purpose.

The processes use the test database (`DATABASE_TEST_NAME`) and the Redis database of
`REDIS_URL`, which is flushed before and after each test; every test is `transaction=True`,
so what the test writes is committed and the processes see it.
"""

from __future__ import annotations

import datetime as dt
import http.client
import re
import urllib.parse
from collections.abc import Iterator
from contextlib import suppress
from http.cookies import SimpleCookie
from pathlib import Path

import psycopg
import pytest
from django.conf import settings
from django.db import connection

from loadtest import stack
from tests.mail_keys import assert_no_problems, check_mail_dir

# The advisory-lock key a gate waits on (any number no other code uses).
GATE_KEY = 0x57A2_6A7E


@pytest.fixture(autouse=True)
def _no_digests(monkeypatch):
    """Users made here get no daily-digest schedule: each test counts one kind of message."""
    from followups import receivers

    monkeypatch.setattr(receivers.digests, "schedule_for", lambda *args, **kwargs: None)


def stack_database_url(**query: str) -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    base = f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return stack.database_url(base, db["NAME"], **query)


def admin_connection() -> psycopg.Connection:
    """A connection of the test's own, outside Django's (which the test's ORM calls use)."""
    db = connection.settings_dict
    return psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname=db["NAME"],
        autocommit=True,
    )


@pytest.fixture(scope="session")
def _static_collected() -> None:
    env = stack.django_env(database_url="", redis_url="", var_dir=Path("/tmp"))
    stack.collectstatic(env)


class Stack:
    """Starts processes of the stack for one test and stops whatever is left at the end."""

    def __init__(self, directory: Path, redis_url: str):
        self.dir = directory
        self.redis_url = redis_url
        self.processes: list[stack.Process] = []
        self.mail_dir = directory / "mail"

    def env(self, *, redis_url: str | None = None, app: str = "warm_faults_stack", **extra: str) -> dict[str, str]:
        return stack.django_env(
            database_url=stack_database_url(application_name=app),
            redis_url=redis_url or self.redis_url,
            var_dir=self.dir,
            secret_key=settings.SECRET_KEY,  # the test's force_login sessions are valid in gunicorn
            sweep_interval=1,
            **extra,
        )

    def track(self, process: stack.Process) -> stack.Process:
        self.processes.append(process)
        return process

    def worker(
        self, name: str = "worker", *, launcher: list[str] | None = None, wait: bool = True, **env
    ) -> stack.Process:
        process = self.track(stack.celery_worker(self.env(**env), self.dir, name=name, launcher=launcher, wait=False))
        return stack.await_ready(process) if wait else process

    def beat(
        self,
        name: str = "beat",
        *,
        schedule: Path | None = None,
        launcher: list[str] | None = None,
        wait: bool = True,
        **env,
    ) -> stack.Process:
        process = self.track(
            stack.celery_beat(self.env(**env), self.dir, name=name, schedule=schedule, launcher=launcher, wait=False)
        )
        return stack.await_ready(process) if wait else process

    def web(self, **env) -> Web:
        port = stack.free_port()
        process = self.track(stack.gunicorn(self.env(app="warm_faults_web", **env), self.dir, port=port))
        return Web(port, process)

    def redis_server(self) -> stack.RedisServer:
        server = stack.RedisServer(self.dir)
        self.track(server)
        return server.start()

    def logs(self) -> str:
        return "\n".join(p.tail() for p in self.processes)

    def stop_all(self) -> None:
        for process in reversed(self.processes):
            with suppress(Exception):
                process.stop(timeout=20)


@pytest.fixture
def faults(transactional_db, tmp_path: Path, _static_collected) -> Iterator[Stack]:
    """Processes on the test database and REDIS_URL's Redis database (flushed around the test)."""
    import redis

    broker = settings.REDIS_URL
    redis.Redis.from_url(broker).flushdb()
    running = Stack(tmp_path, broker)
    try:
        yield running
    finally:
        running.stop_all()
        redis.Redis.from_url(broker).flushdb()
        # No process of ours may still hold a connection when pytest-django empties the tables.
        with admin_connection() as admin:
            admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE datname = current_database() AND application_name LIKE 'warm_faults_%%'"
            )
    # What the real worker wrote obeys the rule every in-process email is held to (tests/mail_keys.py).
    assert_no_problems(check_mail_dir(running.mail_dir))


class Gate:
    """Stops transactions inside PostgreSQL at an INSERT, until the test opens the gate.

    A trigger on `table` makes the `at`-th row inserted (counted by a sequence, which no
    rollback resets) and every later one wait on an advisory lock that the test holds. The
    code under test runs unchanged: a real process, stopped at a real point of its transaction.
    """

    def __init__(self, table: str, *, at: int = 1, when: str = "true"):
        self.table, self.at, self.when = table, at, when
        self.admin = admin_connection()

    def install(self) -> Gate:
        self.admin.execute("SELECT pg_advisory_lock(%s)", [GATE_KEY])
        self._drop()  # whatever a killed run may have left
        self.admin.execute("CREATE SEQUENCE warm_faults_gate_seq")
        self.admin.execute(
            f"""
            CREATE FUNCTION warm_faults_gate() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF nextval('warm_faults_gate_seq') >= {int(self.at)} THEN
                    PERFORM pg_advisory_xact_lock_shared({GATE_KEY});
                END IF;
                RETURN NEW;
            END $$
            """
        )
        self.admin.execute(
            f"CREATE TRIGGER warm_faults_gate BEFORE INSERT ON {self.table} FOR EACH ROW "
            f"WHEN ({self.when}) EXECUTE FUNCTION warm_faults_gate()"
        )
        return self

    def waiting(self) -> list[int]:
        """Backends stopped at the gate."""
        rows = self.admin.execute(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = %s",
            [GATE_KEY & 0xFFFFFFFF],
        ).fetchall()
        return [pid for (pid,) in rows]

    def open(self) -> None:
        self.admin.execute("SELECT pg_advisory_unlock_all()")

    def backend_alive(self, pid: int) -> bool:
        return bool(self.admin.execute("SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone())

    def remove(self) -> None:
        if self.admin.closed:
            return
        self.open()
        self._drop()
        self.admin.close()

    def _drop(self) -> None:
        self.admin.execute(f"DROP TRIGGER IF EXISTS warm_faults_gate ON {self.table}")
        self.admin.execute("DROP FUNCTION IF EXISTS warm_faults_gate()")
        self.admin.execute("DROP SEQUENCE IF EXISTS warm_faults_gate_seq")


@pytest.fixture
def gate() -> Iterator[type[Gate]]:
    made: list[Gate] = []

    def make(table: str, **kwargs) -> Gate:
        made.append(Gate(table, **kwargs).install())
        return made[-1]

    yield make  # type: ignore[misc]
    for each in made:
        each.remove()


class Web:
    """gunicorn on a free port, and a tiny HTTP client with cookies and Django's CSRF token."""

    def __init__(self, port: int, process: stack.Process):
        self.port, self.process = port, process

    def client(self, session_key: str | None = None) -> Browser:
        return Browser(self.port, session_key)


class Browser:
    def __init__(self, port: int, session_key: str | None):
        self.port = port
        self.cookies: dict[str, str] = {}
        if session_key:
            self.cookies[settings.SESSION_COOKIE_NAME] = session_key

    def request(self, method: str, path: str, data: dict | None = None, timeout: float = 40) -> tuple[int, str, dict]:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        headers = {"Cookie": "; ".join(f"{k}={v}" for k, v in self.cookies.items())}
        body = None
        if method == "POST":
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            headers["X-CSRFToken"] = self.cookies.get(settings.CSRF_COOKIE_NAME, "")
            body = urllib.parse.urlencode(data or {}, doseq=True)
        try:
            conn.request(method, path, body=body, headers=headers)
            response = conn.getresponse()
            text = response.read().decode(errors="replace")
            for header in response.headers.get_all("Set-Cookie") or []:
                for name, morsel in SimpleCookie(header).items():
                    self.cookies[name] = morsel.value
            return response.status, text, dict(response.headers)
        finally:
            conn.close()

    def get(self, path: str) -> tuple[int, str, dict]:
        return self.request("GET", path)

    def post(self, path: str, data: dict | None = None) -> tuple[int, str, dict]:
        if settings.CSRF_COOKIE_NAME not in self.cookies:
            self.get("/")  # any page with a form sets the CSRF cookie
        return self.request("POST", path, data)


def session_for(user) -> str:
    """A logged-in session in the database, as the test client's force_login makes it."""
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client.cookies[settings.SESSION_COOKIE_NAME].value


def open_hours_now() -> dict:
    """Quiet hours that are over right now, whatever the time of day the test runs."""
    now = dt.datetime.now(dt.UTC)
    return {
        "time_zone": "UTC",
        "quiet_hours_start": (now + dt.timedelta(hours=3)).time().replace(microsecond=0, second=0),
        "quiet_hours_end": (now - dt.timedelta(hours=3)).time().replace(microsecond=0, second=0),
    }


TITLE = re.compile(r"<title>(.*?)</title>", re.S)
