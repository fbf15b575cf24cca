"""Webhook endpoints and their deliveries for an operator: whose, where, what was sent and how it
went, and "send again" for failed deliveries. The signing secret and the payloads are left out
(the secret is a key; a payload is its subscriber's)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from lib.staff_admin import ReadOnlyAdmin, ReadOnlyInline

from . import services
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(ReadOnlyAdmin):
    list_display = ("id", "url", "owner", "cohort", "active", "created_at")
    list_display_links = ("id", "url")
    list_filter = ("active",)
    search_fields = ("=id", "url", "owner__email", "owner__full_name", "cohort__name")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-pk")
    fields = ("owner", "cohort", "url", "description", "event_types", "active", "created_at")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookEndpoint]:
        return super().get_queryset(request).select_related("owner", "cohort").defer("secret")


class WebhookAttemptInline(ReadOnlyInline):
    model = WebhookAttempt
    fields = ("at", "status_code", "duration_ms", "error")
    readonly_fields = fields


@admin.register(WebhookDelivery)
class WebhookDeliveryAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "event_type", "state", "endpoint", "attempts", "last_status_code")
    list_filter = ("state", "event_type")
    search_fields = ("=id", "=event_id", "endpoint__url", "last_error")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-pk")
    fields = (
        "endpoint",
        "event_id",
        "event_type",
        "state",
        "attempts",
        "created_at",
        "next_attempt_at",
        "delivered_at",
        "failed_at",
        "last_status_code",
        "last_error",
    )
    readonly_fields = fields
    inlines = (WebhookAttemptInline,)
    actions = ("retry",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[WebhookDelivery]:
        return super().get_queryset(request).select_related("endpoint").defer("payload", "endpoint__secret")

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("webhooks.change_webhookdelivery")

    @admin.action(description="Send the selected failed deliveries again", permissions=["retry"])
    def retry(self, request: HttpRequest, queryset: QuerySet[WebhookDelivery]) -> None:
        chosen = list(queryset.filter(state=WebhookDelivery.State.FAILED))
        sent = sum(services.delivery_retry(delivery=d) for d in chosen)
        self.message_user(
            request, f"{sent} failed deliver{'ies' if sent != 1 else 'y'} will be sent again.", messages.SUCCESS
        )
