"""`python -m bench floor`: where our floor page's time goes, beside a bare Django page.

Every variant below is a test client whose handler loaded its own middleware chain (and
session engine), asking one URL; all are timed round-robin in the same process, so a burst
of background load lands on all of them. Each row's difference from its reference is what
that one thing costs: a middleware (added to the bare chain, and taken out of ours), the
session backend, a context processor, the base template's include and `{% url %}` tags.

It runs on the pages database of the last `make bench` (BENCH_DB_NAME, any BENCH_SCALE), as a
user who exists there. BENCH_FLOOR_ROUNDS (default 300) sets how many requests each variant gets.
"""

from __future__ import annotations

import os
import statistics
import time
from dataclasses import dataclass, field
from functools import cache

from . import config

# The bare chain (bench/bare.py) and the default session engine of a bare Django project.
DB_SESSIONS = "django.contrib.sessions.backends.db"


@dataclass
class Variant:
    key: str
    says: str
    url: str
    middleware: list[str] | None = None  # None: ours (settings.MIDDLEWARE)
    session_engine: str | None = None  # None: ours (settings.SESSION_ENGINE)
    reference: str | None = None  # the variant this one is compared with
    times: list[float] = field(default_factory=list)  # wall-clock, ms
    cpu: list[float] = field(default_factory=list)  # this process's CPU time, ms (not the database's)


# --- the views the variants ask (routed by bench/urls.py under bench/floor/parts/) -----------


def _options() -> dict:
    from django.conf import settings

    [templates] = settings.TEMPLATES
    return templates


@cache
def _engine(processors: tuple[str, ...] | None):
    """An engine like ours, with these context processors (None: ours)."""
    from django.template import Engine, engines

    if processors is None:
        return engines["django"].engine
    t = _options()
    opts = t["OPTIONS"]
    return Engine(
        dirs=[str(d) for d in t["DIRS"]],
        app_dirs=t["APP_DIRS"],
        context_processors=list(processors),
        builtins=opts.get("builtins", []),
        libraries=opts.get("libraries", {}),
    )


@cache
def _base_inlined():
    """base.html with the messages partial written in place of its {% include %}."""
    from django.template import engines

    engine = engines["django"].engine
    base = engine.find_template("base.html")[0].source
    partial = engine.find_template("partials/messages.html")[0].source
    return engine.from_string(base.replace('{% include "partials/messages.html" %}', partial))


def _urls_only():
    from django.template import engines

    base = engines["django"].engine.find_template("base.html")[0].source
    tags = [line.strip() for line in base.splitlines() if "{% url " in line]
    return engines["django"].engine.from_string("\n".join(tags))


def part(request, name: str):
    """One part of the floor page, by name (the bench urlconf only; login required)."""
    from django.contrib.auth.views import redirect_to_login
    from django.http import HttpResponse
    from django.template import RequestContext

    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if name == "short":
        return HttpResponse(f"<!doctype html><title>short</title><p>{request.user.pk}</p>")
    if name == "inlined":
        template = _base_inlined()
    elif name == "urls":
        template = _urls_only()
    else:
        processors = _options()["OPTIONS"]["context_processors"]
        if name == "base":
            chosen = None
        elif name == "no-processors":
            chosen = ()
        elif name.startswith("without-"):
            chosen = tuple(p for p in processors if p.rsplit(".", 1)[-1] != name.removeprefix("without-"))
        else:
            raise ValueError(name)
        template = _engine(chosen).get_template("base.html")
    return HttpResponse(template.render(RequestContext(request, {"user": request.user})))


# --- the variants -----------------------------------------------------------------------------


def variants() -> list[Variant]:
    from django.conf import settings

    from . import bare

    ours = list(settings.MIDDLEWARE)
    base = "/bench/floor/parts/{}/"
    out = [
        Variant("bare", "bare Django: session (db) + auth middleware, short response", bare.URL, bare.MIDDLEWARE, DB_SESSIONS),
        Variant("floor", "our floor page: every middleware, base.html", "/bench/floor/", reference="bare"),
        Variant("ours-short", "every middleware of ours, short response", base.format("short"), reference="bare"),
    ]  # fmt: skip
    for name in ours:
        if name in bare.MIDDLEWARE:
            continue
        short = name.rsplit(".", 1)[-1]
        chain = [m for m in ours if m in bare.MIDDLEWARE or m == name]
        out.append(Variant(f"+{short}", f"bare chain + {name}", base.format("short"), chain, DB_SESSIONS, "bare-parts"))
        out.append(
            Variant(f"-{short}", f"our chain without {name}", base.format("short"), [m for m in ours if m != name],
                    reference="ours-short")
        )  # fmt: skip
    out.append(Variant("bare-parts", "bare chain, short response, through the parts view", base.format("short"), bare.MIDDLEWARE, DB_SESSIONS, "bare"))  # fmt: skip
    for engine in (DB_SESSIONS, "django.contrib.sessions.backends.cached_db", "django.contrib.sessions.backends.cache",
                   "django.contrib.sessions.backends.signed_cookies"):  # fmt: skip
        short = engine.rsplit(".", 1)[-1]
        out.append(Variant(f"session:{short}", f"our floor with {short} sessions", "/bench/floor/", session_engine=engine,
                           reference="floor"))  # fmt: skip
    out.append(Variant("base", "base.html through the parts view (ours)", base.format("base"), reference="ours-short"))
    out.append(Variant("no-processors", "base.html, no context processors but csrf", base.format("no-processors"), reference="base"))  # fmt: skip
    for p in _options()["OPTIONS"]["context_processors"]:
        short = p.rsplit(".", 1)[-1]
        out.append(Variant(f"without-{short}", f"base.html without {p}", base.format(f"without-{short}"), reference="base"))  # fmt: skip
    out.append(Variant("inlined", "base.html with the messages partial inlined (no include)", base.format("inlined"), reference="base"))  # fmt: skip
    out.append(Variant("urls", "only base.html's {% url %} lines", base.format("urls"), reference="ours-short"))
    return out


def _client(variant: Variant, user):
    from django.conf import settings
    from django.test import Client
    from django.test.utils import override_settings

    overrides = {}
    if variant.middleware is not None:
        overrides["MIDDLEWARE"] = variant.middleware
    if variant.session_engine is not None and variant.session_engine != settings.SESSION_ENGINE:
        overrides["SESSION_ENGINE"] = variant.session_engine
    client = Client()
    with override_settings(**overrides):
        client.handler.load_middleware()  # the chain (and its session store) is kept from here on
        client.force_login(user)  # the session is written by the engine in force
    return client


def measure(rounds: int) -> list[Variant]:
    from accounts.models import User

    user = User.objects.filter(is_active=True).order_by("pk").first()
    if user is None:
        raise SystemExit("No user in the benchmark database: run `make bench-small` (or `make bench`) first.")
    chosen = variants()
    clients = [(v, _client(v, user)) for v in chosen]
    for v, client in clients:  # warm: templates compiled, connections open
        for _ in range(10):
            response = client.get(v.url)
            if response.status_code != 200:
                raise RuntimeError(f"{v.key}: {v.url} answered {response.status_code}")
    for _ in range(rounds):
        for v, client in clients:
            start, start_cpu = time.perf_counter_ns(), time.thread_time_ns()
            client.get(v.url)
            v.cpu.append((time.thread_time_ns() - start_cpu) / 1e6)
            v.times.append((time.perf_counter_ns() - start) / 1e6)
    return chosen


def table(chosen: list[Variant], rounds: int) -> str:
    med = {v.key: statistics.median(v.times) for v in chosen}
    cpu = {v.key: statistics.median(v.cpu) for v in chosen}
    lines = [
        f"### Where the floor's time goes ({rounds} requests each, round-robin; load average "
        f"{' / '.join(f'{x:.2f}' for x in os.getloadavg())})",
        "",
        "Wall = wall-clock median (what a person waits, database included; swings with the machine's load);",
        "CPU = this process's CPU time median (Python's own work, steady under load; not the database's).",
        "",
        "| Variant | What it is | Wall | CPU | vs | Wall diff | CPU diff |",
        "|---|---|---:|---:|---|---:|---:|",
    ]
    for v in chosen:
        ref = f"`{v.reference}`" if v.reference else "—"
        diff = f"{med[v.key] - med[v.reference]:+.2f} ms" if v.reference else "—"
        cdiff = f"{cpu[v.key] - cpu[v.reference]:+.2f} ms" if v.reference else "—"
        lines.append(f"| `{v.key}` | {v.says} | {med[v.key]:.2f} ms | {cpu[v.key]:.2f} ms | {ref} | {diff} | {cdiff} |")
    lines += [
        "",
        f"Our floor is {med['floor'] / med['bare']:.2f}× the bare Django page by the wall clock, "
        f"{cpu['floor'] / cpu['bare']:.2f}× by CPU time.",
    ]
    return "\n".join(lines)


def main() -> int:
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["DATABASE_URL"] = config.database_url(config.db_name())
    config.use_cache(os.environ)
    import django

    django.setup()
    rounds = int(os.environ.get("BENCH_FLOOR_ROUNDS", "300"))
    print(table(measure(rounds), rounds), flush=True)
    return 0
