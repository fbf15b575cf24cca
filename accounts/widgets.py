"""Form widgets shared by the apps."""

from __future__ import annotations

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html, format_html_join


class LeanSelect(forms.Select):
    """A single-choice `<select>` whose options are written here rather than through the
    form renderer: Django builds a dict and renders a template fragment per option, and the
    contact list's organisation filter, when it was a select (120 options for a connector in
    the benchmark), spent about 8 ms of the page there. Same markup and attributes (aria-describedby, required, the
    htmx ones); flat choices only."""

    def render(self, name, value, attrs=None, renderer=None):
        final = {"name": name, **self.build_attrs(self.attrs, attrs)}
        current = self.format_value(value)
        chosen = current[0] if current else None
        options = []
        for option_value, label in self.choices:
            if isinstance(label, (list, tuple)):
                raise TypeError("LeanSelect takes flat choices, not groups.")
            text = "" if option_value is None else str(option_value)
            options.append((text, " selected" if text == chosen else "", label))
            if text == chosen:
                chosen = None  # one selected option, as Select does
        return format_html(
            "<select{}>\n{}\n</select>",
            flatatt(final),
            format_html_join("\n", '  <option value="{}"{}>{}</option>', options),
        )


class TimeZoneSelect(forms.Select):
    """The time zone list: canonical zones in an <optgroup> per region (accounts.timezones).
    A current value the list lacks (an alias saved long ago, such as US/Eastern) is shown first,
    selected, so saving the form again keeps it. static/js/app.js finds the select by
    `data-time-zone`, puts the browser's own zone first and adds a filter box."""

    def __init__(self, attrs=None, choices=()):
        super().__init__({"data-time-zone": "", "autocomplete": "off", **(attrs or {})}, choices)

    def optgroups(self, name, value, attrs=None):
        groups = super().optgroups(name, value, attrs)
        current = next((v for v in value if v not in (None, "")), None)
        if current is None or any(option["selected"] for _, options, _ in groups for option in options):
            return groups
        saved = self.create_option(name, current, f"{current.replace('_', ' ')} (current)", True, 0)
        return [(None, [saved], 0), *groups]
