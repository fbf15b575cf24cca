from __future__ import annotations

import datetime as dt
import re

from django import forms
from django.contrib.auth.forms import SetPasswordMixin
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone

from accounts import dates
from accounts.forms import PASSWORD_HELP, validate_one_line
from accounts.models import User
from accounts.timezones import TimeZoneField
from accounts.widgets import TimeZoneSelect

from . import dashboard
from .models import Cohort, Invitation

MAX_INVITES_AT_ONCE = 50
_SEPARATORS = re.compile(r"[\s,;]+")


class CohortForm(forms.ModelForm):
    class Meta:
        model = Cohort
        fields = ["name"]
        labels = {"name": "Cohort name"}
        help_texts = {"name": "What members will see, e.g. “Spring 2026 career changers”."}

    def clean_name(self) -> str:
        validate_one_line(self.cleaned_data["name"])
        return self.cleaned_data["name"].strip()


class InviteForm(forms.Form):
    emails = forms.CharField(
        label="Email addresses",
        widget=forms.Textarea(attrs={"rows": 3, "autocomplete": "off", "spellcheck": "false"}),
        help_text="One or several, separated by commas or new lines. Each person gets their own link.",
        max_length=10_000,
    )

    def clean_emails(self) -> list[str]:
        raw = [part.strip().strip("<>").lower() for part in _SEPARATORS.split(self.cleaned_data["emails"])]
        emails = list(dict.fromkeys(part for part in raw if part))
        bad = []
        for email in emails:
            try:
                validate_email(email)
            except ValidationError:
                bad.append(email)
        if bad:
            raise ValidationError(
                "These are not email addresses: %(bad)s. Correct them and send again; nothing was sent.",
                code="invalid_emails",
                params={"bad": ", ".join(bad)},
            )
        if not emails:
            raise ValidationError("Enter at least one email address.", code="required")
        if len(emails) > MAX_INVITES_AT_ONCE:
            raise ValidationError(
                "Invite at most %(max)d people at once.", code="too_many", params={"max": MAX_INVITES_AT_ONCE}
            )
        return emails


class InvitationSignupForm(SetPasswordMixin, forms.Form):
    """The invited person's account: the email is the invitation's and cannot be changed."""

    full_name = forms.CharField(
        label="Full name", max_length=150, widget=forms.TextInput(attrs={"autocomplete": "name"})
    )
    # Read-only in the page; whatever is posted, the account gets the invited address.
    email = forms.EmailField(
        label="Email address",
        required=False,
        help_text="The address your invitation was sent to.",
        widget=forms.EmailInput(attrs={"readonly": True, "autocomplete": "email"}),
    )
    password1, password2 = SetPasswordMixin.create_password_fields(label2="Password again")
    password1.help_text = PASSWORD_HELP
    time_zone = TimeZoneField(
        label="Time zone",
        initial="UTC",
        help_text="Reminders and your daily digest follow your local time.",
        # A new account starts in the zone of the device signing up (static/js/app.js).
        widget=TimeZoneSelect(attrs={"data-choose-device": ""}),
    )

    def __init__(self, *args, invitation: Invitation, **kwargs):
        self.invitation = invitation
        kwargs.setdefault("initial", {})["email"] = invitation.email
        super().__init__(*args, **kwargs)

    def clean_full_name(self) -> str:
        name = self.cleaned_data["full_name"].strip()
        if not name:
            raise ValidationError("Enter your name as others should see it.", code="required")
        validate_one_line(name)
        return name

    def clean_email(self) -> str:
        return self.invitation.email

    def clean(self) -> dict:
        cleaned = super().clean()
        self.validate_passwords()
        # Similarity to name and email is checked against the account to be.
        self.validate_password_for_user(
            User(email=self.invitation.email, full_name=cleaned.get("full_name", "")),
            password_field_name="password2",
        )
        if User.objects.filter(email__iexact=self.invitation.email).exists():
            raise ValidationError("An account with this email address already exists. Log in to accept.")
        return cleaned


# --- the coach dashboard ------------------------------------------------------------------

MAX_CUSTOM_DAYS = 731


class DashboardForm(forms.Form):
    """The dashboard's query string: the period and the member table's order.

    A bad value never breaks the page: `problems()` says what was wrong in words, and the
    dashboard falls back to the last 30 days and its usual order.
    """

    period = forms.ChoiceField(
        label="Period",
        choices=[("30", "Last 30 days"), ("90", "Last 90 days"), ("custom", "Custom dates")],
        required=False,
    )
    start = dates.DateField(
        label="From", required=False, error_messages={"invalid": "The start date is not a date: use YYYY-MM-DD."}
    )
    end = dates.DateField(
        label="To (inclusive)",
        required=False,
        error_messages={"invalid": "The end date is not a date: use YYYY-MM-DD."},
    )
    sort = forms.ChoiceField(choices=[(key, key) for key in dashboard.COLUMNS], required=False)
    dir = forms.ChoiceField(choices=[("asc", "ascending"), ("desc", "descending")], required=False)
    # Words of a member's name: the member table shows those whose name holds them.
    q = forms.CharField(
        label="Find a member",
        required=False,
        widget=forms.TextInput(attrs={"type": "search", "autocomplete": "off", "placeholder": "Part of a name"}),
    )

    error_messages = {
        "period": "Choose the last 30 days, the last 90 days or custom dates.",
        "sort": "That column can't be sorted; the table is in its usual order.",
        "dir": "Sort ascending or descending; the table is in its usual order.",
    }

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()  # the coach's
        for end in ("start", "end"):
            self.fields[end].limit(dates.dashboard_day(today, end=end))

    def clean(self) -> dict:
        cleaned = super().clean()
        if cleaned.get("period") == "custom" and not {"start", "end"} & set(self.errors):
            start, end = cleaned.get("start"), cleaned.get("end")
            if start is None or end is None:
                raise ValidationError("For custom dates, give both a start and an end date.", code="custom_missing")
            if start > end:
                raise ValidationError("The start date is after the end date.", code="custom_order")
            if (end - start).days >= MAX_CUSTOM_DAYS:
                raise ValidationError("Choose at most two years.", code="custom_too_long")
        return cleaned

    def problems(self, *, fields_shown: bool = False) -> list[str]:
        """What was wrong, in words. With `fields_shown` (the dashboard page, where each date's
        error stands beside it) a wrong date is pointed to rather than said twice."""
        if not self.is_bound or self.is_valid():
            return []
        found = [self.error_messages[name] for name in self.errors if name in self.error_messages]
        dated = [error for name in ("start", "end") for error in self.errors.get(name, [])]
        if dated and fields_shown:
            found.append("The dates below could not be used; each says why.")
        else:
            found += dated
        found += list(self.non_field_errors())
        if {"period", "start", "end"} & set(self.errors) or self.non_field_errors():
            found.append("Showing the last 30 days instead.")
        return found

    def period_for(self, *, now: dt.datetime, tz: dt.tzinfo) -> dashboard.Period:
        if not self.is_bound:
            return dashboard.rolling_period("30", now=now)
        self.is_valid()
        data = self.cleaned_data
        key = data.get("period") or "30"
        period_ok = not ({"period", "start", "end"} & set(self.errors) or self.non_field_errors())
        if not period_ok:
            return dashboard.rolling_period("30", now=now)
        if key == "custom":
            return dashboard.custom_period(data["start"], data["end"], tz=tz)
        return dashboard.rolling_period(key, now=now)

    def member_words(self) -> str:
        """What the member table is narrowed to ("" for everyone)."""
        if not self.is_bound:
            return ""
        self.is_valid()
        return self.cleaned_data.get("q", "")[:100]

    def ordering(self) -> tuple[str, str]:
        if not self.is_bound:
            return dashboard.DEFAULT_SORT
        self.is_valid()
        key = self.cleaned_data.get("sort") or dashboard.DEFAULT_SORT[0]
        if "sort" in self.errors:
            key = dashboard.DEFAULT_SORT[0]
        direction = self.cleaned_data.get("dir") or dashboard.COLUMNS[key][2]
        return key, direction


class NudgeForm(forms.Form):
    note = forms.CharField(
        label="Your note",
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Sent by email from Warm Intros, with your address to reply to.",
    )

    def clean_note(self) -> str:
        note = self.cleaned_data["note"].strip()
        if not note:
            raise ValidationError("Write a few words for them to read.", code="required")
        return note
