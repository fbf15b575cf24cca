"""The production stack as real processes on loopback: redis-server, gunicorn (config.wsgi),
Celery worker and beat. Used by the load test (`python -m loadtest`) and the fault tests
(tests/faults/), which kill, stop and restart these processes on purpose.

Every wait here polls a condition against a deadline; nothing sleeps a guessed time.
"""

from __future__ import annotations

import contextlib
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent

# A secret of its own: sessions made by one process (a test's force_login) must be valid in
# another (gunicorn), so the caller passes the same key to both.
DEFAULT_SECRET_KEY = "loadtest-and-fault-tests-only-0123456789abcdefghijklmnopqrstuvwxyz"


def wait_until[T](
    predicate: Callable[[], T],
    *,
    timeout: float,
    what: str,
    interval: float = 0.05,
    diagnostics: Callable[[], str] | None = None,
) -> T:
    """Poll `predicate` until it returns something truthy; fail with `what` after `timeout` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            detail = f"\n{diagnostics()}" if diagnostics else ""
            raise TimeoutError(f"Not within {timeout:g} s: {what}{detail}")
        time.sleep(interval)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def database_url(base: str, name: str, **query: str) -> str:
    """`base` (a postgres:// URL) with its database replaced by `name`."""
    head = base.split("?", 1)[0].rsplit("/", 1)[0]
    tail = "&".join(f"{k}={v}" for k, v in query.items())
    return f"{head}/{name}" + (f"?{tail}" if tail else "")


def django_env(
    *,
    database_url: str,
    redis_url: str,
    var_dir: Path,
    secret_key: str = DEFAULT_SECRET_KEY,
    sweep_interval: int = 2,
    **extra: str,
) -> dict[str, str]:
    """Production-like settings for a process of the stack: DEBUG off, plain HTTP on loopback."""
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "WARM_VAR_DIR": str(var_dir),
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": secret_key,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1,localhost",
        "DJANGO_HTTPS": "false",
        "SITE_URL": "http://127.0.0.1:8000",
        "SWEEP_INTERVAL_SECONDS": str(sweep_interval),
        "CELERY_TASK_ALWAYS_EAGER": "false",
        "PYTHONUNBUFFERED": "1",
        "LOG_LEVEL": "INFO",
    }
    env.pop("EMAIL_URL", None)  # the file backend: every email sent is a file under var_dir/mail
    env.update(extra)
    return env


def collectstatic(env: dict[str, str]) -> None:
    """DEBUG off serves the hashed, collected files (WhiteNoise's manifest), as in production."""
    subprocess.run([sys.executable, "manage.py", "collectstatic", "--no-input", "-v0"], cwd=ROOT, env=env, check=True)


class Process:
    """One long-running process with its output in `<log_dir>/<name>.log` (appended across restarts)."""

    ready_marker = " ready."  # what a Celery worker logs once it consumes

    def __init__(self, name: str, argv: list[str], *, env: dict[str, str], log_dir: Path):
        self.name, self.argv, self.env = name, argv, env
        self.log_path = log_dir / f"{name}.log"
        self.popen: subprocess.Popen | None = None
        self._log: IO | None = None
        self._log_start = 0

    def start(self) -> Process:
        self._log = open(self.log_path, "a")  # noqa: SIM115 (closed in stop)
        self._log_start = self._log.tell()
        self.popen = subprocess.Popen(
            self.argv, cwd=ROOT, env=self.env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True
        )
        return self

    @property
    def pid(self) -> int:
        assert self.popen is not None
        return self.popen.pid

    @property
    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def output(self, *, since_start: bool = True) -> str:
        """What this process wrote since its latest start (or in all its lives)."""
        if not self.log_path.exists():
            return ""
        with open(self.log_path, errors="replace") as log:
            if since_start:
                log.seek(self._log_start)
            return log.read()

    def tail(self, chars: int = 4000) -> str:
        return f"--- {self.name} (pid {self.popen.pid if self.popen else '-'}) ---\n{self.output()[-chars:]}"

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int | None:
        """Signal the process and wait for it; SIGKILL if it outlives `timeout`. Returns its exit code."""
        if self.popen is None:
            return None
        if self.popen.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.popen.pid, sig)
            try:
                self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.popen.pid, signal.SIGKILL)
                self.popen.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None
        return self.popen.returncode

    def kill(self) -> int | None:
        """SIGKILL: no shutdown code runs, as when the machine or the OOM killer takes it."""
        return self.stop(signal.SIGKILL, timeout=10)


class RedisServer(Process):
    """A private redis-server on its own port: nothing saved, so a restart starts empty."""

    def __init__(self, log_dir: Path, port: int | None = None):
        self.port = port or free_port()
        super().__init__(
            f"redis-{self.port}",
            [
                "redis-server",
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(log_dir),
            ],
            env=dict(os.environ),
            log_dir=log_dir,
        )

    def url(self, db: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{db}"

    def start(self) -> RedisServer:
        super().start()
        wait_until(lambda: port_open(self.port), timeout=15, what=f"redis-server on {self.port}", diagnostics=self.tail)
        return self

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15) -> int | None:
        code = super().stop(sig, timeout)
        wait_until(lambda: not port_open(self.port), timeout=10, what=f"port {self.port} closed")
        return code


def gunicorn(env: dict[str, str], log_dir: Path, *, port: int, workers: int = 1, name: str = "web") -> Process:
    """gunicorn as docker-compose runs it (config/gunicorn.py: threaded workers); started and listening."""
    process = Process(
        name,
        [
            str(BIN / "gunicorn"),
            "--config",
            "python:config.gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--access-logfile",
            str(log_dir / f"{name}-access.log"),
            # status, method, path, microseconds: what the load test counts
            "--access-logformat",
            '%(s)s %(m)s "%(U)s" %(D)s',
        ],
        env=env,
        log_dir=log_dir,
    ).start()
    wait_until(
        lambda: port_open(port) or not process.alive, timeout=30, what=f"gunicorn on {port}", diagnostics=process.tail
    )
    if not process.alive:
        raise RuntimeError(f"gunicorn exited at start\n{process.tail()}")
    return process


def celery_worker(
    env: dict[str, str],
    log_dir: Path,
    *,
    name: str = "worker",
    launcher: list[str] | None = None,
    wait: bool = True,
) -> Process:
    """`celery worker` as the Procfile runs it (solo pool); started and consuming.

    `launcher` runs Celery inside another module (e.g. one that controls the clock)."""
    argv = [
        *(launcher or [sys.executable, "-m", "celery"]),
        "-A",
        "config",
        "worker",
        "--pool=solo",
        "--without-gossip",
        "--without-mingle",
        "--without-heartbeat",
        "--loglevel=INFO",
        "-n",
        f"{name}@%h",
    ]
    process = Process(name, argv, env=env, log_dir=log_dir).start()
    return await_ready(process) if wait else process


def celery_beat(
    env: dict[str, str],
    log_dir: Path,
    *,
    name: str = "beat",
    schedule: Path | None = None,
    launcher: list[str] | None = None,
    wait: bool = True,
) -> Process:
    argv = [
        *(launcher or [sys.executable, "-m", "celery"]),
        "-A",
        "config",
        "beat",
        "--loglevel=INFO",
        "-s",
        str(schedule or log_dir / f"{name}-schedule"),
    ]
    process = Process(name, argv, env=env, log_dir=log_dir).start()
    process.ready_marker = "beat: Starting..."
    return await_ready(process) if wait else process


def await_ready(*processes: Process, timeout: float = 60) -> Process:
    """Wait until each process (started together, so their start-ups overlap) says it is ready."""
    for process in processes:
        wait_until(
            lambda p=process: p.ready_marker in p.output() or not p.alive,
            timeout=timeout,
            what=f"{process.name} ready",
            diagnostics=process.tail,
        )
        if not process.alive:
            raise RuntimeError(f"{process.name} exited at start\n{process.tail()}")
    return processes[0]


SUCCEEDED = re.compile(r"Task (?P<task>[\w.]+)\[(?P<id>[\w-]+)\] succeeded in [\d.]+s: (?P<result>.*)")


def tasks_succeeded(process: Process, task: str, *, since_start: bool = False) -> list[str]:
    """Results of `task` as the worker logged them, in order."""
    return [m["result"] for m in SUCCEEDED.finditer(process.output(since_start=since_start)) if m["task"] == task]
