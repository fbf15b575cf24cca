"""A person's webhook endpoints: the list (and a new one), each endpoint with its deliveries and
every attempt, "Send a test event", "Retry", pause and delete. Each endpoint is its owner's
alone: anyone else gets a 404."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from lib import ratelimit
from lib.htmx import HtmxHttpRequest, redirect_after_write

from . import services
from .forms import EndpointForm
from .models import WebhookAttempt, WebhookDelivery, WebhookEndpoint

DELIVERIES_SHOWN = 25
ATTEMPTS_SHOWN = 10


@login_required
def endpoint_list(request: HtmxHttpRequest) -> HttpResponse:
    user = request.user
    form = EndpointForm(request.POST or None, user=user)
    if request.method == "POST" and form.is_valid():
        endpoint = services.endpoint_create(
            owner=user,
            url=form.cleaned_data["url"],
            description=form.cleaned_data["description"],
            event_types=form.cleaned_data["event_types"],
            cohort=form.cohort,
        )
        messages.success(request, "Endpoint added. Send it a test event to check that it answers.")
        return redirect_after_write(request, endpoint.get_absolute_url())
    endpoints = WebhookEndpoint.objects.owned_by(user).select_related("cohort")
    status = 422 if form.errors else 200
    return render(
        request,
        "webhooks/endpoint_list.html",
        {"endpoints": endpoints, "form": form, "max_attempts": settings.WEBHOOK_MAX_ATTEMPTS, "nav": "profile"},
        status=status,
    )


def _detail(request: HtmxHttpRequest, endpoint: WebhookEndpoint, *, blocked=None) -> HttpResponse:
    attempts = WebhookAttempt.objects.order_by("-at", "-pk")
    deliveries = (
        WebhookDelivery.objects.filter(endpoint=endpoint)
        .defer("payload")
        .prefetch_related(Prefetch("attempt_log", queryset=attempts))
        .order_by("-created_at", "-pk")[:DELIVERIES_SHOWN]
    )
    context = {
        "endpoint": endpoint,
        "deliveries": deliveries,
        "attempts_shown": ATTEMPTS_SHOWN,
        "blocked": blocked,
        "nav": "profile",
    }
    response = render(request, "webhooks/endpoint_detail.html", context, status=429 if blocked else 200)
    response["Cache-Control"] = "private, no-store"  # the page shows the signing secret
    return response


def _owned(request: HtmxHttpRequest, pk: int) -> WebhookEndpoint:
    return get_object_or_404(WebhookEndpoint.objects.owned_by(request.user).select_related("cohort"), pk=pk)


@login_required
def endpoint_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    return _detail(request, _owned(request, pk))


@require_POST
@login_required
def endpoint_test(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    endpoint = _owned(request, pk)
    if blocked := ratelimit.WEBHOOK_TEST.hit(str(request.user.pk)):
        return ratelimit.too_many(_detail(request, endpoint, blocked=blocked), blocked)
    services.endpoint_send_test(endpoint=endpoint)
    messages.success(request, "A test event is on its way; its attempt shows below in a moment.")
    return redirect_after_write(request, endpoint.get_absolute_url())


@require_POST
@login_required
def endpoint_active(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    endpoint = _owned(request, pk)
    endpoint.active = not endpoint.active
    endpoint.save(update_fields=["active"])
    if endpoint.active:
        messages.success(request, "Resumed: new events are sent to this endpoint again.")
    else:
        messages.success(request, "Paused: no new events are sent to it until you resume it.")
    return redirect_after_write(request, endpoint.get_absolute_url())


@require_POST
@login_required
def endpoint_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    endpoint = _owned(request, pk)
    endpoint.delete()
    messages.success(request, f"Deleted the endpoint {endpoint.url} and its deliveries.")
    return redirect_after_write(request, reverse("webhooks:list"))


@require_POST
@login_required
def delivery_retry(request: HtmxHttpRequest, pk: int, delivery_pk: int) -> HttpResponse:
    endpoint = _owned(request, pk)
    delivery = get_object_or_404(WebhookDelivery.objects.filter(endpoint=endpoint).defer("payload"), pk=delivery_pk)
    if services.delivery_retry(delivery=delivery):
        messages.success(request, "Sending it again now.")
    else:
        messages.info(request, "Nothing to retry: it was delivered, or is being sent right now.")
    return redirect_after_write(request, endpoint.get_absolute_url())
