"""A/B of the hand-made speed-ups against Django's own machinery (issue 16, item 4).

    python -m bench.ab generate                 # once: the benchmark's page data, in <BENCH_DB_NAME>
    python -m bench.ab [ITEM ...]               # measure (all items by default)

Environment as `make bench` (bench/README.md): BENCH_SCALE (full by default), DATABASE_URL
(its server), BENCH_DB_NAME (default warm_ab; `generate` drops and re-clones it),
BENCH_REDIS_URL (default redis://127.0.0.1:6379/14, emptied by `generate`), AB_REQUESTS (timed
requests per variant and page, default 40).

Each item has two variants, both installed by this script whatever the app's code is now:
"hand" (the speed-up as it was written; a copy lives here once the app has dropped it) and
"django" (the framework's idiom). In one process, for each page the item touches, the
variants take turns request by request (after three to warm up each), and the table gives each variant's median, the gain in ms and the gain as a share of the page's time
with the idiom; then the same from this process's CPU time, which other processes on a busy
machine disturb far less. A page takes at least its CPU time, so for a speed-up that saves only
Python's work here (all but `kept`, which saves PostgreSQL's too) that share is an upper bound. An item is worth keeping at >= 10 % of its page (CONVENTIONS.md).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import os
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import lru_cache, partialmethod
from pathlib import Path

from . import config, db

RESULTS = Path(os.environ.get("BENCH_RESULTS_DIR") or Path(__file__).parent / "results")


def _db_name() -> str:
    return os.environ.get("BENCH_DB_NAME", "").strip() or "warm_ab"


def _dataset_file() -> Path:
    return RESULTS / f"ab-dataset-{_db_name()}-{config.scale().name}.json"


def _setup_django() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["DATABASE_URL"] = config.database_url(_db_name())
    config.use_cache(os.environ)
    import django

    django.setup()


def generate() -> None:
    db.prepare(_db_name())
    if url := config.cache_url():
        import redis

        redis.Redis.from_url(url, socket_connect_timeout=2).flushdb()
    _setup_django()
    from . import data

    ds = data.generate(config.scale())
    RESULTS.mkdir(parents=True, exist_ok=True)
    _dataset_file().write_text(json.dumps(dataclasses.asdict(ds), default=str))
    print(f"written {_dataset_file()}")


# --- The patches -------------------------------------------------------------------------
_MISSING = object()


class Patches:
    """Attributes set (and settings overridden) for one variant, put back afterwards."""

    def __init__(self) -> None:
        self._undo: list[Callable[[], None]] = []

    def set(self, owner: object, name: str, value: object) -> None:
        old = vars(owner).get(name, _MISSING)
        setattr(owner, name, value)
        self._undo.append(lambda: delattr(owner, name) if old is _MISSING else setattr(owner, name, old))

    def settings(self, **values: object) -> None:
        from django.test.utils import override_settings

        override = override_settings(**values)
        override.enable()
        self._undo.append(override.disable)

    def undo(self) -> None:
        while self._undo:
            self._undo.pop()()


def _modules_with(name: str) -> list:
    import importlib

    found = []
    for module_name in (
        "django.urls",  # where {% url %} takes reverse() from, at each call
        "lib.links",
        "lib.templatetags.warm",
        "accounts.models",
        "contacts.models",
        "intros.models",
        "followups.models",
        "cohorts.models",
    ):
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError:  # lib.links, once the app has dropped it
            continue
        if name in module.__dict__:
            found.append(module)
    return found


# 1. A row's address: reverse() once per URL name, then only the id put in (was lib/links.py).
_MARKER = 9_876_543_210_123


@lru_cache(maxsize=512)
def _around_pk(name: str, prefix: str, leading: tuple) -> tuple[str, str]:
    from django.urls.base import reverse  # never the patched one

    before, _, after = reverse(name, args=[*leading, _MARKER]).partition(str(_MARKER))
    return before, after


def _links(variant: str, p: Patches) -> None:
    from django.urls import get_script_prefix
    from django.urls.base import reverse

    def url_with_pk(name: str, *args) -> str:
        *leading, pk = args
        before, after = _around_pk(name, get_script_prefix(), tuple(leading))
        return f"{before}{int(pk)}{after}"

    def fast_reverse(viewname, urlconf=None, args=None, kwargs=None, current_app=None, **more):
        if args and not kwargs and urlconf is None and not more and isinstance(args[-1], int):
            return url_with_pk(viewname, *args)
        return reverse(viewname, urlconf=urlconf, args=args, kwargs=kwargs, current_app=current_app, **more)

    def plain(name: str, *args) -> str:
        return reverse(name, args=args)

    for module in _modules_with("reverse"):
        p.set(module, "reverse", fast_reverse if variant == "hand" else reverse)
    for module in _modules_with("url_with_pk"):  # while the app still has it
        p.set(module, "url_with_pk", url_with_pk if variant == "hand" else plain)


# 2. get_FOO_display() from a dict built once per field (was lib/choices.py).
def _labels(variant: str, p: Patches) -> None:
    from django.apps import apps

    for model in apps.get_models():
        if model._meta.app_label not in {"accounts", "contacts", "intros", "followups", "cohorts", "outbox"}:
            continue
        for field in model._meta.local_fields:
            if not field.choices or field.is_relation:
                continue
            if variant == "django":
                method = partialmethod(model._get_FIELD_display, field=field)
            else:
                labels = {value: str(label) for value, label in field.flatchoices}

                def method(self, _attname=field.attname, _labels=labels):
                    value = getattr(self, _attname)
                    return _labels.get(value, value)

            p.set(model, f"get_{field.name}_display", method)


# 3. A <select> written without the form renderer (was lib/widgets.py LeanSelect).
def _lean_render(self, name, value, attrs=None, renderer=None):
    from django.forms.utils import flatatt
    from django.utils.html import format_html, format_html_join

    final = {"name": name, **self.build_attrs(self.attrs, attrs)}
    current = self.format_value(value)
    chosen = current[0] if current else None
    options = []
    for option_value, label in self.choices:
        text = "" if option_value is None else str(option_value)
        options.append((text, " selected" if text == chosen else "", label))
        if text == chosen:
            chosen = None
    return format_html(
        "<select{}>\n{}\n</select>",
        flatatt(final),
        format_html_join("\n", '  <option value="{}"{}>{}</option>', options),
    )


def _select(variant: str, p: Patches) -> None:
    from django import forms

    from contacts.forms import ContactFilterForm

    lean = type("LeanSelect", (forms.Select,), {"render": _lean_render})
    for name in ("strength", "tag"):
        field = ContactFilterForm.base_fields[name]
        cls = lean if variant == "hand" else forms.Select
        p.set(field, "widget", cls(attrs=dict(field.widget.attrs), choices=field.widget.choices))


# 4. Badges (and the busy indicator) as Python strings rather than a template (was lib/templatetags/warm.py).
def _badges(variant: str, p: Patches) -> None:
    from django import template
    from django.utils.html import format_html

    from lib.templatetags import warm

    if variant == "hand":
        library = template.Library()

        @library.simple_tag(name="status_badge")
        def status_badge(status, label):
            return format_html(
                '<span class="badge badge-{}"><span class="badge-dot" aria-hidden="true"></span>{}</span>',
                status,
                label,
            )

        @library.simple_tag(name="guidance_badge")
        def guidance_badge(guidance):
            return format_html(
                '<span class="badge badge-guidance-{}"><span class="badge-dot" aria-hidden="true"></span>{}</span>',
                guidance.tone,
                guidance.label,
            )

        @library.simple_tag(name="busy")
        def busy(label="Saving…", id=""):
            return format_html(
                '<span class="busy" role="status"><span{} class="htmx-indicator">'
                '<span class="spinner" aria-hidden="true"></span> {}</span></span>',
                format_html(' id="{}"', id) if id else "",
                label,
            )

        tags = library.tags
    else:
        tags = _APP_TAGS
    for name in ("status_badge", "guidance_badge", "busy"):
        p.set(warm.register, "tags", {**warm.register.tags, name: tags[name]})


_APP_TAGS: dict = {}


_TEMPLATES: dict[tuple[str, str], dict] = {}


def _templates_of(key: tuple[str, str], p: Patches) -> None:
    """Templates compiled with this variant's tags, kept apart from the other variant's."""
    from django.template import engines

    for loader in engines["django"].engine.template_loaders:
        if hasattr(loader, "get_template_cache"):
            p.set(loader, "get_template_cache", _TEMPLATES.setdefault(key, {}))


# 5. The cache backend: a home-made forgiving RedisCache against django-redis's IGNORE_EXCEPTIONS.
def _cache(variant: str, p: Patches) -> None:
    location = config.cache_url()
    if variant == "hand":
        backend = "bench.ab.ForgivingRedisCache"
        options = {"socket_connect_timeout": 2, "socket_timeout": 2}
    else:
        backend = "django_redis.cache.RedisCache"
        options = {"SOCKET_CONNECT_TIMEOUT": 2, "SOCKET_TIMEOUT": 2, "IGNORE_EXCEPTIONS": True}
    # Each variant keeps its own keys (the two write integers differently) and its own
    # connections, made once: switching costs nothing inside a timed request.
    from django.core.cache import caches
    from django.utils.module_loading import import_string

    if variant not in _CACHES:
        params = {"OPTIONS": options, "KEY_PREFIX": f"ab-{variant}"}
        _CACHES[variant] = import_string(backend)(location, params)
    previous = caches["default"]
    caches._connections.default = _CACHES[variant]
    p._undo.append(lambda: setattr(caches._connections, "default", previous))


_CACHES: dict[str, object] = {}


def _forgiving_cache_class():
    """lib/cache.py as it was, for the "hand" variant of the cache item."""
    import functools

    from django.core.cache.backends.redis import RedisCache
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    def forgiving(name, fallback):
        method = getattr(RedisCache, name)

        @functools.wraps(method)
        def wrapper(self, *args, **kwargs):
            try:
                return method(self, *args, **kwargs)
            except (RedisConnectionError, RedisTimeoutError):
                return fallback(*args, **kwargs)

        return wrapper

    def missing(key, *args, **kwargs):
        raise ValueError(key)

    return type(
        "ForgivingRedisCache",
        (RedisCache,),
        {
            "add": forgiving("add", lambda *a, **k: False),
            "get": forgiving("get", lambda key, default=None, *a, **k: default),
            "set": forgiving("set", lambda *a, **k: None),
            "touch": forgiving("touch", lambda *a, **k: False),
            "delete": forgiving("delete", lambda *a, **k: False),
            "get_many": forgiving("get_many", lambda *a, **k: {}),
            "has_key": forgiving("has_key", lambda *a, **k: False),
            "incr": forgiving("incr", missing),
            "set_many": forgiving("set_many", lambda data, *a, **k: list(data)),
            "delete_many": forgiving("delete_many", lambda *a, **k: None),
            "clear": forgiving("clear", lambda *a, **k: False),
        },
    )


def __getattr__(name: str):
    if name == "ForgivingRedisCache":
        return _forgiving_cache_class()
    raise AttributeError(name)


# 6. Answers kept for the minute, versioned by what they are made of (lib/freshness.py):
# kept against computed on every request.
def _kept(variant: str, p: Patches) -> None:
    seconds = 60 if variant == "hand" else 0
    p.settings(DASHBOARD_CACHE_SECONDS=seconds, CALENDAR_CACHE_SECONDS=seconds)


@dataclasses.dataclass(frozen=True)
class Item:
    key: str
    label: str
    install: Callable[[str, Patches], None]
    pages: tuple[str, ...]
    recompile: bool = False  # templates hold the tags they were compiled with


ITEMS = [
    Item("links", "url_with_pk instead of reverse()", _links, ("followups", "home", "inbox", "find", "contacts", "dashboard")),
    Item("labels", "@labels_once instead of get_FOO_display()", _labels, ("home", "inbox", "followups", "intro", "find")),
    Item("select", "LeanSelect instead of the form renderer", _select, ("contacts", "contact_search")),
    Item("badges", "badges as Python strings instead of a template", _badges, ("home", "inbox", "followups", "intro", "find"), recompile=True),
    Item("cache", "ForgivingRedisCache instead of django-redis", _cache, ("dashboard", "ics", "home")),
    Item("kept", "lib.freshness: answers kept 60 s, versioned", _kept, ("dashboard", "ics")),
]  # fmt: skip


@contextmanager
def variant_of(item: Item, variant: str) -> Iterator[None]:
    patches = Patches()
    item.install(variant, patches)
    if item.recompile:
        _templates_of((item.key, variant), patches)
    try:
        yield
    finally:
        patches.undo()


def measure(items: list[Item]) -> list[dict]:
    """Requests alternate between the variants one by one (ABBA…), so a burst of load from
    other processes lands on both."""
    from lib.templatetags import warm

    from . import pages as bench_pages
    from .data import Dataset

    _APP_TAGS.update(warm.register.tags)
    saved = json.loads(_dataset_file().read_text())
    saved["now"] = dt.datetime.fromisoformat(saved["now"])
    ds = Dataset(**saved)
    by_key = {page.key: page for page in bench_pages.pages(ds)}
    clients = bench_pages.Clients()
    requests = int(os.environ.get("AB_REQUESTS", "40"))
    rows = []
    for item in items:
        for key in item.pages:
            page = by_key[key]
            client = clients.get(bench_pages.user_for(ds, page.role, "large"))
            times: dict[str, list[float]] = {"hand": [], "django": []}
            cpu: dict[str, list[float]] = {"hand": [], "django": []}
            bodies: dict[str, bytes] = {}
            for variant in ("hand", "django"):
                with variant_of(item, variant):
                    for _ in range(3):
                        response = client.get(page.url_large)
                        assert response.status_code == 200, (item.key, key, variant, response.status_code)
                    bodies[variant] = response.content
            for i in range(requests):
                for variant in ("hand", "django") if i % 2 else ("django", "hand"):
                    with variant_of(item, variant):
                        start, start_cpu = time.perf_counter_ns(), time.process_time_ns()
                        client.get(page.url_large)
                        times[variant].append((time.perf_counter_ns() - start) / 1e6)
                        cpu[variant].append((time.process_time_ns() - start_cpu) / 1e6)
            hand, django_ms = statistics.median(times["hand"]), statistics.median(times["django"])
            hand_cpu, django_cpu = statistics.median(cpu["hand"]), statistics.median(cpu["django"])
            row = {
                "item": item.key,
                "label": item.label,
                "page": key,
                "hand_ms": round(hand, 2),
                "django_ms": round(django_ms, 2),
                "gain_ms": round(django_ms - hand, 2),
                "gain_pct": round(100 * (django_ms - hand) / django_ms, 1),
                # This process's CPU time alone: what the variants change, less disturbed by
                # other processes than the wall clock on a shared machine.
                "hand_cpu_ms": round(hand_cpu, 2),
                "django_cpu_ms": round(django_cpu, 2),
                "cpu_gain_pct": round(100 * (django_cpu - hand_cpu) / django_cpu, 1),
                "same_html": _normalised(bodies["hand"]) == _normalised(bodies["django"]),
            }
            rows.append(row)
            print(
                f"{item.key:8} {key:15} hand {hand:8.2f} ms  django {django_ms:8.2f} ms  "
                f"gain {row['gain_ms']:6.2f} ms {row['gain_pct']:5.1f} %  "
                f"cpu {hand_cpu:7.2f}/{django_cpu:7.2f} ms (gain at most {row['cpu_gain_pct']:5.1f} % of page)  "
                f"same html: {row['same_html']}",
                flush=True,
            )
    return rows


def _normalised(body: bytes) -> bytes:
    """The page without what changes between any two requests (CSRF tokens, CSP nonces)."""
    import re

    return re.sub(rb'(csrfmiddlewaretoken" value="|X-CSRFToken": "|nonce=")[^"]+', rb"\1", body)


def table(rows: list[dict]) -> str:
    lines = [
        "| item | page | hand ms | Django ms | gain ms | gain % of page | CPU hand / Django ms | CPU gain % (at most of page) | same HTML |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['item']} | {r['page']} | {r['hand_ms']:.2f} | {r['django_ms']:.2f} | {r['gain_ms']:.2f} | "
            f"{r['gain_pct']:.1f} | {r['hand_cpu_ms']:.2f} / {r['django_cpu_ms']:.2f} | "
            f"{r['cpu_gain_pct']:.1f} | {'yes' if r['same_html'] else 'no'} |"
        )
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    if argv[:1] == ["generate"]:
        generate()
        return 0
    _setup_django()
    wanted = [item for item in ITEMS if not argv or item.key in argv]
    if not wanted:
        raise SystemExit(f"Choose among {', '.join(item.key for item in ITEMS)}.")
    rows = measure(wanted)
    out = table(rows)
    print("\n" + out)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"ab-{stamp}-{config.scale().name}.md").write_text(out + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
