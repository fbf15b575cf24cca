from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from accounts import dates
from accounts.forms import validate_one_line
from accounts.timezones import TimeZoneField, time_zone_choices, zone_name
from contacts.models import WEEKDAY_NAMES, Strength

from .models import REVIEWED_FIELDS, IntroRequest
from .preparation import RULES
from .states import Mode, Outcome


class TimeInput(forms.TimeInput):
    input_type = "time"


WHY_NOW_WORDS = 4


class PreparationForm(forms.ModelForm):
    """The seeker's preparation. Saving a draft accepts anything; submitting checks substance.
    `asked_before`: the seeker asked this person before and heard no (or nothing), so the form
    also asks, first and required, why now."""

    class Meta:
        model = IntroRequest
        fields = REVIEWED_FIELDS
        widgets = {name: forms.Textarea(attrs={"rows": 3}) for name in REVIEWED_FIELDS}

    def __init__(self, *args, asked_before: bool = False, **kwargs):
        super().__init__(*args, **kwargs)
        if asked_before:
            why_now = self.fields["why_now"]
            why_now.required = True
            why_now.label = "Why ask again now?"
            why_now.error_messages["required"] = "Say what has changed since you last asked them."
            self.order_fields(["why_now"])
        else:
            del self.fields["why_now"]
        for name, field in self.fields.items():
            # Django describes the field by its help and, when refused, its error (aria-describedby);
            # setting the attribute here would leave the error out.
            field.help_text = RULES[name][1] if name in RULES else field.help_text
        if asked_before:
            self.fields["why_now"].help_text = (
                "What is different this time: a new role, news at their company, time that has passed. "
                "The connector reads it beside the history above."
            )
        self.fields["blurb"].widget.attrs["rows"] = 4

    def clean_why_now(self) -> str:
        text = self.cleaned_data["why_now"].strip()
        if text and len(text.split()) < WHY_NOW_WORDS:
            raise forms.ValidationError(
                f"Say it in a sentence (at least {WHY_NOW_WORDS} words): what has changed since you last asked?"
            )
        return text


class VouchForm(forms.Form):
    checked_preparation = forms.BooleanField(
        label="I read the preparation: the goal and questions are specific",
        error_messages={"required": "Tick this once you have read the preparation and found it specific."},
    )
    checked_fit = forms.BooleanField(
        label="The fit is real: this is worth their time",
        error_messages={"required": "Tick this if the fit is real; if it isn't, ask for changes or decline."},
    )
    checked_relationship = forms.BooleanField(
        label="I know the seeker well enough to put my name on this",
        error_messages={"required": "Tick this if you know them well enough to put your name on it."},
    )
    vouch_strength = forms.ChoiceField(
        label="How well do you really know the seeker?",
        choices=Strength.choices,
        widget=forms.RadioSelect,
        help_text="Be honest: the target sees this before deciding.",
        error_messages={"required": "Choose how well you know them: the target sees it."},
    )
    vouch_note = forms.CharField(
        label="Your vouch note to them",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
        help_text="A sentence or two in your own words. The target reads it with the blurb.",
        error_messages={"required": "Write a sentence or two for the target: they decide on it."},
    )
    mode = forms.ChoiceField(
        label="How should the introduction be made?",
        choices=Mode.choices,
        initial=Mode.DOUBLE_OPT_IN,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how the introduction is made."},
    )
    # What is still missing, in the words of the one sentence above the form.
    MISSING = {
        "checked_preparation": "confirm you read the preparation",
        "checked_fit": "confirm the fit is real",
        "checked_relationship": "confirm you know them well enough",
        "vouch_strength": "say how well you know them",
        "vouch_note": "write your vouch note",
        "mode": "choose how the introduction is made",
    }
    parent = forms.ModelChoiceField(
        label="This follows from one of your own introductions (optional)",
        queryset=IntroRequest.objects.none(),
        required=False,
        help_text="For a referral chain: the introduction whose outcome opened this one.",
    )

    def __init__(self, *args, connector=None, **kwargs):
        super().__init__(*args, **kwargs)
        chains = (
            IntroRequest.objects.of_seeker(connector)
            .filter(outcome__in=[Outcome.HIRED, Outcome.OFFER, Outcome.REFERRED_ON])
            .select_related("target")
            if connector is not None
            else IntroRequest.objects.none()
        )
        if connector is not None and chains.exists():
            self.fields["parent"].queryset = chains
            self.fields["parent"].label_from_instance = lambda i: f"{i.target.name} ({i.get_outcome_display()})"
        else:
            del self.fields["parent"]

    def clean_vouch_note(self) -> str:
        note = self.cleaned_data["vouch_note"].strip()
        if len(note.split()) < 4:
            raise forms.ValidationError("Write at least a sentence: the target decides on it.")
        return note

    def clean(self):
        data = super().clean()
        missing = [
            words
            for name, words in self.MISSING.items()
            if name in self.errors and any(e.code == "required" for e in self.errors.as_data()[name])
        ]
        if missing:
            listed = missing[0] if len(missing) == 1 else ", ".join(missing[:-1]) + " and " + missing[-1]
            self.add_error(None, f"Before approving, {listed}.")
        return data


class ConnectorNoteForm(forms.Form):
    note = forms.CharField(
        label="Your note to the seeker",
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )

    def clean_note(self) -> str:
        note = self.cleaned_data["note"].strip()
        if not note:
            raise forms.ValidationError("Write a note: the seeker will read it.")
        return note


class MeetingForm(forms.Form):
    met_on = dates.DateField(label="When did you meet?")

    def __init__(self, *args, intro: IntroRequest, **kwargs):
        super().__init__(*args, **kwargs)
        today = timezone.localdate()  # the seeker's, as the page is theirs
        requested = timezone.localdate(intro.created_at)
        self.fields["met_on"].limit(dates.meeting_day(requested=requested, today=today))


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(label="What came of it?", choices=Outcome.choices, widget=forms.RadioSelect)
    note = forms.CharField(
        label="A few words for your connector",
        widget=forms.Textarea(attrs={"rows": 3}),
        required=False,
        max_length=2000,
    )
    referred_name = forms.CharField(
        label="Who did they refer you to?", required=False, max_length=150, validators=[validate_one_line]
    )
    referred_organisation = forms.CharField(
        label="Their organisation", required=False, max_length=150, validators=[validate_one_line]
    )
    referred_title = forms.CharField(label="Their role", required=False, max_length=150, validators=[validate_one_line])

    def clean(self):
        data = super().clean()
        if data.get("outcome") == Outcome.REFERRED_ON and not data.get("referred_name", "").strip():
            self.add_error("referred_name", "Say who they referred you to, so the next introduction can start.")
        return data


# --- the target's answers -------------------------------------------------------------


class AcceptForm(forms.Form):
    WRITES_FIRST = [("seeker", "They should write to me"), ("target", "I'll reach out to them")]

    writes_first = forms.ChoiceField(
        label="Who writes first?", choices=WRITES_FIRST, initial="seeker", widget=forms.RadioSelect
    )
    busy_until = dates.DateField(
        label="I'm busy through (optional)",
        required=False,
        help_text="Nobody will be asked to write to you before the day after.",
    )
    weekdays = forms.TypedMultipleChoiceField(
        label="Days that suit me (optional)",
        required=False,
        coerce=int,
        choices=[(i, name) for i, name in enumerate(WEEKDAY_NAMES)],
        widget=forms.CheckboxSelectMultiple,
    )
    hours_start = forms.TimeField(label="From (optional)", required=False, widget=TimeInput)
    hours_end = forms.TimeField(label="Until (optional)", required=False, widget=TimeInput)
    time_zone = TimeZoneField(label="My time zone", required=False, blank="Keep it as it is")

    def __init__(self, *args, contact=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.contact = contact
        if contact is not None:
            # Say which zone is kept: the one the connector noted for them.
            kept = f"Keep {zone_name(contact.time_zone)} (as now)"
            self.fields["time_zone"].choices = [("", kept), *time_zone_choices()]
        self.fields["busy_until"].limit(dates.busy_through(_target_today(contact), free_now="you are free now"))

    def clean(self):
        data = super().clean()
        start, end = data.get("hours_start"), data.get("hours_end")
        if (start is None) != (end is None):
            self.add_error("hours_end" if start else "hours_start", "Give both the start and the end of your hours.")
        elif start is not None and end <= start:
            self.add_error("hours_end", "The hours must end after they start (e.g. 09:00–17:00).")
        return data


class DeferForm(forms.Form):
    until = dates.DateField(label="Ask me again after")
    note = forms.CharField(
        label="A note (optional)", required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=1000
    )

    def __init__(self, *args, contact=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.contact = contact
        self.fields["until"].limit(dates.ask_again_after(_target_today(contact)))


def _target_today(contact) -> dt.date:
    """Today where the target is: their answers are days in their own calendar."""
    return timezone.localdate(timezone=contact.zone) if contact is not None else timezone.localdate()


class TargetNoteForm(forms.Form):
    note = forms.CharField(
        label="A note (optional)", required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=1000
    )


class FeedbackForm(forms.Form):
    rating = forms.TypedChoiceField(
        label="How good was the match?",
        coerce=int,
        widget=forms.RadioSelect,
        choices=(),
    )
    note = forms.CharField(
        label="Anything the connector should know? (optional)",
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        max_length=2000,
    )

    def __init__(self, *args, **kwargs):
        from .services import FEEDBACK_RATINGS

        super().__init__(*args, **kwargs)
        self.fields["rating"].choices = sorted(FEEDBACK_RATINGS.items(), reverse=True)
