"""Introduction requests, for an operator: who asked whom through whom, where each stands and
its timeline (read only: a status changes only through `intros.services`). The seeker's
preparation and every note in a person's own words are not shown; nor is the target's address
(the target is named, as on the coach's dashboard)."""

from __future__ import annotations

from django.contrib import admin

from lib.staff_admin import ReadOnlyAdmin, ReadOnlyInline

from .models import PREPARATION_FIELDS, IntroEvent, IntroRequest

# In a person's own words, and theirs (and the people they wrote them for) alone.
PRIVATE = (
    *PREPARATION_FIELDS,
    "why_now",
    "vouch_note",
    "connector_message",
    "outcome_note",
    "target_feedback_note",
)


class IntroEventInline(ReadOnlyInline):
    model = IntroEvent
    fields = ("created_at", "transition", "from_status", "to_status", "actor_role", "actor")
    readonly_fields = fields


@admin.register(IntroRequest)
class IntroRequestAdmin(ReadOnlyAdmin):
    list_display = ("id", "seeker", "connector", "target", "status", "mode", "created_at", "updated_at")
    list_display_links = ("id", "seeker")
    list_filter = ("status", "mode", "outcome")
    search_fields = (
        "=id",
        "seeker__email",
        "seeker__full_name",
        "connector__email",
        "connector__full_name",
        "target__name",
    )
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-pk")
    fields = (
        "seeker",
        "connector",
        "target",
        "parent",
        "status",
        "mode",
        "vouch_strength",
        "target_writes_first",
        "deferred_until",
        "reask_count",
        "met_on",
        "outcome",
        "target_feedback_rating",
        "next_action_at",
        "created_at",
        "first_submitted_at",
        "submitted_at",
        "approved_at",
        "accepted_at",
        "introduced_at",
        "met_at",
        "outcome_recorded_at",
        "updated_at",
    )
    readonly_fields = fields
    inlines = (IntroEventInline,)
    list_select_related = ("seeker", "connector", "target")

    def get_queryset(self, request):
        return super().get_queryset(request).defer(*PRIVATE)
