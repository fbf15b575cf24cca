from __future__ import annotations

from django import forms
from django.utils import timezone

from accounts.forms import validate_one_line

from .models import Outreach


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def format_value(self, value):
        if value is None or isinstance(value, str):
            return value
        # DateTimeField.prepare_value already turns an aware value into naive local time.
        if timezone.is_aware(value):
            value = timezone.localtime(value)
        return value.strftime("%Y-%m-%dT%H:%M")


class OutreachForm(forms.Form):
    at = forms.DateTimeField(
        label="When did you contact them?",
        widget=DateTimeLocalInput,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"],
    )
    channel = forms.ChoiceField(label="How", choices=Outreach.Channel.choices)
    note = forms.CharField(
        label="Note (optional)", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def clean_at(self):
        at = self.cleaned_data["at"]
        if at > timezone.now() + timezone.timedelta(minutes=5):
            raise forms.ValidationError("Log an attempt once it has happened: this time is in the future.")
        return at


class SnoozeForm(forms.Form):
    days = forms.TypedChoiceField(coerce=int, choices=[(1, "1 day"), (3, "3 days"), (7, "a week")])


class OfferForm(forms.Form):
    offered_by_name = forms.CharField(label="Who offered?", max_length=150, validators=[validate_one_line])
    contact_name = forms.CharField(
        label="Who did they offer to introduce you to?", max_length=150, validators=[validate_one_line]
    )
    contact_organisation = forms.CharField(label="Their organisation", max_length=150, required=False)
    contact_title = forms.CharField(label="Their role", max_length=150, required=False)
    note = forms.CharField(
        label="Note (optional)", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
