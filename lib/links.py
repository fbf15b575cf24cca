"""Addresses of rows, made without `reverse()` once per row.

A list page links every row two or three times (the row's page, its done/snooze/skip
forms), and Django's `reverse()` costs about 0.1 ms a call on this machine kind: a 45-row
follow-ups page spent ~7 ms of its ~33 ms there (bench, cProfile). `url_with_pk` reverses
each URL name once per process (per script prefix) with a marker id and then only puts
the row's id in its place.
"""

from __future__ import annotations

from functools import lru_cache

from django.core.signals import setting_changed
from django.urls import get_script_prefix, reverse

_MARKER = 9_876_543_210_123  # an id no row has; only ever in the reversed pattern


@lru_cache(maxsize=512)
def _around_pk(name: str, script_prefix: str, leading: tuple) -> tuple[str, str]:
    url = reverse(name, args=[*leading, _MARKER])
    before, marker, after = url.partition(str(_MARKER))
    if not marker or str(_MARKER) in after:
        raise ValueError(f"{name} does not end its arguments with one id")
    return before, after


def url_with_pk(name: str, *args) -> str:
    """`reverse(name, args=args)` for a URL whose last argument is an integer id (the row's);
    any arguments before it (a cohort's id on a cohort's page) are part of what is kept."""
    *leading, pk = args
    before, after = _around_pk(name, get_script_prefix(), tuple(leading))
    return f"{before}{int(pk)}{after}"


def _forget(*, setting: str, **kwargs) -> None:
    if setting == "ROOT_URLCONF":  # tests that swap the URLconf, as Django's own URL caches do
        _around_pk.cache_clear()


setting_changed.connect(_forget, dispatch_uid="lib-links-forget")
