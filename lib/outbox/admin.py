"""The outbox for an operator: what waits, what failed or bounced and why, and "send again"
(the same call as `manage.py outbox --retry`). Bodies and context are left out: an email's
words are its recipients' (a seeker's preparation, a note)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from lib.staff_admin import ReadOnlyAdmin, ReadOnlyInline

from . import services
from .models import DeliveryReport, OutboxMessage


class DeliveryReportInline(ReadOnlyInline):
    model = DeliveryReport
    fields = ("received_at", "kind", "recipient", "provider", "reason")
    readonly_fields = fields


def _addresses(addresses: list[str]) -> str:
    return ", ".join(addresses) or "-"


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ("id", "created_at", "state", "recipients", "subject", "attempts")
    list_display_links = ("id", "subject")
    list_filter = ("state", "template")
    search_fields = ("=id", "subject", "to", "cc", "last_error", "=provider_message_id")
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-pk")
    fieldsets = (
        (
            "The message",
            {"fields": ("to_addresses", "cc_addresses", "reply_to_addresses", "subject", "template", "key")},
        ),
        (
            "Sending",
            {
                "fields": (
                    "state",
                    "attempts",
                    "created_at",
                    "next_attempt_at",
                    "sent_at",
                    "failed_at",
                    "last_error",
                    "provider_message_id",
                )
            },
        ),
    )
    readonly_fields = tuple(f for _, section in fieldsets for f in section["fields"])
    inlines = (DeliveryReportInline,)
    actions = ("retry",)

    def get_queryset(self, request: HttpRequest) -> QuerySet[OutboxMessage]:
        return super().get_queryset(request).defer("body_text", "body_html", "context")

    @admin.display(description="to")
    def recipients(self, message: OutboxMessage) -> str:
        return _addresses([*message.to, *message.cc])

    @admin.display(description="to")
    def to_addresses(self, message: OutboxMessage) -> str:
        return _addresses(message.to)

    @admin.display(description="cc")
    def cc_addresses(self, message: OutboxMessage) -> str:
        return _addresses(message.cc)

    @admin.display(description="reply to")
    def reply_to_addresses(self, message: OutboxMessage) -> str:
        return _addresses(message.reply_to)

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("outbox.change_outboxmessage")

    @admin.action(description="Send the selected failed messages again", permissions=["retry"])
    def retry(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        chosen = list(queryset.values_list("pk", flat=True))
        queued = services.outbox_retry(message_ids=chosen)
        if queued:
            self.message_user(
                request,
                f"{len(queued)} failed message{'s' * (len(queued) != 1)} will be sent again, each with a fresh "
                f"set of attempts: {', '.join(f'#{pk}' for pk in queued)}.",
                messages.SUCCESS,
            )
        left = len(chosen) - len(queued)
        if left:
            self.message_user(
                request,
                f"{left} of those chosen had not failed, and were left as they were: only failed messages are sent again.",
                messages.WARNING,
            )


@admin.register(DeliveryReport)
class DeliveryReportAdmin(ReadOnlyAdmin):
    list_display = ("received_at", "kind", "recipient", "provider", "message")
    list_filter = ("kind", "provider")
    search_fields = ("recipient", "=event_id", "=message__id")
    date_hierarchy = "received_at"
    ordering = ("-received_at", "-pk")
    fields = ("message", "kind", "recipient", "provider", "event_id", "reason", "occurred_at", "received_at")
    readonly_fields = fields

    def get_queryset(self, request: HttpRequest) -> QuerySet[DeliveryReport]:
        return (
            super()
            .get_queryset(request)
            .select_related("message")
            .defer("message__body_text", "message__body_html", "message__context")
        )
