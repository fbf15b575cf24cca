from __future__ import annotations

from django import forms
from django.utils import timezone

from accounts import dates
from accounts.forms import validate_one_line
from intros.models import IntroRequest

from .models import Outreach


class OutreachForm(forms.Form):
    at = dates.DateTimeField(label="When did you contact them?")
    channel = forms.ChoiceField(label="How", choices=Outreach.Channel.choices)
    note = forms.CharField(
        label="Note (optional)", required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 2})
    )
    confirmed = forms.BooleanField(required=False, widget=forms.HiddenInput)

    def __init__(self, *args, intro: IntroRequest, **kwargs):
        super().__init__(*args, **kwargs)
        # Not before the introduction: before it, writing to them was not this introduction's outreach.
        introduced = intro.introduced_at or intro.created_at
        self.fields["at"].limit(dates.outreach_moment(introduced=introduced, now=timezone.now()))


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
