"""Cohorts, who is in them and who was invited, for an operator to look up (read only: coaches
run their cohorts in the app, which tells the people a change touches)."""

from __future__ import annotations

from django.contrib import admin
from django.db.models import Count, QuerySet
from django.http import HttpRequest

from lib.staff_admin import ReadOnlyAdmin, ReadOnlyInline

from .models import Cohort, Invitation, Membership


class MembershipInline(ReadOnlyInline):
    model = Membership
    fields = ("user", "joined_at")
    readonly_fields = fields


@admin.register(Cohort)
class CohortAdmin(ReadOnlyAdmin):
    list_display = ("name", "coach", "members", "created_at")
    search_fields = ("name", "coach__email", "coach__full_name")
    date_hierarchy = "created_at"
    fields = ("name", "coach", "created_at")
    readonly_fields = fields
    inlines = (MembershipInline,)
    list_select_related = ("coach",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[Cohort]:
        return super().get_queryset(request).annotate(member_count=Count("memberships"))

    @admin.display(description="members", ordering="member_count")
    def members(self, cohort: Cohort) -> int:
        return cohort.member_count


@admin.register(Membership)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ("user", "cohort", "joined_at")
    list_filter = ("cohort",)
    search_fields = ("user__email", "user__full_name", "cohort__name")
    date_hierarchy = "joined_at"
    fields = ("cohort", "user", "joined_at")
    readonly_fields = fields
    list_select_related = ("user", "cohort")


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyAdmin):
    # Not the nonce: with it and the secret key, an invitation link can be made.
    list_display = ("email", "cohort", "invited_by", "created_at", "expires_at", "accepted_at")
    list_filter = ("cohort", ("accepted_at", admin.EmptyFieldListFilter))
    search_fields = ("email", "cohort__name")
    date_hierarchy = "created_at"
    fields = ("cohort", "email", "invited_by", "created_at", "expires_at", "accepted_at", "accepted_by")
    readonly_fields = fields
    list_select_related = ("cohort", "invited_by")
