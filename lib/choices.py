"""`get_FOO_display()` from a dict built once per field.

Django's own `get_FOO_display()` rebuilds the field's choices into a dict (making every
choice hashable) on each call. List pages call it once or twice a row, for a state or a kind
among ten or twenty choices, so on a page of fifty rows that rebuilding is a measurable share of
the page (bench: `python -m bench.explain home`).
"""

from __future__ import annotations

from django.db import models


def labels_once[M: type[models.Model]](model: M) -> M:
    """Class decorator for a model: its choice fields' labels are looked up, not rebuilt."""
    for field in model._meta.local_fields:  # a plain list: nothing cached before apps are ready
        if field.choices and not field.is_relation:
            labels = {value: str(label) for value, label in field.flatchoices}
            setattr(model, f"get_{field.name}_display", _display(field.attname, labels))
    return model


def _display(attname: str, labels: dict):
    def display(self) -> str:
        value = getattr(self, attname)
        try:
            return labels.get(value, value)
        except TypeError:  # an unhashable value is never one of the choices
            return value

    display.__name__ = f"get_{attname}_display"
    return display
