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
