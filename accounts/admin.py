"""People, for an operator: find someone, deactivate (or reactivate) them, send them a password
reset. Nobody is added or deleted here: people join by invitation (or `manage.py
createsuperuser`), and deleting an account is its owner's own act (`accounts.personal_data`),
which tells the people it touches. Who is staff or superuser only a superuser changes."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.contrib.admin import EmptyFieldListFilter
from django.db.models import QuerySet
from django.http import HttpRequest

from .forms import OutboxPasswordResetForm
from .models import User

ACCESS = ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")


@admin.register(User)
class UserAdmin(admin.ModelAdmin):
    view_on_site = False
    list_display = ("email", "full_name", "is_active", "is_staff", "is_superuser", "date_joined", "last_login")
    list_filter = ("is_active", "is_staff", "is_superuser", ("deleted_at", EmptyFieldListFilter))
    search_fields = ("email", "full_name")
    ordering = ("email",)
    date_hierarchy = "date_joined"
    filter_horizontal = ("groups", "user_permissions")
    fieldsets = (
        (None, {"fields": ("email", "full_name")}),
        ("Access", {"fields": ACCESS}),
        (
            "Settings",
            {"fields": ("time_zone", "quiet_hours_start", "quiet_hours_end", "digest_hour", "intro_capacity")},
        ),
        ("Dates", {"fields": ("date_joined", "last_login", "deleted_at")}),
    )
    actions = ("deactivate", "reactivate", "send_password_reset")

    def get_readonly_fields(self, request: HttpRequest, obj: Any = None) -> tuple[str, ...]:
        everything = tuple(f for _, section in self.fieldsets for f in section["fields"])
        editable = ACCESS if request.user.is_superuser else ("is_active",)
        return tuple(f for f in everything if f not in editable)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.action(description="Deactivate: they can no longer log in", permissions=["change"])
    def deactivate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        # Their sessions end with it: Django's backend refuses an inactive user on every request.
        count = queryset.exclude(pk=request.user.pk).filter(is_active=True).update(is_active=False)
        self.message_user(request, f"{count} {'person' if count == 1 else 'people'} deactivated.", messages.SUCCESS)
        if queryset.filter(pk=request.user.pk).exists():
            self.message_user(request, "You cannot deactivate yourself; you were left active.", messages.WARNING)

    @admin.action(description="Reactivate: they can log in again", permissions=["change"])
    def reactivate(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        count = queryset.filter(is_active=False, deleted_at__isnull=True).update(is_active=True)
        self.message_user(request, f"{count} {'person' if count == 1 else 'people'} reactivated.", messages.SUCCESS)

    @admin.action(description="Send a password reset email", permissions=["change"])
    def send_password_reset(self, request: HttpRequest, queryset: QuerySet[User]) -> None:
        """The email a person gets when they ask on the log-in page (through the outbox), with a
        link only they receive; only to active people with an account they can log in to."""
        sent = []
        for user in queryset.filter(is_active=True, deleted_at__isnull=True):
            form = OutboxPasswordResetForm({"email": user.email})
            if form.is_valid() and any(True for _ in form.get_users(user.email)):
                form.save(request=request)
                sent.append(user.email)
        skipped = queryset.count() - len(sent)
        if sent:
            self.message_user(request, f"A password reset email is on its way to {', '.join(sent)}.", messages.SUCCESS)
        if skipped:
            self.message_user(
                request,
                f"{skipped} chosen {'person was' if skipped == 1 else 'people were'} not sent one: deactivated, deleted, "
                "or with no password to reset.",
                messages.WARNING,
            )
