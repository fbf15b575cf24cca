"""url_with_pk gives what reverse() gives, for any id and script prefix."""

from __future__ import annotations

import pytest
from django.urls import reverse, set_script_prefix

from lib.links import url_with_pk

NAMES = ["intros:detail", "intros:create", "contacts:detail", "followups:done", "followups:snooze", "followups:skip"]


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("pk", [1, 7, 42, 1_000_000, 2**53])
def test_same_as_reverse(name, pk):
    assert url_with_pk(name, pk) == reverse(name, args=[pk])


def test_follows_the_script_prefix():
    try:
        set_script_prefix("/warm/")
        assert url_with_pk("intros:detail", 5) == reverse("intros:detail", args=[5])
        assert url_with_pk("intros:detail", 5).startswith("/warm/")
    finally:
        set_script_prefix("/")
    assert not url_with_pk("intros:detail", 5).startswith("/warm/")


def test_refuses_what_is_not_an_id():
    with pytest.raises(ValueError):
        url_with_pk("intros:detail", "5/../../admin")


def test_leading_arguments_are_kept_apart():
    for cohort in (3, 4):
        for user in (10, 11):
            assert url_with_pk("cohorts:remove_member", cohort, user) == reverse(
                "cohorts:remove_member", args=[cohort, user]
            )
