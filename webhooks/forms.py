from __future__ import annotations

from django import forms

from cohorts.models import Cohort

from . import net
from .models import EventType

MINE = "mine"


class EndpointForm(forms.Form):
    url = forms.CharField(
        label="Address (URL)",
        max_length=2000,
        help_text="Where we post each event, e.g. https://example.org/hooks/warm-intros. Only https:// addresses "
        "on the public internet.",
        widget=forms.URLInput(attrs={"autocomplete": "off", "inputmode": "url", "spellcheck": "false"}),
    )
    description = forms.CharField(label="What it is for", max_length=200, required=False)
    scope = forms.ChoiceField(label="Whose events", initial=MINE, widget=forms.RadioSelect)
    event_types = forms.MultipleChoiceField(
        label="Events",
        choices=EventType.choices,
        widget=forms.CheckboxSelectMultiple,
        initial=list(EventType.values),
        error_messages={"required": "Choose at least one kind of event."},
    )

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.cohorts = {str(c.pk): c for c in Cohort.objects.coached_by(user).order_by("name")}
        choices = [(MINE, "My own requests, follow-ups and offers")]
        choices += [(pk, f"My cohort “{c.name}” (what the dashboard shows)") for pk, c in self.cohorts.items()]
        self.fields["scope"].choices = choices
        if not self.cohorts:
            self.fields["scope"].widget = forms.HiddenInput()

    def clean_url(self) -> str:
        url = self.cleaned_data["url"].strip()
        try:
            net.check(url)
        except net.Refused as refused:
            raise forms.ValidationError(str(refused)) from None
        return url

    @property
    def cohort(self) -> Cohort | None:
        return self.cohorts.get(self.cleaned_data["scope"])
