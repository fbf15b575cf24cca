from __future__ import annotations

import re
from typing import Any

from django import forms
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.urls import reverse

from lib.outbox.services import outbox_enqueue
from lib.timezones import TimeZoneField

from .models import AccessToken, User

# Django's own help is an HTML list; this says the same in a sentence that fits under a field.
PASSWORD_HELP = "At least 8 characters, not only digits, not a common password, and not too like your name or email."


class EmailAuthenticationForm(AuthenticationForm):
    """Log in with an email address; any case matches (see `UserManager.get_by_natural_key`)."""

    username = forms.EmailField(
        label="Email address",
        max_length=254,
        widget=forms.EmailInput(attrs={"autofocus": True, "autocomplete": "email"}),
    )

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": "That email address and password do not match an account. Check both and try again.",
    }

    def clean_username(self) -> str:
        return self.cleaned_data["username"].strip().lower()


class OutboxPasswordResetForm(PasswordResetForm):
    """Django's reset form, with the email written to the outbox rather than sent inline."""

    email = forms.EmailField(
        label="Email address", max_length=254, widget=forms.EmailInput(attrs={"autocomplete": "email"})
    )

    def send_mail(
        self,
        subject_template_name: str,
        email_template_name: str,
        context: dict[str, Any],
        from_email: str | None,
        to_email: str,
        html_email_template_name: str | None = None,
    ) -> None:
        path = reverse("accounts:password_reset_confirm", kwargs={"uidb64": context["uid"], "token": context["token"]})
        outbox_enqueue(
            to=[to_email],
            subject="Reset your Warm Intros password",
            template="password_reset",
            context={
                "user": context["user"],
                "reset_url": settings.SITE_URL + path,
                "valid_hours": settings.PASSWORD_RESET_TIMEOUT // 3600,
            },
        )


class NewPasswordForm(SetPasswordForm):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].help_text = PASSWORD_HELP
        self.fields["new_password2"].label = "New password again"


_LINE_BREAKS = re.compile(r"[\r\n\v\f\x1c-\x1e\x85\u2028\u2029]")


def validate_one_line(value: str) -> None:
    """Names go into email subjects, where a line break could start a new header."""
    if _LINE_BREAKS.search(value):
        raise forms.ValidationError("Keep this on one line.", code="line_break")


def _hour_label(hour: int) -> str:
    return f"{hour:02d}:00"


class ProfileForm(forms.ModelForm):
    """Name, time zone, quiet hours and digest hour; `User.clean` refuses equal quiet hours."""

    time_zone = TimeZoneField(
        label="Time zone",
        help_text="Dates, reminders and your digest follow this time zone.",
    )
    digest_hour = forms.TypedChoiceField(
        label="Daily digest at",
        coerce=int,
        choices=[(h, _hour_label(h)) for h in range(24)],
        help_text="Your local time. The digest lists what is due that day.",
    )

    class Meta:
        model = User
        fields = ["full_name", "time_zone", "quiet_hours_start", "quiet_hours_end", "digest_hour", "intro_capacity"]
        labels = {
            "full_name": "Full name",
            "quiet_hours_start": "Quiet from",
            "quiet_hours_end": "Quiet until",
        }
        help_texts = {
            "quiet_hours_start": "No reminder reaches you from this local time…",
            "quiet_hours_end": "…until this one. It may pass midnight, e.g. 21:00 to 08:00.",
        }
        widgets = {
            "full_name": forms.TextInput(attrs={"autocomplete": "name"}),
            "quiet_hours_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "quiet_hours_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
        }

    def clean_full_name(self) -> str:
        name = self.cleaned_data["full_name"].strip()
        if not name:
            raise forms.ValidationError("Enter your name as others should see it.", code="required")
        validate_one_line(name)
        return name


class AccountDeleteForm(forms.Form):
    """Deleting asks for the password: an open laptop or a borrowed session is not enough."""

    password = forms.CharField(
        label="Your password",
        strip=False,
        max_length=4096,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="To be sure it is you. Nothing is deleted until you press the button below.",
    )

    def __init__(self, user: User, *args: Any, **kwargs: Any) -> None:
        self.user = user
        super().__init__(*args, **kwargs)

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        if not self.user.check_password(password):
            raise forms.ValidationError("That is not your password. Nothing was deleted.", code="wrong_password")
        return password


class AccessTokenForm(forms.Form):
    """A new API token: what it is for, and whether it may change things."""

    name = forms.CharField(
        label="What is it for?",
        max_length=100,
        help_text="A name to know it by, e.g. “My spreadsheet”.",
        error_messages={"required": "Name the token, so you know which one to revoke later."},
    )
    scope = forms.ChoiceField(
        label="What may it do?",
        choices=AccessToken.Scope.choices,
        initial=AccessToken.Scope.READ,
        widget=forms.RadioSelect,
    )

    def clean_name(self) -> str:
        name = " ".join(self.cleaned_data["name"].split())
        validate_one_line(name)
        if not name:
            raise forms.ValidationError("Name the token, so you know which one to revoke later.")
        return name
