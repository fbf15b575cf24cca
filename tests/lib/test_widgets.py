"""LeanSelect writes the same HTML as Django's Select."""

from __future__ import annotations

import pytest
from django import forms
from django.test import SimpleTestCase

from lib.widgets import LeanSelect

CHOICES = [("", "Any organisation"), ("A&B", "A & B <script>"), ("7", "Seven"), ("é", "É ‮RTL")]
ATTRS = {"id": "id_org", "aria-describedby": "id_org_helptext", "required": True, "hx-get": "/contacts/"}


@pytest.mark.parametrize("value", [None, "", "A&B", "7", 7, "é", "not a choice", ["7"]])
def test_same_html_as_select(value):
    expected = forms.Select(choices=CHOICES).render("organisation", value, attrs=ATTRS)
    actual = LeanSelect(choices=CHOICES).render("organisation", value, attrs=ATTRS)
    SimpleTestCase().assertHTMLEqual(actual, expected)


def test_groups_are_refused():
    with pytest.raises(TypeError):
        LeanSelect(choices=[("Group", [("a", "A")])]).render("x", None)
