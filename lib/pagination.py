"""Paging a search whose filter has to look at every candidate row (`contains` on names).

Django's Paginator asks its list for a count, then for a slice: on a queryset that is a
COUNT(*) and a page query, and with a `contains` filter each of them scans every candidate
(a cohort's shared contacts, a connector's own). `MatchedIds` scans once: it fetches the
matching ids in display order, counts them in Python, and loads only the page's rows by id.
"""

from __future__ import annotations

from django.db.models import Model, QuerySet


class MatchedIds:
    """For Paginator: the ids of `matches` in its order (one query), and a page of those ids
    loaded from `rows` (one more), which says what to load. Who may see what is decided by
    `matches`: `rows` is only ever asked for ids that `matches` returned."""

    def __init__(self, matches: QuerySet, rows: QuerySet) -> None:
        self._ids: list[int] = list(matches.values_list("pk", flat=True))
        self._rows = rows

    def count(self) -> int:
        return len(self._ids)

    def __len__(self) -> int:
        return len(self._ids)

    def __getitem__(self, index: slice) -> list[Model]:
        ids = self._ids[index]
        by_id = self._rows.in_bulk(ids)
        return [by_id[pk] for pk in ids if pk in by_id]
