from __future__ import annotations

import re

from django import forms
from django.contrib.auth.forms import SetPasswordMixin
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from accounts.forms import PASSWORD_HELP
from accounts.models import User
from accounts.timezones import time_zone_choices

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
    time_zone = forms.ChoiceField(
        label="Time zone",
        choices=time_zone_choices,
        initial="UTC",
        help_text="Reminders and your daily digest follow your local time.",
    )

    def __init__(self, *args, invitation: Invitation, **kwargs):
        self.invitation = invitation
        kwargs.setdefault("initial", {})["email"] = invitation.email
        super().__init__(*args, **kwargs)

    def clean_full_name(self) -> str:
        name = self.cleaned_data["full_name"].strip()
        if not name:
            raise ValidationError("Enter your name as others should see it.", code="required")
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
