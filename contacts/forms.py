from __future__ import annotations

import re

from django import forms
from django.conf import settings
from django.db import transaction
from django.forms.utils import ErrorDict
from django.http import QueryDict
from django.urls import reverse_lazy
from django.utils import timezone

from accounts.forms import validate_one_line
from accounts.models import User
from lib import dates
from lib.addresses import is_international_local_part, sendable, unusable_reason
from lib.timezones import TimeZoneField

from .fileformats import MAX_FILE_BYTES, ImportFileError, sniff
from .models import WEEKDAY_NAMES, Contact, ContactQuerySet, Strength, Tag, mask_to_weekdays, weekdays_to_mask

TAG_MAX_LENGTH = Tag._meta.get_field("name").max_length
TAGS_PER_CONTACT = 20


def split_tags(text: str) -> list[str]:
    """Comma-separated names, trimmed, inner spaces collapsed, repeats (in any case) dropped."""
    names: list[str] = []
    seen: set[str] = set()
    for raw in text.split(","):
        name = re.sub(r"\s+", " ", raw).strip()
        if name and name.lower() not in seen:
            seen.add(name.lower())
            names.append(name)
    return names


def tags_named(*, owner: User, names: list[str]) -> list[Tag]:
    """The owner's tags with these names, reusing one that differs only in case, creating the rest."""
    wanted = {name.lower(): name for name in names}
    if not wanted:
        return []
    # Compared in Python: SQLite's LOWER() leaves non-ASCII letters alone, and one
    # person's tags are few.
    existing = {tag.name.lower(): tag for tag in Tag.objects.filter(owner=owner)}
    tags = []
    for lowered, name in wanted.items():
        tag = existing.get(lowered)
        if tag is None:
            tag, _ = Tag.objects.get_or_create(owner=owner, name=name)
        tags.append(tag)
    return tags


class ContactForm(forms.ModelForm):
    """A contact and their window. The model's `clean()` names the field a window that can never open."""

    # Text rather than Django's email field: an address with an accented local part is
    # refused by EmailValidator, but it is a real address worth keeping (as data, never
    # sent to), and browsers' own email inputs rewrite internationalised domains.
    email = forms.CharField(
        label="Email",
        required=False,
        max_length=Contact._meta.get_field("email_unusable").max_length,
        widget=forms.TextInput(attrs={"inputmode": "email", "autocomplete": "off", "spellcheck": "false"}),
    )
    tags = forms.CharField(
        required=False,
        max_length=1000,
        help_text="Separate tags with commas, e.g. recruiter, fintech, Berlin.",
    )
    # Not required here: with no day ticked the model's own message ("Choose at least one
    # weekday, or the window could never open.") is the one the person sees.
    weekdays = forms.TypedMultipleChoiceField(
        label="Weekdays they may be contacted",
        choices=list(enumerate(WEEKDAY_NAMES)),
        coerce=int,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    time_zone = TimeZoneField(
        label="Their time zone",
        error_messages={
            "invalid_choice": "“%(value)s” is not a time zone we know; the window could never open.",
        },
    )

    class Meta:
        model = Contact
        fields = [
            "name",
            "email",
            "organisation",
            "title",
            "profile_url",
            "connected_on",
            "strength",
            "how_we_know",
            "shareable",
            "notes",
            "time_zone",
            "weekdays",
            "hours_start",
            "hours_end",
            "unavailable_until",
            "min_days_between",
            "do_not_contact",
        ]
        labels = {
            "hours_start": "From (their local time)",
            "hours_end": "Until (their local time)",
            "unavailable_until": "Busy through",
            "connected_on": "Connected since",
        }
        help_texts = {
            "min_days_between": "0 means no minimum.",
        }
        field_classes = {"connected_on": dates.DateField, "unavailable_until": dates.DateField}
        widgets = {
            "hours_start": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "hours_end": forms.TimeInput(attrs={"type": "time"}, format="%H:%M"),
            "min_days_between": forms.NumberInput(attrs={"min": 0, "max": 365}),
            "how_we_know": forms.Textarea(attrs={"rows": 3}),
            "notes": forms.Textarea(attrs={"rows": 4}),
        }

    email_warning = ""  # said beside the address when the one on file can't receive email

    def __init__(self, *args, owner: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.owner = owner
        self.instance.owner = owner
        if self.instance.pk is None:
            # A new contact most often lives where their owner does.
            self.initial.setdefault("time_zone", owner.time_zone)
        else:
            self.initial["tags"] = ", ".join(tag.name for tag in self.instance.tags.all())
            if self.instance.email_unusable and not self.instance.email:
                self.initial["email"] = self.instance.email_unusable
                self.email_warning = (
                    f"This address can't receive email: {self.instance.email_problem}. "
                    "Type one that can, or leave it: it is kept, and nothing is sent to it."
                )
                self.fields["email"].widget.attrs["aria-describedby"] = "id_email_warning"
        # A new instance carries the model's default days; a saved one its own.
        mask = self.initial.get("weekdays", self.instance.weekdays)
        if isinstance(mask, int):
            self.initial["weekdays"] = sorted(mask_to_weekdays(mask))
        # Days in the contact's own calendar (as saved; a new contact's is their owner's). A
        # date already saved and left as it was passes, even once it has passed.
        today = timezone.localdate(timezone=self.instance.zone if self.instance.pk else None)
        self.fields["connected_on"].limit(dates.connected_since(today), unchanged=self.instance.connected_on)
        self.fields["unavailable_until"].limit(
            dates.busy_through(today, free_now="they are free now"), unchanged=self.instance.unavailable_until
        )

    def clean_name(self) -> str:
        validate_one_line(self.cleaned_data["name"])
        return self.cleaned_data["name"]

    def clean_email(self) -> str:
        """A sendable address is the email; one with letters mail servers refuse before the
        @ is kept beside it (said so after saving); anything else is a mistake to correct,
        unless it is the unusable value already on the contact, left as it was."""
        value = " ".join(self.cleaned_data["email"].split())
        self.email_unusable = ""
        if not value or sendable(value):
            return value
        if is_international_local_part(value) or value == self.instance.email_unusable:
            self.email_unusable = value
            return ""
        raise forms.ValidationError(
            "“%(value)s” is not an email address we can use: %(reason)s.",
            code="invalid",
            params={"value": value, "reason": unusable_reason(value)},
        )

    def clean_weekdays(self) -> int:
        return weekdays_to_mask(self.cleaned_data["weekdays"])

    def clean_tags(self) -> list[str]:
        names = split_tags(self.cleaned_data["tags"])
        too_long = [name for name in names if len(name) > TAG_MAX_LENGTH]
        if too_long:
            raise forms.ValidationError(
                "“%(name)s” is too long for a tag; keep each to %(limit)s characters or fewer.",
                code="tag_too_long",
                params={"name": too_long[0], "limit": TAG_MAX_LENGTH},
            )
        if len(names) > TAGS_PER_CONTACT:
            raise forms.ValidationError(
                "That is %(count)s tags; %(limit)s is the most one contact can carry.",
                code="too_many_tags",
                params={"count": len(names), "limit": TAGS_PER_CONTACT},
            )
        return names

    @transaction.atomic
    def save(self, commit: bool = True) -> Contact:
        if not commit:
            raise ValueError("ContactForm saves the contact and its tags together; call save().")
        contact = super().save()
        contact.tags.set(tags_named(owner=self.owner, names=self.cleaned_data["tags"]))
        return contact

    def _post_clean(self) -> None:
        # Set before the model's own checks, which see both address fields.
        if hasattr(self, "email_unusable"):
            self.instance.email_unusable = self.email_unusable
        super()._post_clean()


class ContactFilterForm(forms.Form):
    """The list's search and filters, read from the query string. A value that is not
    (or no longer) a choice is dropped rather than shown as an error."""

    q = forms.CharField(label="Search", required=False, max_length=100)
    # Words of an organisation's name, not a choice among every organisation (a connector can
    # know two thousand): the page suggests matching ones as they are typed (contacts:organisations).
    organisation = forms.CharField(label="Organisation", required=False, max_length=150)
    strength = forms.ChoiceField(label="Strength", required=False, choices=[("", "Any strength"), *Strength.choices])
    tag = forms.ChoiceField(label="Tag", required=False)

    def __init__(self, data: QueryDict, *, owner: User) -> None:
        super().__init__(data)
        # Each control asks for the results itself, sending the whole form; the form
        # element carries where they go (hx-target, hx-push-url, hx-indicator).
        live = {
            "hx-get": reverse_lazy("contacts:list"),
            "hx-include": "closest form",
            "hx-sync": "closest form:replace",
        }
        typed = {"type": "search", "autocomplete": "off", "hx-trigger": "input changed delay:300ms, search", **live}
        self.fields["q"].widget = forms.TextInput(attrs={"placeholder": "Name, organisation, role or email", **typed})
        self.fields["organisation"].widget = forms.TextInput(
            attrs={
                "placeholder": "Any organisation",
                # The suggestions below the field (the page's #organisation-suggestions) say how many match.
                "aria-describedby": "organisation-suggestions",
                **typed,
            }
        )
        for name in ("strength", "tag"):
            self.fields[name].widget.attrs.update(live)
        tags_in_use = (
            Tag.objects.filter(owner=owner, contacts__isnull=False)
            .order_by("name")
            .values_list("name", flat=True)
            .distinct()
        )
        self.fields["tag"].choices = [("", "Any tag")] + [(name, name) for name in tags_in_use]

    def full_clean(self) -> None:
        super().full_clean()
        self._errors = ErrorDict()  # an out-of-date link still lists contacts

    def apply(self, contacts: ContactQuerySet) -> ContactQuerySet:
        self.is_valid()
        wanted = self.cleaned_data
        if wanted.get("q"):
            contacts = contacts.search(wanted["q"])
        if wanted.get("organisation"):
            contacts = contacts.in_organisation(wanted["organisation"])
        if wanted.get("strength"):
            contacts = contacts.filter(strength=wanted["strength"])
        if wanted.get("tag"):
            contacts = contacts.tagged(wanted["tag"])
        return contacts

    @property
    def searching(self) -> bool:
        """Words are searched for (they match inside names, so every contact is read)."""
        self.is_valid()
        return bool(self.cleaned_data.get("q") or self.cleaned_data.get("organisation"))

    @property
    def active(self) -> bool:
        self.is_valid()
        return any(self.cleaned_data.get(name) for name in self.fields)


class ImportUploadForm(forms.Form):
    """A contacts file, read and checked here: a file that cannot be imported is a form error."""

    file = forms.FileField(
        label="Contacts file",
        allow_empty_file=True,  # an empty file gets the import's own message, not Django's
        widget=forms.FileInput(attrs={"accept": ".csv,.vcf,.vcard,text/csv,text/vcard"}),
    )

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["file"].help_text = (
            "LinkedIn’s Connections.csv (Settings → Data privacy → Get a copy of your data → Connections), "
            "a vCard (.vcf) from Google Contacts, Apple Contacts or Outlook, or a CSV exported from Warm Intros. "
            f"Up to {MAX_FILE_BYTES // 1024 // 1024} MB and {settings.IMPORT_MAX_ROWS:,} contacts a file."
        )

    def clean_file(self):
        """The checks that take a moment whatever the size; the rows are read by a worker."""
        upload = self.cleaned_data["file"]
        if upload.size > MAX_FILE_BYTES:
            # Refused before reading it into memory.
            raise forms.ValidationError(
                "The file is %(size).1f MB; the most we can import at once is %(limit)s MB. Split it into smaller files.",
                code="too_big",
                params={"size": upload.size / 1024 / 1024, "limit": MAX_FILE_BYTES // 1024 // 1024},
            )
        self.raw = upload.read()
        try:
            self.source = sniff(upload.name, self.raw)
        except ImportFileError as exc:
            raise forms.ValidationError(str(exc), code="bad_file") from exc
        return upload
