from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone

from lib.addresses import DELETED_EMAIL_DOMAIN
from lib.timezones import validate_time_zone

# How everyone else sees a person who deleted their account: in pages, emails, CSVs and the
# coach's dashboard alike, because it is what the row's name says (see `User.make_tombstone`).
FORMER_MEMBER = "A former member"


class UserManager(BaseUserManager["User"]):
    use_in_migrations = True

    def _create_user(self, email: str, password: str | None, **extra: Any) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        user.set_password(password)
        user.save(using=self._db)
        return user

    def create_user(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.setdefault("is_staff", False)
        extra.setdefault("is_superuser", False)
        return self._create_user(email, password, **extra)

    def create_superuser(self, email: str, password: str | None = None, **extra: Any) -> User:
        extra.update(is_staff=True, is_superuser=True)
        return self._create_user(email, password, **extra)

    def get_by_natural_key(self, username: str | None) -> User:
        return self.get(email__iexact=username)


class User(AbstractBaseUser, PermissionsMixin):
    """A person who logs in: a seeker, a connector, a coach, or several at once."""

    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=150)
    time_zone = models.CharField(max_length=64, default="UTC", validators=[validate_time_zone])
    # No reminder arrives between these local times (e.g. 21:00–08:00); may wrap midnight.
    quiet_hours_start = models.TimeField(default=dt.time(21, 0))
    quiet_hours_end = models.TimeField(default=dt.time(8, 0))
    digest_hour = models.PositiveSmallIntegerField(default=8, help_text="Local hour of the daily digest (0–23).")
    intro_capacity = models.PositiveSmallIntegerField(
        "most open introductions at once",
        null=True,
        blank=True,
        help_text="As a connector: requests beyond this wait in your queue. Empty means no limit.",
    )
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False)
    date_joined = models.DateTimeField(default=timezone.now)
    # Set when the person deleted their account; the row stays, anonymised, for others' records.
    deleted_at = models.DateTimeField(null=True, blank=True)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        constraints = [
            models.UniqueConstraint(Lower("email"), name="user_email_ci_unique"),
            models.CheckConstraint(condition=models.Q(digest_hour__lte=23), name="user_digest_hour_valid"),
        ]

    def __str__(self) -> str:
        return self.full_name or self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.__class__.objects.normalize_email(self.email).lower()
        if self.quiet_hours_start == self.quiet_hours_end:
            raise ValidationError({"quiet_hours_end": "Quiet hours must end at a different time than they start."})

    def get_full_name(self) -> str:
        return self.full_name

    def get_short_name(self) -> str:
        if self.is_deleted:
            return FORMER_MEMBER.lower()  # mid-sentence: "Note from a former member"
        return self.full_name.split(" ")[0] if self.full_name else self.email

    @property
    def first_name(self) -> str:
        return self.get_short_name()

    @property
    def is_deleted(self) -> bool:
        return self.deleted_at is not None

    @property
    def tombstone_email(self) -> str:
        return f"deleted-{self.pk}@{DELETED_EMAIL_DOMAIN}"

    def make_tombstone(self, *, now: dt.datetime) -> None:
        """Keep the row, which other people's requests, events and cohorts point at, and
        nothing of the person: no name, no address, no way to log in."""
        self.email = self.tombstone_email
        self.full_name = FORMER_MEMBER
        self.set_unusable_password()  # also ends every session: their auth hash no longer matches
        self.is_active = self.is_staff = self.is_superuser = False
        self.intro_capacity = None
        self.time_zone = "UTC"
        self.last_login = None
        self.deleted_at = now
        self.save(
            update_fields=[
                "email",
                "full_name",
                "password",
                "is_active",
                "is_staff",
                "is_superuser",
                "intro_capacity",
                "time_zone",
                "last_login",
                "deleted_at",
            ]
        )
        self.groups.clear()
        self.user_permissions.clear()


class DataExportQuerySet(models.QuerySet["DataExport"]):
    def in_progress(self) -> DataExportQuerySet:
        return self.filter(status__in=DataExport.IN_PROGRESS)


class DataExport(models.Model):
    """One "Download all my data" file: asked for on the settings page, written by a worker
    (`accounts.data_exports`), downloaded by its owner only, deleted after its days."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Waiting for a worker"
        BUILDING = "building", "Preparing"
        READY = "ready", "Ready"
        FAILED = "failed", "Not prepared"

    IN_PROGRESS = (Status.REQUESTED, Status.BUILDING)

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="data_exports")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.REQUESTED)
    requested_at = models.DateTimeField(default=timezone.now)
    started_at = models.DateTimeField(null=True, blank=True)
    ready_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)
    # The file's name in the "data_exports" storage (settings.STORAGES); empty until it is ready.
    path = models.CharField(max_length=200, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)

    objects = DataExportQuerySet.as_manager()

    class Meta:
        constraints = [
            # A second click while one is on its way prepares nothing more.
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(status__in=["requested", "building"]),
                name="data_export_one_in_progress",
            ),
            models.CheckConstraint(
                condition=~models.Q(status="ready") | (models.Q(expires_at__isnull=False) & ~models.Q(path="")),
                name="data_export_ready_has_file",
            ),
        ]
        indexes = [
            models.Index(fields=["user", "-requested_at"]),
            # The sweep: ready files past their days.
            models.Index(fields=["expires_at"], condition=models.Q(status="ready"), name="data_export_expiry_idx"),
        ]

    def __str__(self) -> str:
        return f"Data export {self.pk} of {self.user_id} ({self.status})"

    @property
    def in_progress(self) -> bool:
        return self.status in self.IN_PROGRESS

    @property
    def is_built(self) -> bool:
        """Its file was written (whether or not it is still kept: `is_ready`)."""
        return self.status == self.Status.READY

    @property
    def is_failed(self) -> bool:
        return self.status == self.Status.FAILED

    def is_ready(self, *, now: dt.datetime) -> bool:
        return self.status == self.Status.READY and self.expires_at is not None and self.expires_at > now

    @property
    def filename(self) -> str:
        """What the browser saves it as: the day it was prepared, in the owner's time zone."""
        day = timezone.localdate(self.ready_at or self.requested_at)
        return f"warm-intros-my-data-{day:%Y-%m-%d}.json"


class AccessTokenQuerySet(models.QuerySet["AccessToken"]):
    def owned_by(self, user) -> AccessTokenQuerySet:
        return self.filter(user=user)


class AccessToken(models.Model):
    """A personal access token for the JSON API (`api/`): made and revoked on the settings
    page, shown once, and kept only as the SHA-256 of the secret. The secret is 32 random
    bytes, so a fast hash is enough: there is nothing to guess that a slow one would protect."""

    PREFIX = "wi_"
    MAX_PER_USER = 20
    # Writing down the last use costs a write; once a minute says enough.
    LAST_USE_EVERY = dt.timedelta(minutes=1)

    class Scope(models.TextChoices):
        READ = "read", "Read only"
        WRITE = "write", "Read and write"

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="access_tokens")
    name = models.CharField(max_length=100)
    scope = models.CharField(max_length=10, choices=Scope.choices, default=Scope.READ)
    token_hash = models.CharField(max_length=64, unique=True, editable=False)
    # The first characters of the secret ("wi_Ab3d"), so its owner can tell tokens apart.
    hint = models.CharField(max_length=12, editable=False)
    created_at = models.DateTimeField(default=timezone.now)
    last_used_at = models.DateTimeField(null=True, blank=True)

    objects = AccessTokenQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "-created_at"])]

    def __str__(self) -> str:
        return f"{self.name} ({self.hint}…)"

    @staticmethod
    def digest(secret: str) -> str:
        return hashlib.sha256(secret.encode()).hexdigest()

    @classmethod
    def issue(cls, *, user: User, name: str, scope: str) -> tuple[AccessToken, str]:
        """A new token and its secret: the secret is returned here once and never stored."""
        secret = cls.PREFIX + secrets.token_urlsafe(32)
        token = cls.objects.create(
            user=user, name=name, scope=scope, token_hash=cls.digest(secret), hint=secret[: len(cls.PREFIX) + 4]
        )
        return token, secret

    @classmethod
    def find(cls, secret: str) -> AccessToken | None:
        """The token of this secret, with its user, if it is one of ours."""
        if not secret.startswith(cls.PREFIX) or len(secret) > 100:
            return None
        return cls.objects.select_related("user").filter(token_hash=cls.digest(secret)).first()

    @property
    def can_write(self) -> bool:
        return self.scope == self.Scope.WRITE

    def used(self, *, now: dt.datetime) -> None:
        if self.last_used_at is None or now - self.last_used_at >= self.LAST_USE_EVERY:
            self.last_used_at = now
            AccessToken.objects.filter(pk=self.pk).update(last_used_at=now)
