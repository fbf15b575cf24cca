"""Form widgets shared by the apps."""

from __future__ import annotations

from django import forms


class TimeZoneSelect(forms.Select):
    """The time zone list: canonical zones in an <optgroup> per region (lib.timezones).
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
