"""What every resource shares: text that PostgreSQL can store, binding a JSON body to the
page's own Django form, and a page of a list."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any

from django.forms import Form
from django.http import QueryDict
from ninja import Schema
from pydantic import AfterValidator, ConfigDict, Field

from .problems import Invalid


def _storable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("Null characters are not allowed.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate ("\ud800"), which JSON can carry and UTF-8 cannot
        raise ValueError("Text must be valid Unicode.") from None
    return value


def text(max_length: int, **field: Any) -> Any:
    """A string of at most `max_length` characters that PostgreSQL can store: no NUL, no lone surrogate."""
    return Annotated[str, AfterValidator(_storable), Field(max_length=max_length, **field)]


Note = text(2000)


class Body(Schema):
    """A request body: a field we do not know is refused rather than silently ignored."""

    model_config = ConfigDict(extra="forbid")


class Page[T](Schema):
    items: list[T]
    next_cursor: str | None = Field(None, description="Pass as `cursor` for the next page; null on the last page.")


class Person(Schema):
    id: int
    name: str


def person(user) -> dict[str, Any]:
    return {"id": user.pk, "name": user.full_name}


def _form_value(value: Any) -> list[str]:
    if value is None:
        return [""]
    if isinstance(value, bool):
        return ["on"] if value else []
    if isinstance(value, (list, tuple, set)):
        return [v for item in value for v in _form_value(item)]
    if isinstance(value, dt.time):
        return [value.strftime("%H:%M")]
    if isinstance(value, (dt.date, dt.datetime)):
        return [value.isoformat()]
    return [str(value)]


def form_data(values: dict[str, Any]) -> QueryDict:
    """A JSON body as the form post a page would have sent: booleans as ticked boxes, lists as
    repeated fields, dates and times as typed."""
    data = QueryDict(mutable=True)
    for name, value in values.items():
        data.setlist(name, _form_value(value))
    return data


def valid(form: Form, *, names: dict[str, str] | None = None) -> Form:
    """The page's form, checked as the page checks it; its errors as a 422 problem."""
    if not form.is_valid():
        raise Invalid.from_form(form, names=names)
    return form
