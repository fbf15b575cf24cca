"""Cursor pagination: each page ends with an opaque `next_cursor` naming the last row given,
and the next page starts after it (keyset paging over the list's own order, ending with the
primary key). Rows added or removed between pages never shift what follows, and a page
costs the same however deep it is. A cursor is signed and names its list, so one that was
altered, or given for another list, is refused (400)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core import signing
from django.db.models import Model, Q, QuerySet

from .problems import BadCursor

SALT = "api.cursor"
DEFAULT_LIMIT = 25
MAX_LIMIT = 100


def _encode(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return {"t": value.isoformat()}
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict) and isinstance(value.get("t"), str):
        return dt.datetime.fromisoformat(value["t"])
    return value


def _after(ordering: tuple[str, ...], values: list[Any]) -> Q:
    """Rows that come after `values` in `ordering` ("name", "-pk"…): (a > x) or (a = x and b > y)…"""
    where = Q(pk__in=[])
    for i, field in enumerate(ordering):
        name = field.lstrip("-")
        step = Q(**{f"{name}__{'lt' if field.startswith('-') else 'gt'}": values[i]})
        for earlier, value in zip(ordering[:i], values[:i], strict=True):
            step &= Q(**{earlier.lstrip("-"): value})
        where |= step
    return where


def page(
    queryset: QuerySet, *, ordering: tuple[str, ...], cursor: str | None, limit: int, list_name: str
) -> tuple[list[Model], str | None]:
    """One page of `queryset` in `ordering` (which ends with "pk" or "-pk") after `cursor`,
    and the cursor of the next page (None on the last)."""
    if cursor:
        try:
            data = signing.loads(cursor, salt=SALT)
        except signing.BadSignature:
            raise BadCursor() from None
        if not isinstance(data, dict) or data.get("l") != list_name or not isinstance(data.get("k"), list):
            raise BadCursor()
        if len(data["k"]) != len(ordering):
            raise BadCursor()
        queryset = queryset.filter(_after(ordering, [_decode(v) for v in data["k"]]))
    rows = list(queryset.order_by(*ordering)[: limit + 1])
    if len(rows) <= limit:
        return rows, None
    rows = rows[:limit]
    last = rows[-1]
    key = [_encode(getattr(last, field.lstrip("-"))) for field in ordering]
    return rows, signing.dumps({"l": list_name, "k": key}, salt=SALT, compress=True)
