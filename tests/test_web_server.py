"""gunicorn as deployed (config/gunicorn.py): a connection kept open between clicks never
stalls a ready request, and the next click rides the same connection.

Browsers, and a proxy keeping upstream connections, hold keep-alive connections open between
requests. gunicorn's sync worker answers "Connection: close" and serves one connection at a
time, so every click paid for a new connection, and a worker holding a connection whose
client had not yet sent its request left ready requests waiting: in `make bench`, 50 people
pausing 0.5-1.5 s between pages waited 211 ms at the median for pages of 10-26 ms (20 ms with
threaded workers). One worker process here serves more kept connections than it has threads.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
GUNICORN = Path(sys.executable).parent / "gunicorn"
# The longest the load test's people pause between two clicks (loadtest/locustfile.py), plus a second.
PAUSE_BETWEEN_CLICKS = 7
REQUEST = b"GET /accounts/login/ HTTP/1.1\r\nHost: localhost\r\nX-Forwarded-Proto: https\r\n\r\n"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def web(tmp_path: Path) -> Iterator[int]:
    port = _free_port()
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DJANGO_DEBUG": "true",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",  # the login page asks nothing of it
        "REDIS_URL": "",
        "WARM_VAR_DIR": str(tmp_path / "var"),
    }
    process = subprocess.Popen(
        [str(GUNICORN), "--config", "python:config.gunicorn", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            assert process.poll() is None, process.stdout.read().decode()
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert time.monotonic() < deadline, "gunicorn did not listen within 30 s"
                time.sleep(0.1)
        yield port
    finally:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=20)


def _answer(conn: socket.socket) -> bytes:
    """One whole response (headers and a Content-Length body) read from `conn`."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = conn.recv(65536)
        assert chunk, f"connection closed before an answer: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = next(
        int(line.split(b":", 1)[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length:")
    )
    while len(body) < length:
        chunk = conn.recv(65536)
        assert chunk, "connection closed in the middle of a body"
        body += chunk
    return head


def _still_open(conn: socket.socket) -> bool:
    """Open, with nothing said by the server (a closed connection reads as b"")."""
    timeout = conn.gettimeout()
    conn.setblocking(False)
    try:
        return conn.recv(1, socket.MSG_PEEK) != b""
    except BlockingIOError:
        return True
    except ConnectionResetError:
        return False
    finally:
        conn.settimeout(timeout)


def test_a_ready_request_is_answered_while_kept_connections_wait(web):
    # More people between two clicks than the worker has threads: each has had a page and
    # holds its connection open for the next one.
    people = [socket.create_connection(("127.0.0.1", web), timeout=10) for _ in range(8)]
    try:
        for conn in people:
            conn.sendall(REQUEST)
            assert _answer(conn).startswith(b"HTTP/1.1 200")
        with socket.create_connection(("127.0.0.1", web), timeout=10) as conn:
            conn.sendall(REQUEST)
            head = _answer(conn)
            assert head.startswith(b"HTTP/1.1 200"), head
        # ...and nobody was dropped to make room: every kept connection still takes a request.
        assert [_still_open(c) for c in people] == [True] * len(people)
        for conn in people:
            conn.sendall(REQUEST)
            assert _answer(conn).startswith(b"HTTP/1.1 200")
    finally:
        for conn in people:
            conn.close()


def test_the_next_click_rides_the_same_connection(web):
    with socket.create_connection(("127.0.0.1", web), timeout=10) as conn:
        conn.sendall(REQUEST)
        first = _answer(conn)
        assert b"connection: close" not in first.lower(), first
        conn.sendall(REQUEST)
        assert _answer(conn).startswith(b"HTTP/1.1 200")


def test_a_connection_kept_through_a_pause_still_takes_the_next_click(web):
    """gunicorn must not be the side that closes an idle connection a client means to reuse:
    a request sent as it closes gets no answer (`make loadtest` lost 2 of 16,172 requests
    so when gunicorn kept connections 5 s and its people paused 2-6 s between clicks)."""
    with socket.create_connection(("127.0.0.1", web), timeout=10) as conn:
        conn.sendall(REQUEST)
        assert _answer(conn).startswith(b"HTTP/1.1 200")
        time.sleep(PAUSE_BETWEEN_CLICKS)
        assert _still_open(conn)
        conn.sendall(REQUEST)
        assert _answer(conn).startswith(b"HTTP/1.1 200")
