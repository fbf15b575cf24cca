"""`make loadtest` (python -m loadtest): the whole stack under people, with the worker restarted.

gunicorn (config.wsgi, DEBUG off), a Celery worker and beat, PostgreSQL and Redis, all on
this machine; locust plays seekers, connectors, targets and coaches (loadtest/locustfile.py)
for LOADTEST_DURATION while the worker is stopped (SIGTERM) and started again at a third and
at two thirds of the run. Afterwards everything is given LOADTEST_FLUSH_DEADLINE seconds to
go out, then counted: requests, 5xx, p50/p95/p99, and every message created, sent, lost or
sent twice. Exits 1 on any 5xx, unanswered request, lost or duplicated message.
See loadtest/README.md.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import json
import os
import re
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import psycopg

from . import mailbox, stack

HERE = Path(__file__).resolve().parent


def duration_seconds(text: str) -> int:
    match = re.fullmatch(r"\s*(\d+)\s*([smh]?)\s*", text)
    if not match:
        raise SystemExit(f"LOADTEST_DURATION={text!r}: write it like 300, 300s, 5m or 1h")
    return int(match[1]) * {"": 1, "s": 1, "m": 60, "h": 3600}[match[2]]


class Config:
    def __init__(self, env: dict[str, str]):
        self.duration = duration_seconds(env.get("LOADTEST_DURATION", "5m"))
        self.users = int(env.get("LOADTEST_USERS", "100"))
        self.spawn_rate = float(env.get("LOADTEST_SPAWN_RATE", "2"))
        self.web_workers = int(env.get("LOADTEST_WEB_WORKERS", "4"))
        self.sweep_interval = int(env.get("LOADTEST_SWEEP_INTERVAL", "5"))
        self.flush_deadline = float(env.get("LOADTEST_FLUSH_DEADLINE", "120"))
        self.db_name = env.get("LOADTEST_DB_NAME", "warm_loadtest")
        if not self.db_name.startswith("warm_loadtest"):
            raise SystemExit(
                f"LOADTEST_DB_NAME={self.db_name!r}: it is dropped and made again, so it must start with warm_loadtest"
            )
        # Only the server of DATABASE_URL is used.
        self.server = env.get("DATABASE_URL") or "postgres://postgres@127.0.0.1:5432/postgres"
        self.redis_url = env.get("LOADTEST_REDIS_URL", "redis://127.0.0.1:6379/14")
        self.results = Path(env.get("LOADTEST_RESULTS_DIR", HERE / "results"))

    @property
    def database_url(self) -> str:
        return stack.database_url(self.server, self.db_name)


def say(text: str) -> None:
    print(f"[loadtest {time.strftime('%H:%M:%S')}] {text}", flush=True)


TEMPLATE = "warm_loadtest_template"


def migrations_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(stack.ROOT.glob("*/migrations/*.py")):
        digest.update(str(path.relative_to(stack.ROOT)).encode() + path.read_bytes())
    return "loadtest-migrations-" + digest.hexdigest()[:16]


def prepare_database(cfg: Config, env: dict[str, str]) -> None:
    """A fresh copy of a migrated, empty template (migrated again whenever a migration changes)."""
    stamp = migrations_digest()
    with psycopg.connect(stack.database_url(cfg.server, "postgres"), autocommit=True) as admin:
        row = admin.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", [TEMPLATE]
        ).fetchone()
        if row is None or row[0] != stamp:
            admin.execute(f'DROP DATABASE IF EXISTS "{TEMPLATE}" WITH (FORCE)')
            admin.execute(f'CREATE DATABASE "{TEMPLATE}"')
            subprocess.run(
                [sys.executable, "manage.py", "migrate", "--no-input", "-v0"],
                cwd=stack.ROOT,
                env={**env, "DATABASE_URL": stack.database_url(cfg.server, TEMPLATE)},
                check=True,
            )
            admin.execute(f"COMMENT ON DATABASE \"{TEMPLATE}\" IS '{stamp}'")
        admin.execute(f'DROP DATABASE IF EXISTS "{cfg.db_name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{cfg.db_name}" TEMPLATE "{TEMPLATE}"')


def flush_redis(url: str) -> None:
    import redis

    redis.Redis.from_url(url).flushdb()


def outbox_state(db: psycopg.Connection, reminder_ids: list[int], due_by: dt.datetime) -> dict[str, int]:
    pending = db.execute("SELECT count(*) FROM accounts_outboxmessage WHERE sent_at IS NULL").fetchone()[0]
    unreminded = db.execute(
        "SELECT count(*) FROM followups_followup f WHERE f.id = ANY(%s) AND f.due_at <= %s AND NOT EXISTS "
        "(SELECT 1 FROM followups_reminderlog r WHERE r.kind = 'followup' AND r.object_id = f.id)",
        [reminder_ids, due_by],
    ).fetchone()[0]
    return {"pending": pending, "unreminded": unreminded}


def locust_stats(prefix: Path) -> dict:
    stats = {"requests": 0, "failures": 0, "p50_ms": None, "p95_ms": None, "p99_ms": None, "by_name": []}
    path = Path(f"{prefix}_stats.csv")
    if path.exists():
        for row in csv.DictReader(path.open()):
            entry = {
                "name": f"{row['Type']} {row['Name']}".strip(),
                "requests": int(row["Request Count"]),
                "failures": int(row["Failure Count"]),
                "p50_ms": row["50%"],
                "p95_ms": row["95%"],
                "p99_ms": row["99%"],
            }
            if row["Name"] == "Aggregated":
                stats.update({k: v for k, v in entry.items() if k != "name"})
            else:
                stats["by_name"].append(entry)
    failures = Path(f"{prefix}_failures.csv")
    stats["failure_kinds"] = (
        [
            {"name": r["Name"], "error": r["Error"], "count": int(r["Occurrences"])}
            for r in csv.DictReader(failures.open())
        ]
        if failures.exists()
        else []
    )
    return stats


def server_log(path: Path) -> dict:
    statuses: Counter = Counter()
    micros: list[int] = []
    for line in path.read_text().splitlines() if path.exists() else []:
        parts = line.split()
        if len(parts) >= 4 and parts[0].isdigit():
            statuses[int(parts[0])] += 1
            micros.append(int(parts[-1]))
    micros.sort()

    def pct(p: float) -> float | None:
        return round(micros[min(len(micros) - 1, int(len(micros) * p))] / 1000, 1) if micros else None

    return {
        "requests": sum(statuses.values()),
        "status": dict(sorted(statuses.items())),
        "5xx": sum(n for s, n in statuses.items() if s >= 500),
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
    }


def audit(db: psycopg.Connection, mail_dir: Path, manifest: dict, due_by: dt.datetime) -> dict:
    created, sent = db.execute("SELECT count(*), count(sent_at) FROM accounts_outboxmessage").fetchone()
    outbox_sent = Counter(
        mailbox.content_key(to, subject, body)
        for to, subject, body in db.execute(
            'SELECT "to", subject, body_text FROM accounts_outboxmessage WHERE sent_at IS NOT NULL'
        )
    )
    delivered = mailbox.delivered(mail_dir)
    duplicated = sum(max(0, delivered[k] - outbox_sent[k]) for k in delivered)
    marked_not_written = sum(max(0, outbox_sent[k] - delivered[k]) for k in outbox_sent)
    ids = manifest["reminders"]["ids"]
    reminders_due = db.execute(
        "SELECT count(*) FROM followups_followup WHERE id = ANY(%s) AND due_at <= %s", [ids, due_by]
    ).fetchone()[0]
    reminded = db.execute(
        "SELECT count(DISTINCT object_id) FROM followups_reminderlog WHERE kind = 'followup' AND object_id = ANY(%s)",
        [ids],
    ).fetchone()[0]
    reminder_rows = Counter(
        subject
        for (subject,) in db.execute(
            "SELECT subject FROM accounts_outboxmessage WHERE subject LIKE 'Reminder:%%Load reminder%%'"
        )
    )
    return {
        "created": created,
        "sent": sent,
        "lost": (created - sent) + marked_not_written,
        "never_sent": created - sent,
        "marked_sent_not_delivered": marked_not_written,
        "emails_delivered": sum(delivered.values()),
        "duplicated": duplicated + sum(n - 1 for n in reminder_rows.values() if n > 1),
        "reminders_due": reminders_due,
        "reminders_sent": reminded,
        "reminders_missing": max(0, reminders_due - reminded),
        "reminder_outbox_rows": sum(reminder_rows.values()),
    }


def main() -> int:
    cfg = Config(dict(os.environ))
    run_dir = cfg.results / time.strftime("%Y%m%d-%H%M%S")
    var_dir = run_dir / "var"
    var_dir.mkdir(parents=True)
    say(f"{cfg.users} users for {cfg.duration} s on {cfg.db_name} and {cfg.redis_url}; output in {run_dir}")
    env = stack.django_env(
        database_url=cfg.database_url,
        redis_url=cfg.redis_url,
        var_dir=var_dir,
        secret_key=secrets.token_urlsafe(50),
        sweep_interval=cfg.sweep_interval,
        LOG_LEVEL="WARNING",
        # One machine plays a hundred people from one address, each asking far faster than a
        # person would: the per-address and per-person limits would measure themselves.
        RATE_LIMIT_LOGIN_PER_IP="100000/1m",
        RATE_LIMIT_LOGIN_PER_EMAIL="100000/1m",
        RATE_LIMIT_LOGIN_PER_CLIENT="100000/1m",
        RATE_LIMIT_TARGET_ANSWERS="100000/1m",
        RATE_LIMIT_INTRO_REQUESTS="100000/1m",
    )
    worker_env = {**env, "LOG_LEVEL": "INFO"}  # task lines in the worker's log

    say("database: drop, create, migrate, seed")
    prepare_database(cfg, env)
    manifest_path = run_dir / "manifest.json"
    seeding = subprocess.Popen(
        [sys.executable, "-m", "loadtest.seed", str(manifest_path), str(cfg.users), str(cfg.duration)],
        cwd=stack.ROOT,
        env=env,
    )
    stack.collectstatic(env)  # meanwhile
    flush_redis(cfg.redis_url)
    if seeding.wait() != 0:
        raise SystemExit("seeding the database failed")
    manifest = json.loads(manifest_path.read_text())

    port = stack.free_port()
    processes: list[stack.Process] = []
    try:
        say(f"starting gunicorn ({cfg.web_workers} workers) on 127.0.0.1:{port}, a Celery worker and beat")
        worker = stack.celery_worker(worker_env, run_dir, wait=False)
        beat = stack.celery_beat(worker_env, run_dir, wait=False)
        processes += [worker, beat]
        web = stack.gunicorn(env, run_dir, port=port, workers=cfg.web_workers)  # starts while they do
        processes.append(web)
        stack.await_ready(worker, beat)

        locust = stack.Process(
            "locust",
            [
                str(stack.BIN / "locust"),
                "-f",
                str(HERE / "locustfile.py"),
                "--headless",
                "--users",
                str(cfg.users),
                "--spawn-rate",
                str(cfg.spawn_rate),
                "--run-time",
                f"{cfg.duration}s",
                "--host",
                f"http://127.0.0.1:{port}",
                "--csv",
                str(run_dir / "locust"),
                "--only-summary",
                "--stop-timeout",
                "10",
                "--exit-code-on-error",
                "0",
                "--loglevel",
                "WARNING",
            ],
            env={**env, "LOADTEST_MANIFEST": str(manifest_path), "LOADTEST_MAIL_DIR": str(var_dir / "mail")},
            log_dir=run_dir,
        ).start()
        processes.append(locust)
        started = time.monotonic()
        say(f"locust started: {cfg.users} users at {cfg.spawn_rate}/s for {cfg.duration} s")

        # Twice, whatever happens: on a busy machine a restart can take longer than a short run.
        restarts = []
        for third in (1, 2):
            moment = started + cfg.duration * third / 3
            while time.monotonic() < moment and locust.alive:
                time.sleep(min(0.5, max(0.0, moment - time.monotonic())))
            under_load = locust.alive
            stopping = time.monotonic()
            code = worker.stop(signal.SIGTERM, timeout=60)
            stopped_in = time.monotonic() - stopping
            worker = stack.celery_worker(worker_env, run_dir)
            processes.append(worker)
            restart = {
                "at_s": round(stopping - started, 1),
                "exit_code": code,
                "stopped_in_s": round(stopped_in, 1),
                "back_in_s": round(time.monotonic() - stopping, 1),
                "under_load": under_load,
            }
            restarts.append(restart)
            say(f"worker restarted: {restart}")

        locust.popen.wait(timeout=cfg.duration + 180)
        due_by = dt.datetime.now(dt.UTC)
        say(f"locust finished (exit {locust.popen.returncode}); waiting up to {cfg.flush_deadline:g} s for the outbox")

        with psycopg.connect(cfg.database_url, autocommit=True) as db:
            flushed = time.monotonic()
            try:
                stack.wait_until(
                    lambda: not any(outbox_state(db, manifest["reminders"]["ids"], due_by).values()),
                    timeout=cfg.flush_deadline,
                    what="every message sent and every due reminder written",
                    interval=0.5,
                )
            except TimeoutError as exc:
                say(str(exc))
            flush_seconds = time.monotonic() - flushed
            for process in (beat, worker):
                process.stop(timeout=60)
            messages = audit(db, var_dir / "mail", manifest, due_by)
        web.stop()
    finally:
        for process in reversed(processes):
            process.stop(timeout=30)

    client = locust_stats(run_dir / "locust")
    server = server_log(run_dir / "web-access.log")
    unanswered = sum(f["count"] for f in client["failure_kinds"] if not re.search(r"\b[1-5]\d\d\b", f["error"]))
    summary = {
        "users": cfg.users,
        "duration_s": cfg.duration,
        "worker_restarts": restarts,
        "requests": client["requests"],
        "failures": client["failures"],
        "5xx": server["5xx"],
        "unanswered": unanswered,
        "p50_ms": client["p50_ms"],
        "p95_ms": client["p95_ms"],
        "p99_ms": client["p99_ms"],
        "server": server,
        "messages": messages,
        "flush_s": round(flush_seconds, 1),
        "by_name": client["by_name"],
        "failure_kinds": client["failure_kinds"],
    }
    problems = [
        f"{name}: {value}"
        for name, value in [
            ("5xx answers", server["5xx"]),
            ("requests without an answer", unanswered),
            ("messages lost", messages["lost"]),
            ("messages duplicated", messages["duplicated"]),
            ("due reminders not sent", messages["reminders_missing"]),
        ]
        if value
    ]
    if not client["requests"]:
        problems.append("no request was made")
    if [r["exit_code"] for r in restarts] != [0, 0]:
        problems.append(f"the worker did not stop cleanly twice: {restarts}")
    summary["problems"] = problems
    (run_dir / "summary.json").write_text(json.dumps(summary, indent=1, default=str))
    report = render(summary)
    (run_dir / "summary.md").write_text(report)
    print(report, flush=True)
    return 1 if problems else 0


def render(s: dict) -> str:
    m = s["messages"]
    lines = [
        "",
        f"Load test: {s['users']} users for {s['duration_s']} s, worker restarted at "
        + ", ".join(
            f"{r['at_s']} s (stopped in {r['stopped_in_s']} s{'' if r['under_load'] else ', after the load'})"
            for r in s["worker_restarts"]
        ),
        "",
        "| HTTP | |",
        "|---|---|",
        f"| requests | {s['requests']} |",
        f"| failures (any status >= 400 or no answer) | {s['failures']} |",
        f"| 5xx (gunicorn's access log) | {s['5xx']} |",
        f"| no answer | {s['unanswered']} |",
        f"| p50 / p95 / p99 (ms, locust) | {s['p50_ms']} / {s['p95_ms']} / {s['p99_ms']} |",
        f"| p50 / p95 / p99 (ms, gunicorn) | {s['server']['p50_ms']} / {s['server']['p95_ms']} / "
        f"{s['server']['p99_ms']} |",
        "",
        "| Messages | |",
        "|---|---|",
        f"| outbox rows created | {m['created']} |",
        f"| sent | {m['sent']} |",
        f"| emails written by the backend | {m['emails_delivered']} |",
        f"| lost (never sent, or marked sent and not written) | {m['lost']} |",
        f"| duplicated (one message written twice) | {m['duplicated']} |",
        f"| reminders due / sent / missing | {m['reminders_due']} / {m['reminders_sent']} / {m['reminders_missing']} |",
        f"| time to drain after the run | {s['flush_s']} s |",
        "",
    ]
    if s["failure_kinds"]:
        lines += ["Failures:", *(f"  {f['count']} × {f['name']}: {f['error']}" for f in s["failure_kinds"]), ""]
    lines.append("PASS" if not s["problems"] else "FAIL: " + "; ".join(s["problems"]))
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.exit(main())
