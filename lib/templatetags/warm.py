"""Small presentation helpers used on every page (registered as template builtins)."""

from __future__ import annotations

import datetime as dt

from django import template
from django.utils import timezone
from django.utils.html import format_html

from lib.timezones import zone_label

register = template.Library()


def _relative(value: dt.datetime | dt.date, now: dt.datetime, *, compact: bool = False) -> str:
    if isinstance(value, dt.datetime):
        days = (timezone.localtime(value).date() - timezone.localtime(now).date()).days
        seconds = (value - now).total_seconds()
        if days == 0:
            if abs(seconds) < 90:
                return "just now" if seconds <= 0 else ("in 1 min" if compact else "in a minute")
            hours = round(abs(seconds) / 3600)
            if hours == 0:
                minutes = round(abs(seconds) / 60)
                unit = "min" if compact else "minutes"
                return f"{minutes} {unit} ago" if seconds < 0 else f"in {minutes} {unit}"
            unit = "h" if compact else ("hour" if hours == 1 else "hours")
            return f"{hours} {unit} ago" if seconds < 0 else f"in {hours} {unit}"
    else:
        days = (value - timezone.localtime(now).date()).days
        if days == 0:
            return "today"
    if days == 1:
        return "tomorrow"
    if days == -1:
        return "yesterday"
    return f"in {days} days" if days > 0 else f"{-days} days ago"


@register.simple_tag
def when(value: dt.datetime | dt.date | None, empty: str = "—", compact: bool = False) -> str:
    """`<time>` saying "in 3 days", with the exact date in its title and datetime. `compact=True`
    says "4 min ago" and "2 h ago" instead of "4 minutes ago", for a table's narrow column."""
    if value is None:
        return empty
    now = timezone.now()
    if isinstance(value, dt.datetime):
        local = timezone.localtime(value)
        exact = local.strftime("%a %-d %b %Y, %H:%M %Z")
        iso = value.isoformat()
    else:
        exact = value.strftime("%a %-d %b %Y")
        iso = value.isoformat()
    return format_html('<time datetime="{}" title="{}">{}</time>', iso, exact, _relative(value, now, compact=compact))


@register.inclusion_tag("partials/badge.html")
def status_badge(status: str, label: str) -> dict:
    """A state as a coloured badge, in words and colour together."""
    return {"kind": status, "label": label}


@register.inclusion_tag("partials/busy.html")
def busy(label: str = "Saving…", id: str = "") -> dict:
    """Shown while an htmx request is in flight (.htmx-request on it, or on a form around it).
    The outer status region is always there, so a screen reader announces the words when
    they appear."""
    return {"label": label, "id": id}


@register.filter
def zone_place(name: str) -> str:
    """A time zone by its place, as in "Tokyo time": `America/New_York` → `New York`."""
    return zone_label(name or "")


@register.inclusion_tag("partials/badge.html")
def guidance_badge(guidance) -> dict:
    """Whether to write to a target now (an intros.guidance.Guidance), as a badge: its words
    and its colour together."""
    return {"kind": f"guidance-{guidance.tone}", "label": guidance.label}
