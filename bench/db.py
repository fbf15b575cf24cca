"""The benchmark's own databases: a migrated template, cloned fresh for each run.

`<name>_template` is migrated (created the first time, or again with BENCH_FRESH=1), then
`<name>` (the pages), `<name>_sweep` (the sweep) and `<name>_exports` (the large account's
exports) are cloned from it, so each run starts from empty tables without replaying the
migrations."""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time
from pathlib import Path

import psycopg

from . import config

ROOT = Path(__file__).resolve().parent.parent


def _admin() -> psycopg.Connection:
    return psycopg.connect(config.conninfo("postgres"), autocommit=True)


def _exists(conn: psycopg.Connection, name: str) -> bool:
    return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def _drop(conn: psycopg.Connection, name: str) -> None:
    conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (name,))
    conn.execute(f'DROP DATABASE IF EXISTS "{name}"')


def bench_env(database: str, **extra: str) -> dict[str, str]:
    """The environment of a benchmark subprocess (migrate, the sweep worker, gunicorn)."""
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "bench.settings", "DATABASE_URL": config.database_url(database)}
    config.use_cache(env)
    env.update(extra)
    return env


def migrations_digest() -> str:
    digest = hashlib.sha256()
    for path in sorted(ROOT.glob("*/migrations/*.py")):
        digest.update(str(path.relative_to(ROOT)).encode())
        digest.update(path.read_bytes())
    return "bench-migrations-" + digest.hexdigest()[:16]


def prepare(name: str) -> dict[str, str]:
    """Fresh, migrated, empty databases; returns {"pages": ..., "sweep": ..., "exports": ...}."""
    template = f"{name}_template"
    started = time.perf_counter()
    stamp = migrations_digest()
    with _admin() as conn:
        row = conn.execute(
            "SELECT shobj_description(oid, 'pg_database') FROM pg_database WHERE datname = %s", (template,)
        ).fetchone()
        # Rebuilt from scratch whenever any migration file changed (or BENCH_FRESH=1).
        if row is None or row[0] != stamp or os.environ.get("BENCH_FRESH") == "1":
            _drop(conn, template)
            conn.execute(f'CREATE DATABASE "{template}"')
            subprocess.run(
                [sys.executable, "manage.py", "migrate", "--no-input", "-v0"],
                cwd=ROOT,
                env=bench_env(template),
                check=True,
            )
            conn.execute(f"COMMENT ON DATABASE \"{template}\" IS '{stamp}'")
    names = {"pages": name, "sweep": f"{name}_sweep", "exports": f"{name}_exports"}
    with _admin() as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", (template,))
        for db in names.values():
            _drop(conn, db)
            conn.execute(f'CREATE DATABASE "{db}" TEMPLATE "{template}"')
    print(f"databases ready in {time.perf_counter() - started:.1f} s: {', '.join(names.values())}", flush=True)
    return names
