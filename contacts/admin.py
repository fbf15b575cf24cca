"""Imports and contacts, for an operator (read only). A contact's address, profile, notes and
"how we know each other" are its owner's alone: they are not in the list, the form or the
search. Nor is an import's uploaded file (it is those same contacts)."""

from __future__ import annotations

from django.contrib import admin

from lib.staff_admin import ReadOnlyAdmin

from .models import Contact, ImportBatch


@admin.register(ImportBatch)
class ImportBatchAdmin(ReadOnlyAdmin):
    list_display = (
        "filename",
        "owner",
        "source",
        "status",
        "total",
        "created_count",
        "merged_count",
        "skipped_count",
        "created_at",
        "finished_at",
    )
    list_filter = ("status", "source")
    search_fields = ("filename", "owner__email", "owner__full_name")
    date_hierarchy = "created_at"
    fields = (
        "owner",
        "filename",
        "source",
        "status",
        "total",
        "created_count",
        "merged_count",
        "skipped_count",
        "error",
        "created_at",
        "finished_at",
    )
    readonly_fields = fields
    list_select_related = ("owner",)

    def get_queryset(self, request):
        return super().get_queryset(request).defer("upload")


@admin.register(Contact)
class ContactAdmin(ReadOnlyAdmin):
    list_display = ("name", "owner", "organisation", "title", "strength", "shareable", "do_not_contact", "created_at")
    list_filter = ("strength", "shareable", "do_not_contact")
    search_fields = ("name", "organisation", "owner__email", "owner__full_name")
    fields = (
        "owner",
        "name",
        "organisation",
        "title",
        "strength",
        "shareable",
        "do_not_contact",
        "time_zone",
        "weekdays",
        "hours_start",
        "hours_end",
        "unavailable_until",
        "min_days_between",
        "last_contacted_at",
        "created_at",
        "updated_at",
    )
    readonly_fields = fields
    list_select_related = ("owner",)

    def get_queryset(self, request):
        return super().get_queryset(request).defer("notes", "how_we_know", "email", "email_unusable", "search_email")
