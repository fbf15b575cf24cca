from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import ProtectedError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_http_methods, require_safe
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from .forms import ContactFilterForm, ContactForm
from .models import WEEKDAY_NAMES, WEEKDAYS_ALL, WEEKDAYS_WORK, Contact

CONTACTS_PER_PAGE = 50
WEEKEND = 0b1100000


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def window_in_words(contact: Contact, *, now: dt.datetime) -> str:
    """ "Weekdays 09:00–17:00 Europe/London; busy through 12 Dec; at least 7 days between contacts"."""
    days = {WEEKDAYS_WORK: "Weekdays", WEEKDAYS_ALL: "Every day", WEEKEND: "Weekends"}.get(contact.weekdays)
    if days is None:
        days = ", ".join(WEEKDAY_NAMES[day][:3] for day in sorted(contact.weekday_set))
    parts = [f"{days} {contact.hours_start:%H:%M}–{contact.hours_end:%H:%M} {contact.time_zone}"]
    today = now.astimezone(contact.zone).date()
    busy = contact.unavailable_until
    if busy is not None and busy >= today:
        parts.append(f"busy through {busy:%-d %b}" + ("" if busy.year == today.year else f" {busy:%Y}"))
    if contact.min_days_between:
        unit = "day" if contact.min_days_between == 1 else "days"
        parts.append(f"at least {contact.min_days_between} {unit} between contacts")
    if contact.do_not_contact:
        parts.append("do not contact")
    return "; ".join(parts)


def _saved_or_deleted(request: HtmxHttpRequest, url: str) -> HttpResponse:
    """After a write: htmx is told where to go; a plain form post is redirected."""
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


@require_safe
@login_required
def contact_list(request: HtmxHttpRequest) -> HttpResponse:
    filters = ContactFilterForm(request.GET, owner=request.user)
    contacts = filters.apply(Contact.objects.owned_by(request.user)).for_list()
    page = Paginator(contacts, CONTACTS_PER_PAGE).get_page(request.GET.get("page"))
    context = {"nav": "contacts", "filters": filters, "page": page}
    # A history restore after Back asks with HX-Request too, and needs the whole page.
    fragment = request.htmx and not request.htmx.history_restore_request
    response = render(
        request, "contacts/contact_list.html#results" if fragment else "contacts/contact_list.html", context
    )
    patch_vary_headers(response, ["HX-Request"])
    return response


@require_safe
@login_required
def contact_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(Contact.objects.owned_by(request.user).for_list(), pk=pk)
    context = {"nav": "contacts", "contact": contact, "window": window_in_words(contact, now=timezone.now())}
    return render(request, "contacts/contact_detail.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def contact_create(request: HtmxHttpRequest) -> HttpResponse:
    form = ContactForm(request.POST if request.method == "POST" else None, owner=request.user)
    return _contact_form(
        request, form, heading="Add a contact", action=reverse("contacts:create"), cancel=reverse("contacts:list")
    )


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def contact_edit(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(Contact.objects.owned_by(request.user).for_list(), pk=pk)
    form = ContactForm(request.POST if request.method == "POST" else None, instance=contact, owner=request.user)
    # Named before the form is checked: a failed edit leaves what was typed on the instance.
    return _contact_form(
        request,
        form,
        heading=f"Edit {contact.name}",
        action=reverse("contacts:edit", args=[contact.pk]),
        cancel=contact.get_absolute_url(),
    )


def _contact_form(
    request: HtmxHttpRequest, form: ContactForm, *, heading: str, action: str, cancel: str
) -> HttpResponse:
    if form.is_bound and form.is_valid():
        contact = form.save()
        messages.success(request, f"Saved {contact.name}.")
        return _saved_or_deleted(request, contact.get_absolute_url())
    # What was typed stays in the form; 422 tells htmx (and tests) that nothing was saved.
    status = 422 if form.is_bound else 200
    template = "contacts/contact_form.html"
    if request.htmx and form.is_bound:
        template += "#contact-form"
    context = {"nav": "contacts", "form": form, "heading": heading, "action": action, "cancel": cancel}
    return render(request, template, context, status=status)


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def contact_delete(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    contact = get_object_or_404(Contact.objects.owned_by(request.user), pk=pk)
    if request.method != "POST":
        return render(request, "contacts/contact_confirm_delete.html", {"nav": "contacts", "contact": contact})
    try:
        contact.delete()
    except ProtectedError:
        messages.error(
            request,
            f"{contact.name} is part of an introduction, so they stay in your contacts. "
            "Tick “do not contact” on their page if nobody should write to them.",
        )
        return _saved_or_deleted(request, contact.get_absolute_url())
    messages.success(request, f"Deleted {contact.name}.")
    return _saved_or_deleted(request, reverse("contacts:list"))
