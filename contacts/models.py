from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo
from collections.abc import Iterator
from operator import attrgetter
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator
from django.db import models, transaction
from django.db.models import Q
from django.urls import reverse

from lib.addresses import SENDABLE_PATTERN, unusable_reason
from lib.search import search_key
from lib.timezones import all_time_zones, validate_time_zone

from .policy import wall_to_utc
from .windows import WEEKDAY_NAMES, Window


class Strength(models.TextChoices):
    """How well two people really know each other."""

    CLOSE = "close", "Close — we know each other well"
    ACQUAINTED = "acquainted", "Acquainted — we have met and talked"
    ONLINE_ONLY = "online_only", "Online only — connected, never really talked"
    NEVER_MET = "never_met", "Never met"


WEEKDAYS_ALL = 0b1111111
WEEKDAYS_WORK = 0b0011111  # Monday (bit 0) to Friday (bit 4)


def weekdays_to_mask(days: set[int] | list[int]) -> int:
    mask = 0
    for day in days:
        mask |= 1 << int(day)
    return mask


def mask_to_weekdays(mask: int) -> frozenset[int]:
    return frozenset(day for day in range(7) if mask & (1 << day))


class Tag(models.Model):
    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact_tags")
    name = models.CharField(max_length=40)

    class Meta:
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="tag_unique_per_owner")]

    def __str__(self) -> str:
        return self.name


# The fields a contact is found by, and the columns that hold their search keys
# (lib.search). The keys are written with the fields on every write: by Contact.save(),
# and by ContactQuerySet's bulk_create, bulk_update and update, so no write path can forget.
SEARCHED_FIELDS = frozenset({"name", "organisation", "title", "email", "email_unusable"})
SEARCH_KEY_FIELDS = ("search_text", "search_organisation", "search_email")
# Between the name, organisation and role in `search_text`: a search key never holds one,
# so a search can never match across two fields.
SEARCH_TEXT_SEPARATOR = "\n"


def search_keys(*, name: str, organisation: str, title: str, email: str) -> dict[str, str]:
    """A contact's search key columns, from its fields."""
    return {
        "search_text": SEARCH_TEXT_SEPARATOR.join(search_key(value) for value in (name, organisation, title)),
        "search_organisation": search_key(organisation),
        "search_email": search_key(email),
    }


class ContactQuerySet(models.QuerySet["Contact"]):
    def owned_by(self, user) -> ContactQuerySet:
        return self.filter(owner=user)

    def shared_with(self, user) -> ContactQuerySet:
        """Contacts other members of `user`'s cohorts chose to share (names, never details).

        The cohort relation is followed by name so that this app does not import
        `cohorts`, which sits above it.
        """
        # `owner IN (co-members)` rather than a join: no duplicates, so no DISTINCT over wide rows.
        co_members = get_user_model().objects.filter(cohort_memberships__cohort__memberships__user=user).values("pk")
        return self.filter(shareable=True, owner__in=co_members).exclude(owner=user)

    def search(self, text: str) -> ContactQuerySet:
        """The owner's search: words inside the name, organisation, role or email, whatever
        their case and accents."""
        key = search_key(text)
        if not key:
            return self
        return self.filter(Q(search_text__contains=key) | Q(search_email__contains=key))

    def search_shared(self, text: str) -> ContactQuerySet:
        """A search among other people's contacts: only what the cohort sees (name,
        organisation, role), never the email."""
        key = search_key(text)
        if not key:
            return self
        return self.filter(search_text__contains=key)

    def named(self, name: str) -> ContactQuerySet:
        """Contacts called exactly `name`, whatever its case and accents ("Jose Lopez", "José López")."""
        return self.filter(search_text__startswith=search_key(name) + SEARCH_TEXT_SEPARATOR)

    def in_organisation(self, text: str) -> ContactQuerySet:
        """Contacts whose organisation holds these words, whatever their case and accents."""
        key = search_key(text)
        if not key:
            return self
        return self.filter(search_organisation__contains=key)

    def organisations_matching(self, text: str, *, limit: int) -> list[str]:
        """Up to `limit` distinct organisation names holding these words: those that start with
        them first, each group alphabetical as written ("São Paulo" beside "Sao Tome", whatever
        the database's collation)."""
        key = search_key(text)
        if not key:
            return []
        names = (
            self.filter(search_organisation__contains=key)
            .order_by("organisation")
            .values_list("organisation", flat=True)
            .distinct()
        )
        keyed = [(search_key(name), name) for name in names[:limit]]
        return [name for _, name in sorted(keyed, key=lambda pair: (not pair[0].startswith(key), pair))]

    # --- the search keys follow every write ----------------------------------------------------

    def bulk_create(self, objs, *args, **kwargs):
        objs = list(objs)
        for contact in objs:
            contact.set_search_keys()
        return super().bulk_create(objs, *args, **kwargs)

    def bulk_update(self, objs, fields, *args, **kwargs):
        fields = list(fields)
        if not SEARCHED_FIELDS.isdisjoint(fields):
            objs = list(objs)
            for contact in objs:
                contact.set_search_keys()
            fields += [name for name in SEARCH_KEY_FIELDS if name not in fields]
        return super().bulk_update(objs, fields, *args, **kwargs)

    def update(self, **kwargs) -> int:
        """As QuerySet.update; a change to a searched field also rewrites those rows' keys
        (the new values may be expressions, so they are read back). bulk_update() comes here
        with the keys it computed, which are written as given."""
        if SEARCHED_FIELDS.isdisjoint(kwargs) or set(SEARCH_KEY_FIELDS) <= kwargs.keys():
            return super().update(**kwargs)
        with transaction.atomic(using=self.db, savepoint=False):
            ids = list(self.values_list("pk", flat=True))
            count = super().update(**kwargs)
            plain = models.QuerySet(self.model, using=self.db)  # writes the keys as given
            for start in range(0, len(ids), 500):
                rows = list(plain.filter(pk__in=ids[start : start + 500]).only("pk", *SEARCHED_FIELDS))
                for contact in rows:
                    contact.set_search_keys()
                plain.bulk_update(rows, SEARCH_KEY_FIELDS)
        return count

    def tagged(self, name: str) -> ContactQuerySet:
        """Contacts carrying the owner's tag called `name` (a tag is only ever the contact owner's)."""
        return self.filter(tags__name=name, tags__owner=models.F("owner"))

    def for_list(self) -> ContactQuerySet:
        """What a page listing contacts reads: the tags come in one query, whatever the count."""
        return self.prefetch_related("tags")

    def for_export(self, *fields: str, chunk_size: int = 2000) -> Iterator[tuple[Any, list[str]]]:
        """Each contact as a row of `fields` (all by default; `row.name`, `row.weekdays`…) with
        its tag names, in the queryset's order, read through a cursor `chunk_size` rows at a
        time: memory stays flat and it is one query, whatever the size of the address book.

        Rows rather than model instances with prefetched tags: the CSV of 200,000 contacts took
        8.1 s of CPU that way and takes 2.7 s now (`make bench`, "Exports"). The tags are joined
        in (a contact with two tags comes on two rows, gathered here) rather than fetched per
        chunk by id, as a prefetch does: a list of 2,000 ids to send with every chunk cost more
        than the join."""
        names = list(fields or (f.attname for f in Contact._meta.concrete_fields))
        if "id" not in names:
            names.append("id")
        ordering = self.query.order_by or Contact._meta.ordering
        rows = (
            self.order_by(*ordering, "pk", "tags__name")
            .values_list(*names, "tags__name", named=True)
            .iterator(chunk_size=chunk_size)
        )
        for _, group in itertools.groupby(rows, key=attrgetter("id")):
            same_contact = list(group)
            yield same_contact[0], [row.tags__name for row in same_contact if row.tags__name is not None]


class Contact(models.Model):
    """Someone a user knows, and the window in which they may be contacted."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=150)
    # Only an address we can send to (a database check says so, whoever writes it). One we
    # cannot (a non-ASCII local part, a typo in an imported file) is kept beside it, for the
    # owner to see and fix, and nothing is ever sent to it.
    email = models.EmailField(blank=True)
    email_unusable = models.CharField("address that can't receive email", max_length=320, blank=True)
    organisation = models.CharField(max_length=150, blank=True)
    title = models.CharField("role or title", max_length=150, blank=True)
    profile_url = models.URLField("profile URL", blank=True, max_length=500)
    strength = models.CharField(
        "relationship strength", max_length=20, choices=Strength.choices, default=Strength.ACQUAINTED
    )
    how_we_know = models.TextField("how we know each other", blank=True)
    notes = models.TextField("private notes", blank=True)
    tags = models.ManyToManyField(Tag, blank=True, related_name="contacts")
    shareable = models.BooleanField(
        "share with my cohort",
        default=False,
        help_text="Cohort members see the name, role and organisation — never the email or notes.",
    )
    connected_on = models.DateField(null=True, blank=True)

    # The search keys of name, organisation, role and email (lib.search), which searches
    # compare. Written with those fields on every write (see SEARCHED_FIELDS), never by hand.
    search_text = models.TextField(editable=False, blank=True)  # name, organisation, role: what a cohort sees
    search_organisation = models.TextField(editable=False, blank=True)
    search_email = models.TextField(editable=False, blank=True)
    # On PostgreSQL search_text and search_email also have trigram indexes, for `LIKE '%key%'`
    # (migration 0006_search_trigram_indexes; not declared here, as SQLite has no such index).

    # The availability window.
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    weekdays = models.PositiveSmallIntegerField(default=WEEKDAYS_WORK, help_text="Bit 0 is Monday.")
    hours_start = models.TimeField(default=dt.time(9, 0))
    hours_end = models.TimeField(default=dt.time(17, 0))
    unavailable_until = models.DateField(
        null=True,
        blank=True,
        help_text="Busy through this date (in their time zone); nobody writes before the next day.",
    )
    min_days_between = models.PositiveSmallIntegerField(
        "minimum days between contacts", default=0, validators=[MaxValueValidator(365)]
    )
    do_not_contact = models.BooleanField(default=False)
    last_contacted_at = models.DateTimeField(null=True, blank=True)

    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ContactQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        indexes = [
            models.Index(fields=["owner", "name"]),
            models.Index(fields=["owner", "organisation"]),
            models.Index(fields=["owner", "email"]),
            models.Index(fields=["shareable", "organisation"]),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(weekdays__gt=0) & Q(weekdays__lte=WEEKDAYS_ALL),
                name="contact_window_has_weekdays",
            ),
            models.CheckConstraint(
                condition=Q(hours_end__gt=models.F("hours_start")), name="contact_window_hours_order"
            ),
            models.CheckConstraint(
                condition=Q(email="") | Q(email__regex=SENDABLE_PATTERN), name="contact_email_sendable"
            ),
            models.CheckConstraint(condition=Q(email="") | Q(email_unusable=""), name="contact_one_email"),
            # Written keys always hold the separators: an empty one is a write that skipped them.
            models.CheckConstraint(condition=~Q(search_text=""), name="contact_search_keys_written"),
        ]

    def __str__(self) -> str:
        return self.name

    def save(self, **kwargs) -> None:
        update_fields = kwargs.get("update_fields")
        if update_fields is None:
            # A row loaded without any searched field (`only("last_contacted_at")`) writes none.
            if not self.get_deferred_fields() >= SEARCHED_FIELDS:
                self.set_search_keys()
        elif not SEARCHED_FIELDS.isdisjoint(update_fields):
            self.set_search_keys()
            kwargs["update_fields"] = {*update_fields, *SEARCH_KEY_FIELDS}
        super().save(**kwargs)

    def get_absolute_url(self) -> str:
        return reverse("contacts:detail", args=[self.pk])

    def set_search_keys(self) -> None:
        """Bring the search key columns in step with the fields (before they are written)."""
        # An address that can't receive email is still how the owner finds the person.
        email = self.email or self.email_unusable
        keys = search_keys(name=self.name, organisation=self.organisation, title=self.title, email=email)
        for column, value in keys.items():
            setattr(self, column, value)

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        if self.time_zone not in all_time_zones():
            errors["time_zone"] = f"“{self.time_zone}” is not a time zone we know; the window could never open."
        if not self.weekdays or not (0 < self.weekdays <= WEEKDAYS_ALL):
            errors["weekdays"] = "Choose at least one weekday, or the window could never open."
        if self.hours_start is not None and self.hours_end is not None and self.hours_end <= self.hours_start:
            errors["hours_end"] = (
                "The hours must end after they start (e.g. 09:00–17:00), or the window could never open."
            )
        if errors:
            raise ValidationError(errors)

    @property
    def email_problem(self) -> str:
        """Why the address on file can't receive email ("" when there is none, or it can)."""
        return unusable_reason(self.email_unusable) if self.email_unusable else ""

    @property
    def weekday_set(self) -> frozenset[int]:
        return mask_to_weekdays(self.weekdays)

    @property
    def weekday_names(self) -> list[str]:
        return [WEEKDAY_NAMES[d] for d in sorted(self.weekday_set)]

    @property
    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.time_zone)

    def unavailable_until_moment(self) -> dt.datetime | None:
        """The first instant after the busy date: local midnight of the next day, in UTC.

        "Busy through" is a promise not to disturb: where the clock reads midnight twice (Havana
        goes back from 01:00 to 00:00), it holds until the second midnight; where midnight is
        skipped, until the clock jumps past it."""
        if self.unavailable_until is None:
            return None
        next_day = self.unavailable_until + dt.timedelta(days=1)
        return wall_to_utc(dt.datetime.combine(next_day, dt.time(0, 0)), self.zone, last=True)

    def strip_private(self, *, keep_email: bool) -> None:
        """What stays of a contact whose owner deleted their account while someone's request
        still names them: who they are and their window (the seeker's reminders are timed by
        it), nothing the owner kept for themselves. The email stays only where the seeker
        was given it already (the target accepted)."""
        self.notes = self.how_we_know = self.profile_url = ""
        if not keep_email:
            self.email = ""
        self.email_unusable = ""
        self.shareable = False
        self.connected_on = None
        self.save(
            update_fields=[
                "notes",
                "how_we_know",
                "profile_url",
                "email",
                "email_unusable",
                "shareable",
                "connected_on",
                "updated_at",
            ]
        )
        self.tags.clear()

    def window(self) -> Window:
        return Window(
            time_zone=self.time_zone,
            weekdays=self.weekday_set,
            hours_start=self.hours_start,
            hours_end=self.hours_end,
            unavailable_until=self.unavailable_until_moment(),
            min_days_between=self.min_days_between,
            last_contact_at=self.last_contacted_at,
            do_not_contact=self.do_not_contact,
        )


# --- Import -----------------------------------------------------------------------


class ImportSource(models.TextChoices):
    LINKEDIN = "linkedin", "LinkedIn connections"
    VCARD = "vcard", "vCard"
    CSV = "csv", "Warm Intros CSV"


class ImportStatus(models.TextChoices):
    PARSING = "parsing", "Reading the file"
    REFUSED = "refused", "Not read — the file needs a change"
    PREVIEWED = "previewed", "Waiting for your choices"
    QUEUED = "queued", "Waiting to start"
    RUNNING = "running", "Importing"
    DONE = "done", "Imported"
    FAILED = "failed", "Failed — nothing was changed"


class ImportBatchQuerySet(models.QuerySet["ImportBatch"]):
    def owned_by(self, user) -> ImportBatchQuerySet:
        return self.filter(owner=user)


class ImportBatch(models.Model):
    """One uploaded file: held here as uploaded until a worker reads it, then as rows until
    the owner confirms; nothing touches Contact before then. Once the import is done only
    the rows that were skipped or changed stay, for the owner's list of them."""

    Status = ImportStatus  # so that a template compares with the enum

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="contact_imports")
    source = models.CharField(max_length=20, choices=ImportSource.choices, blank=True)  # known once read
    filename = models.CharField(max_length=255)
    # The file as uploaded, until the worker has read it. In the database rather than on a
    # disk, because a worker may run on another machine than the web process (README).
    upload = models.BinaryField(default=b"", blank=True)
    status = models.CharField(max_length=20, choices=ImportStatus.choices, default=ImportStatus.PREVIEWED)
    total = models.PositiveIntegerField(default=0)
    created_count = models.PositiveIntegerField(default=0)
    merged_count = models.PositiveIntegerField(default=0)
    skipped_count = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ImportBatchQuerySet.as_manager()

    class Meta:
        verbose_name = "contact import"  # in the admin: not "import batchs"
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["owner", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"

    def get_absolute_url(self) -> str:
        return reverse("contacts:import_detail", args=[self.pk])

    @property
    def progress_key(self) -> str:
        return f"contacts:import-progress:{self.pk}"

    @property
    def parse_progress_key(self) -> str:
        return f"contacts:import-parse-progress:{self.pk}"

    @property
    def choosing(self) -> bool:
        """The owner may still change the rows' choices and confirm (again, after a failure)."""
        return self.status in (ImportStatus.PREVIEWED, ImportStatus.FAILED)

    @property
    def in_progress(self) -> bool:
        return self.status in (ImportStatus.QUEUED, ImportStatus.RUNNING)

    @property
    def reading(self) -> bool:
        return self.status == ImportStatus.PARSING

    @property
    def refused(self) -> bool:
        return self.status == ImportStatus.REFUSED

    @property
    def finished(self) -> bool:
        return self.status == ImportStatus.DONE

    @property
    def busy(self) -> bool:
        """A worker has it (reading the file, or importing): it cannot be removed now."""
        return self.in_progress or self.reading


class RowKind(models.TextChoices):
    NEW = "new", "New"
    EXACT = "exact", "Exact duplicate"
    LIKELY = "likely", "Likely duplicate"
    INVALID = "invalid", "Cannot be imported"


class RowAction(models.TextChoices):
    ADD = "add", "Add as a new contact"
    MERGE = "merge", "Merge into the existing contact"
    SKIP = "skip", "Skip"


# What each kind of row starts as: a likely duplicate changes nothing until its owner says so.
DEFAULT_ACTION = {
    RowKind.NEW: RowAction.ADD,
    RowKind.EXACT: RowAction.MERGE,
    RowKind.LIKELY: RowAction.SKIP,
    RowKind.INVALID: RowAction.SKIP,
}


class ImportRow(models.Model):
    """One would-be contact from the file, with what to do with it."""

    batch = models.ForeignKey(ImportBatch, on_delete=models.CASCADE, related_name="rows")
    line = models.PositiveIntegerField(help_text="Where the row (or card) starts in the file.")
    data = models.JSONField(default=dict)
    kind = models.CharField(max_length=10, choices=RowKind.choices)
    action = models.CharField(max_length=10, choices=RowAction.choices)
    # The existing contact this row duplicates, or else an earlier row of the same file.
    match = models.ForeignKey(Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    match_line = models.PositiveIntegerField(null=True, blank=True)
    problem = models.CharField(max_length=500, blank=True)
    # Values of this row that could not be used as they were, and what was done instead
    # ("the address can't receive email: kept on the contact for you to fix").
    warnings = models.JSONField(default=list, blank=True)

    class Meta:
        ordering = ["line"]
        indexes = [models.Index(fields=["batch", "kind", "line"])]
        constraints = [
            models.UniqueConstraint(fields=["batch", "line"], name="import_row_unique_line"),
            models.CheckConstraint(
                condition=~Q(action="merge") | Q(kind__in=["exact", "likely"]),
                name="import_row_merge_needs_match",
            ),
            models.CheckConstraint(
                condition=~Q(kind="invalid") | Q(action="skip"), name="import_row_invalid_is_skipped"
            ),
        ]

    def __str__(self) -> str:
        return f"line {self.line}: {self.name}"

    @property
    def name(self) -> str:
        return self.data.get("name", "")

    @property
    def actions(self) -> list[tuple[str, str]]:
        """The choices this row offers: merging needs something to merge into."""
        if self.kind == RowKind.INVALID:
            return []
        if self.kind == RowKind.NEW:
            return [(RowAction.ADD, "Add"), (RowAction.SKIP, "Skip")]
        return [(RowAction.MERGE, "Merge"), (RowAction.ADD, "Add as new"), (RowAction.SKIP, "Skip")]

    @property
    def outcome(self) -> tuple[str, str]:
        """What happened to the row in a finished import, and why, in words for its owner
        (the result page and its CSV list the rows skipped or changed)."""
        if self.action == RowAction.SKIP:
            if self.kind == RowKind.INVALID:
                why = self.problem.split(": ", 1)[-1]  # the line is shown beside it
                return "Skipped", why[:1].upper() + why[1:]
            if self.kind == RowKind.NEW:
                return "Skipped", "You chose to skip it."
            if self.match_id and self.match is not None:
                of = f"your contact {self.match.name}"
            elif self.match_line:
                of = f"line {self.match_line} of the file"
            else:
                of = "a contact you have since deleted"
            if self.kind == RowKind.EXACT:
                return "Skipped", f"You chose to skip it: it has the same email address or profile as {of}."
            return "Skipped", (
                f"You chose to skip it: it has the same name and organisation as {of}, and nothing tells them apart."
            )
        done = "Merged" if self.action == RowAction.MERGE else "Added"
        return f"{done}, with changes", " ".join(self.warnings)
