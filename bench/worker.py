"""The sweep, measured in its own process (`python -m bench.worker STEP...`, Django on the
sweep database), so its peak memory is the worker's and nothing else's.

Steps run in order; each prints one JSON line:
  setup           users, digest schedules, RATIO_SMALL_ROWS follow-ups of which RATIO_DUE due
  fill            more follow-ups (none due) up to SWEEP_ROWS
  mark            make SWEEP_DUE follow-ups due in all (the RATIO_DUE ones among them)
  restore         the due rows due again, the log and outbox empty, then VACUUM ANALYZE
  app:LABEL       followups.sweep.sweep(now=SWEEP_NOW), timed, with its query count
  raw:LABEL       the raw-SQL floor: claim, log, outbox and clear the same rows with psycopg
  empty:N         N timed sweeps with nothing due (after five untimed)
"""

from __future__ import annotations

import datetime as dt
import json
import os
import resource
import statistics
import sys
import time

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
django.setup()

import psycopg  # noqa: E402
from django.contrib.auth.hashers import make_password  # noqa: E402
from django.db import connection  # noqa: E402

from accounts.models import User  # noqa: E402
from followups.models import DigestSchedule, FollowUp, ReminderLog  # noqa: E402
from followups.sweep import sweep  # noqa: E402
from lib.outbox.models import OutboxMessage  # noqa: E402

from . import config  # noqa: E402
from .data import _reset_sequences, copy_rows  # noqa: E402

NOW = config.SWEEP_NOW
SCALE = config.scale()
DUE_SETS = ("due-ratio", "due-main")
BATCH = 200


def _peak_mb() -> float:
    """This process's peak resident memory. VmHWM rather than ru_maxrss: Linux carries
    ru_maxrss across execve, so a worker would report its parent's peak (the data generator's)."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def _sql(sql: str, params=None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.rowcount


def _insert_followups(first_id: int, count: int, *, due_label: str | None, due_count: int) -> None:
    """Follow-ups generated in the server: the first `due_count` due at NOW, a fifth of the rest
    open with a reminder coming in the next thirty days, the others done (nothing to sweep)."""
    users = SCALE.users
    due_label = due_label or "filler"
    fields = [f for f in FollowUp._meta.concrete_fields]
    expressions = {
        "id": "i",
        "owner_id": f"1 + mod(i, {users})",
        "intro_id": "NULL",
        "offer_id": "NULL",
        "kind": "'thank_connector'",
        "counterpart": f"CASE WHEN i < {first_id + due_count} THEN '{due_label}' ELSE 'filler' END",
        "due_at": f"CASE WHEN i < {first_id + due_count} THEN %(now)s - interval '1 hour' ELSE %(now)s + mod(i, 720) * interval '1 hour' END",
        "status": f"CASE WHEN i < {first_id + due_count} OR mod(i, 5) = 0 THEN 'open' ELSE 'done' END",
        "notes": "''",
        "created_at": "%(now)s - interval '40 days'",
        "done_at": f"CASE WHEN i < {first_id + due_count} OR mod(i, 5) = 0 THEN NULL ELSE %(now)s - interval '1 day' END",
        "next_action_at": f"CASE WHEN i < {first_id + due_count} THEN %(now)s - interval '1 hour' WHEN mod(i, 5) = 0 THEN %(now)s + (1 + mod(i, 720)) * interval '1 hour' ELSE NULL END",
        "reminders_sent": "0",
    }
    missing = [f.attname for f in fields if f.attname not in expressions]
    if missing:
        raise SystemExit(f"bench/worker.py does not know how to fill FollowUp.{', '.join(missing)}")
    columns = ", ".join(f'"{f.column}"' for f in fields)
    select = ", ".join(expressions[f.attname] for f in fields)
    _sql(
        f"INSERT INTO followups_followup ({columns}) SELECT {select} FROM generate_series(%(first)s, %(last)s) AS i",
        {"now": NOW, "first": first_id, "last": first_id + count - 1},
    )


def step_setup() -> dict:
    password = make_password("bench-password")
    copy_rows(
        User,
        (
            {"id": i, "email": f"user{i}@bench.test", "full_name": f"Bench User {i}", "password": password}
            for i in range(1, SCALE.users + 1)
        ),
    )
    # Everyone's digest is due tomorrow: the digest drain finds nothing, as on most ticks.
    copy_rows(
        DigestSchedule,
        (
            {"id": i, "user_id": i, "kind": "daily", "next_at": NOW + dt.timedelta(hours=20)}
            for i in range(1, SCALE.users + 1)
        ),
    )
    _insert_followups(1, SCALE.ratio_small_rows, due_label="due-ratio", due_count=SCALE.ratio_due)
    _reset_sequences(User, DigestSchedule, FollowUp)
    _sql("VACUUM ANALYZE")
    return {"rows": FollowUp.objects.count(), "due": FollowUp.objects.due(NOW).count()}


def step_fill() -> dict:
    start = time.perf_counter()
    have = FollowUp.objects.count()
    _insert_followups(have + 1, SCALE.sweep_rows - have, due_label=None, due_count=0)
    _reset_sequences(FollowUp)
    _sql("VACUUM ANALYZE followups_followup")
    return {"rows": FollowUp.objects.count(), "seconds": time.perf_counter() - start}


def step_mark() -> dict:
    more = SCALE.sweep_due - SCALE.ratio_due
    changed = _sql(
        "UPDATE followups_followup SET counterpart = 'due-main', status = 'open', done_at = NULL, "
        "due_at = %s - interval '1 hour' WHERE id IN (SELECT id FROM followups_followup WHERE counterpart = 'filler' "
        "ORDER BY id LIMIT %s)",
        [NOW, more],
    )
    return {"marked": changed}


def step_restore() -> dict:
    start = time.perf_counter()
    _sql("DELETE FROM followups_reminderlog")
    _sql("DELETE FROM accounts_outboxmessage")
    restored = _sql(
        "UPDATE followups_followup SET next_action_at = due_at, reminders_sent = 0 WHERE counterpart = ANY(%s)",
        [list(DUE_SETS)],
    )
    _sql("VACUUM ANALYZE followups_followup")
    _sql("VACUUM ANALYZE followups_reminderlog")
    _sql("VACUUM ANALYZE accounts_outboxmessage")
    return {"due": restored, "seconds": time.perf_counter() - start}


class _Counter:
    def __init__(self) -> None:
        self.queries = 0

    def __call__(self, execute, sql, params, many, context):
        self.queries += 1
        return execute(sql, params, many, context)


def _warm_worker() -> None:
    """What a running worker has already done before a sweep: Celery's app finalized and a
    producer connected (the first publish of a process imports and compiles ~30 modules)."""
    from lib.outbox.tasks import send_outbox_messages

    send_outbox_messages.delay([])


def step_app(label: str) -> dict:
    _warm_worker()
    due = FollowUp.objects.due(NOW).count()
    counter = _Counter()
    rss_before = _peak_mb()
    with connection.execute_wrapper(counter):
        start = time.perf_counter_ns()
        counts = sweep(now=NOW)
        seconds = (time.perf_counter_ns() - start) / 1e9
    return {
        "label": label,
        "due": due,
        "seconds": seconds,
        "counts": counts,
        "queries": counter.queries,
        "outbox": OutboxMessage.objects.count(),
        "logged": ReminderLog.objects.count(),
        "peak_mb_before": rss_before,
        "peak_mb": _peak_mb(),
    }


RAW_CLAIM = (
    "SELECT id FROM followups_followup WHERE next_action_at <= %s ORDER BY next_action_at "
    "LIMIT %s FOR UPDATE SKIP LOCKED"
)
RAW_LOG = (
    "INSERT INTO followups_reminderlog (kind, object_id, sequence, recipient, sent_at) "
    "SELECT 'followup', f.id, f.reminders_sent + 1, u.email, now() "
    "FROM followups_followup f JOIN accounts_user u ON u.id = f.owner_id WHERE f.id = ANY(%s)"
)
RAW_OUTBOX = (
    'INSERT INTO accounts_outboxmessage ("to", cc, reply_to, subject, body_text, body_html, template, context, '
    "created_at, state, next_attempt_at, attempts, last_error, provider_message_id) "
    "SELECT jsonb_build_array(u.email), '[]', '[]', 'Reminder: thank the connector — ' || f.counterpart, "
    "'', '', 'followup_reminder', jsonb_build_object('followup', f.id), now(), 'pending', now(), 0, '', '' "
    "FROM followups_followup f JOIN accounts_user u ON u.id = f.owner_id WHERE f.id = ANY(%s)"
)
RAW_CLEAR = (
    "UPDATE followups_followup SET next_action_at = NULL, reminders_sent = reminders_sent + 1 WHERE id = ANY(%s)"
)


def step_raw(label: str) -> dict:
    due = FollowUp.objects.due(NOW).count()
    handled = 0
    with psycopg.connect(config.conninfo(connection.settings_dict["NAME"])) as conn:
        conn.execute("SELECT 1")
        conn.commit()
        start = time.perf_counter_ns()
        while True:
            with conn.transaction():
                ids = [row[0] for row in conn.execute(RAW_CLAIM, (NOW, BATCH)).fetchall()]
                if ids:
                    conn.execute(RAW_LOG, (ids,))
                    conn.execute(RAW_OUTBOX, (ids,))
                    conn.execute(RAW_CLEAR, (ids,))
            handled += len(ids)
            if len(ids) < BATCH:
                break
        seconds = (time.perf_counter_ns() - start) / 1e9
    return {"label": label, "due": due, "handled": handled, "seconds": seconds, "outbox": OutboxMessage.objects.count()}


def step_empty(n: int) -> dict:
    assert not FollowUp.objects.due(NOW).exists(), "the empty sweep found due rows"
    for _ in range(5):
        sweep(now=NOW)
    counter = _Counter()
    times = []
    with connection.execute_wrapper(counter):
        for _ in range(n):
            start = time.perf_counter_ns()
            counts = sweep(now=NOW)
            times.append((time.perf_counter_ns() - start) / 1e6)
            assert not counts, counts
    ordered = sorted(times)
    return {
        "label": "empty",
        "rows": FollowUp.objects.count(),
        "n": n,
        "median_ms": statistics.median(times),
        "p95_ms": ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))],
        "queries": counter.queries // n,
    }


def main(argv: list[str]) -> None:
    for arg in argv:
        name, _, value = arg.partition(":")
        if name == "app":
            result = step_app(value)
        elif name == "raw":
            result = step_raw(value)
        elif name == "empty":
            result = step_empty(int(value))
        else:
            result = {"setup": step_setup, "fill": step_fill, "mark": step_mark, "restore": step_restore}[name]()
        print(json.dumps({"step": arg, **result}, default=str), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
