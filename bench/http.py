"""The HTTP section: gunicorn on loopback (held to two CPUs) under a bounded load, once per
number of people in BENCH_HTTP_USERS (default 50, 100 and 200; the tiny scale: its own few).

wrk (Debian's `wrk`) drives it when installed: USERS connections, each waiting a think
time of 0.5–1.5 s between requests (wrk's `delay` hook), over a mix of the pages, each
with its role's session cookie. Without wrk a small threaded client does the same."""

from __future__ import annotations

import http.client
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from config import gunicorn as gunicorn_config

from .db import ROOT, bench_env
from .pages import percentile

THINK_MS = (500, 1500)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _wait_for(port: int, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError("gunicorn exited before it listened")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"gunicorn did not listen on {port} within {timeout} s")


WRK_SCRIPT = """
local targets = {TARGETS}
local think_lo, think_hi = {THINK_LO}, {THINK_HI}
local threads = {}
function setup(thread)
  table.insert(threads, thread)
end
function init(args)
  non200 = 0
  math.randomseed(os.time() + math.floor(os.clock() * 1e6))
  requests = {}
  for i, t in ipairs(targets) do
    requests[i] = wrk.format("GET", t[1], {["Cookie"] = t[2], ["Host"] = "127.0.0.1"})
  end
end
function delay()
  return math.random(think_lo, think_hi)
end
function request()
  return requests[math.random(#requests)]
end
function response(status, headers, body)
  if status ~= 200 then non200 = non200 + 1 end
end
function done(summary, latency, requests)
  local bad = 0
  for _, t in ipairs(threads) do bad = bad + t:get("non200") end
  local e = summary.errors
  io.write(string.format(
    'WRKJSON {"requests": %d, "duration_us": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d, ' ..
    '"non200": %d, "connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}\\n',
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(95), latency:percentile(99),
    latency.max, bad, e.connect, e.read, e.write, e.status, e.timeout))
end
"""


def _lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _run_wrk(port: int, targets: list[tuple[str, str]], users: int, seconds: int) -> dict:
    lua = (
        WRK_SCRIPT.replace(
            "{TARGETS}", "{" + ", ".join("{" + _lua_string(p) + ", " + _lua_string(c) + "}" for p, c in targets) + "}"
        )
        .replace("{THINK_LO}", str(THINK_MS[0]))
        .replace("{THINK_HI}", str(THINK_MS[1]))
    )
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(lua)
    try:
        process = subprocess.run(
            [
                "wrk",
                "-t",
                "2",
                "-c",
                str(users),
                "-d",
                f"{seconds}s",
                "--timeout",
                "10s",
                "-s",
                f.name,
                f"http://127.0.0.1:{port}/",
            ],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        )
    finally:
        os.unlink(f.name)
    line = next((out for out in process.stdout.splitlines() if out.startswith("WRKJSON ")), None)
    if line is None:
        raise RuntimeError(f"wrk printed no summary:\n{process.stdout}\n{process.stderr}")
    raw = json.loads(line.removeprefix("WRKJSON "))
    errors = raw["non200"] + raw["connect"] + raw["read"] + raw["write"] + raw["timeout"]
    return {
        "tool": "wrk",
        "requests": raw["requests"],
        "rps": raw["requests"] / (raw["duration_us"] / 1e6),
        "p50_ms": raw["p50_us"] / 1000,
        "p95_ms": raw["p95_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
        "max_ms": raw["max_us"] / 1000,
        "errors": errors,
        "error_detail": {k: raw[k] for k in ("non200", "connect", "read", "write", "timeout")},
    }


def _run_threads(port: int, targets: list[tuple[str, str]], users: int, seconds: int) -> dict:
    """The fallback load: one thread per user, the same think time, stdlib http.client."""
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    stop = time.monotonic() + seconds

    def user(seed: int) -> None:
        rng = random.Random(seed)
        while True:
            time.sleep(rng.uniform(*THINK_MS) / 1000)
            if time.monotonic() >= stop:
                return
            path, cookie = rng.choice(targets)
            start = time.perf_counter()
            ok = False
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("GET", path, headers={"Cookie": cookie})
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
                conn.close()
            except OSError:
                pass
            elapsed = (time.perf_counter() - start) * 1000
            with lock:
                latencies.append(elapsed)
                errors[0] += not ok

    started = time.monotonic()
    threads = [threading.Thread(target=user, args=(n,)) for n in range(users)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    duration = time.monotonic() - started
    return {
        "tool": "python threads (wrk not installed)",
        "requests": len(latencies),
        "rps": len(latencies) / duration,
        "p50_ms": percentile(latencies, 50),
        "p95_ms": percentile(latencies, 95),
        "p99_ms": percentile(latencies, 99),
        "max_ms": max(latencies, default=float("nan")),
        "errors": errors[0],
    }


def users_setting(default: tuple[int, ...]) -> list[int]:
    """BENCH_HTTP_USERS: how many people, one run each against the same gunicorn ("50,100,200")."""
    raw = os.environ.get("BENCH_HTTP_USERS", "").strip()
    if not raw:
        return list(default)
    try:
        users = [int(part) for part in raw.split(",") if part.strip()]
    except ValueError:
        raise SystemExit(
            f"BENCH_HTTP_USERS={raw!r}: give whole numbers separated by commas, e.g. 50,100,200."
        ) from None
    if not users or min(users) < 1:
        raise SystemExit(f"BENCH_HTTP_USERS={raw!r}: give at least one number of people, each at least 1.")
    return users


def workers_setting(default: int) -> int:
    raw = os.environ.get("BENCH_HTTP_WORKERS", "").strip()
    return int(raw) if raw else default


# The machine: two cores. On a larger one gunicorn is held to two, so the numbers stay
# comparable (wrk and the bench process run on any).
GUNICORN_CPUS = 2


def _pin() -> None:
    cpus = sorted(os.sched_getaffinity(0))
    if len(cpus) > GUNICORN_CPUS:
        os.sched_setaffinity(0, cpus[:GUNICORN_CPUS])


def measure(database: str, targets: list[tuple[str, str]], *, users: list[int], seconds: int, workers: int = 3) -> dict:
    """One gunicorn, then one load run per number of people in `users`, one after the other."""
    port = _free_port()
    gunicorn = str(Path(sys.executable).parent / "gunicorn")
    process = subprocess.Popen(
        [
            gunicorn,
            "--config",
            "python:config.gunicorn",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            str(workers),
            "--timeout",
            "30",
            "--log-level",
            "warning",
        ],
        cwd=ROOT,
        env=bench_env(database),
        start_new_session=True,
        preexec_fn=_pin,
    )
    runs = []
    try:
        _wait_for(port, process)

        # Each worker connects and compiles templates on its first requests: not what is measured.
        def warm(path: str, cookie: str) -> None:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
            conn.request("GET", path, headers={"Cookie": cookie})
            conn.getresponse().read()
            conn.close()

        with ThreadPoolExecutor(workers) as pool:
            list(pool.map(lambda t: warm(*t), targets * workers))
        run = _run_wrk if shutil.which("wrk") else _run_threads
        for n in users:
            print(f"  HTTP: {n} people for {seconds} s", flush=True)
            result = run(port, targets, n, seconds)
            result["users"] = n
            runs.append(result)
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    return {
        "runs": runs,
        "tool": runs[0]["tool"] if runs else "",
        "seconds": seconds,
        "workers": workers,
        "threads": gunicorn_config.threads,
        "cpus": min(len(os.sched_getaffinity(0)), GUNICORN_CPUS),
        "think_ms": list(THINK_MS),
        "pages": sorted({p for p, _ in targets}),
    }
