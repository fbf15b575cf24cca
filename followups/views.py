"""My follow-ups, outreach logging (warned before a boundary is crossed), offers, calendar feed."""

from __future__ import annotations

import re

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db.models import Count, Q
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from accounts.models import User
from intros import services as intro_services
from intros.guidance import guidance_for_many, outreach_logs
from intros.models import IntroRequest, list_fields_via
from lib.dates import end_of_today
from lib.htmx import redirect_after_write
from workflows.followups import do_record_outreach

from . import numbers, services
from .calendar import feed_for
from .forms import OfferForm, OutreachForm, SnoozeForm
from .models import CalendarFeed, FollowUp, Offer

TOKEN_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")


# --- my follow-ups ----------------------------------------------------------------------------


# What the list loads: a follow-up's own columns and, for an open row, of its introduction what an
# introductions list row reads (its guidance included); a finished row names the target only.
FOLLOWUP_COLUMNS = tuple(field.name for field in FollowUp._meta.concrete_fields)
ROW_FIELDS = (*FOLLOWUP_COLUMNS, *list_fields_via("intro"))
DONE_ROW_FIELDS = (*FOLLOWUP_COLUMNS, "intro__target__name")

# Each section shows its first SECTION_ROWS; "show all" lists the whole section (up to ALL_ROWS).
SECTION_ROWS = 15
ALL_ROWS = 300


@login_required
def followup_list(request: HttpRequest) -> HttpResponse:
    now = timezone.now()
    tomorrow = end_of_today(now)
    mine = FollowUp.objects.owned_by(request.user)
    # Rows link by intro_id/offer_id: no join, but for the first contact's guidance (intros.guidance),
    # whose introduction and target come in the same query, with only the columns a list row
    # reads (not the preparation texts or the target's notes).
    open_items = mine.open().select_related("intro__target", "intro__connector").only(*ROW_FIELDS)
    sections = {
        "overdue": Q(due_at__lt=now),
        "today": Q(due_at__gte=now, due_at__lt=tomorrow),
        "upcoming": Q(due_at__gte=tomorrow),
    }
    counts = mine.open().aggregate(**{name: Count("pk", filter=where) for name, where in sections.items()})
    show_all = request.GET.get("all", "")
    context = {
        name: {
            "items": list(open_items.filter(where)[: ALL_ROWS if show_all == name else SECTION_ROWS]),
            "count": counts[name],
        }
        for name, where in sections.items()
    }
    _attach_guidance([item for section in context.values() for item in section["items"]], request.user, now)
    feed, _ = CalendarFeed.objects.get_or_create(user=request.user)
    return render(
        request,
        "followups/followup_list.html",
        {
            "nav": "followups",
            **context,
            "done": mine.exclude(status=FollowUp.Status.OPEN)
            .select_related("intro__target")
            .only(*DONE_ROW_FIELDS)
            .order_by("-done_at", "-pk")[:10],
            "calendar_url": settings.SITE_URL + reverse("followups:calendar", args=[feed.token]),
            "act_url": reverse("followups:act"),
        },
    )


def _attach_guidance(items: list[FollowUp], user, now) -> None:
    """A follow-up about the first contact shows its introduction's guidance: whether to write
    now and, if not, why and until when (the outreach logs of them all in one query)."""
    first_contact = {item.intro_id: item for item in items if item.about_first_contact}
    # Asked for every first-contact row, whatever its introduction's state: the page's queries
    # depend on what kinds of rows it has, not on which states they are in.
    guidance = guidance_for_many(
        [item.intro for item in first_contact.values()],
        reader_zone=user.time_zone,
        now=now,
        logs=outreach_logs(first_contact),
    )
    for item in items:
        item.guidance = guidance.get(item.intro_id) if item.about_first_contact else None


def _row(request: HttpRequest, followup: FollowUp, message: str) -> HttpResponse:
    messages.success(request, message)
    if request.htmx:
        return render(
            request,
            "followups/followup_list.html#row",
            {"followup": followup, "swapped": True, "act_url": reverse("followups:act")},
        )
    return redirect("followups:list")


# The buttons of every row post to one address, each naming its follow-up: name="done",
# "snooze" or "skip", value = the follow-up's id; a snooze reads the row's own choice, days-<id>.
ROW_ACTIONS = ("done", "snooze", "skip")


@require_POST
@login_required
def followup_act(request: HttpRequest) -> HttpResponse:
    """Done, snooze or skip one of my open follow-ups, as the clicked button says."""
    action, pk = next(((name, request.POST[name]) for name in ROW_ACTIONS if name in request.POST), (None, ""))
    if action is None or not (pk.isascii() and pk.isdigit()):
        messages.error(request, "Choose Done, Snooze or Skip on one of your follow-ups.")
        return redirect_after_write(request, reverse("followups:list"))
    followup = get_object_or_404(FollowUp.objects.owned_by(request.user).open().select_related("intro__target"), pk=pk)
    if action == "done":
        followup.mark_done()
        return _row(request, followup, f"Done: {followup.get_kind_display().lower()}.")
    if action == "skip":
        followup.skip()
        return _row(request, followup, f"Skipped: {followup.get_kind_display().lower()}.")
    form = SnoozeForm({"days": request.POST.get(f"days-{followup.pk}", "")})
    if not form.is_valid():
        messages.error(request, "Choose how long to snooze.")
        return redirect_after_write(request, reverse("followups:list"))
    services.followup_snooze(followup=followup, days=form.cleaned_data["days"], now=timezone.now())
    return _row(request, followup, f"Snoozed until {timezone.localtime(followup.due_at):%a %-d %b}.")


# --- outreach -----------------------------------------------------------------------------------


@login_required
def outreach_log(request: HttpRequest, intro_pk: int) -> HttpResponse:
    """GET shows the form; POST checks the target's window and warns before saving a breach."""
    intro = get_object_or_404(IntroRequest.objects.of_seeker(request.user).with_people(), pk=intro_pk)
    form = OutreachForm(request.POST or None, intro=intro, initial={"at": timezone.now()})
    warning = None
    status = 200
    if request.method == "POST":
        if form.is_valid():
            data = form.cleaned_data
            try:
                outreach = do_record_outreach(
                    intro=intro,
                    seeker=request.user,
                    at=data["at"],
                    channel=data["channel"],
                    note=data["note"],
                    confirmed=data["confirmed"],
                )
            except services.BoundaryWarning as warned:
                warning = warned
                form = OutreachForm(intro=intro, initial={**data, "confirmed": True})
                status = 422
            except intro_services.NotAllowed as problem:
                form.add_error(None, str(problem))
                status = 422
            else:
                if outreach.is_breach:
                    messages.warning(request, "Logged — as a boundary breach: your connector and coach can see it.")
                else:
                    messages.success(request, "Outreach logged. Good luck!")
                return redirect_after_write(request, intro.get_absolute_url())
        else:
            status = 422
    template = "followups/outreach_form.html#form" if request.htmx else "followups/outreach_form.html"
    return render(request, template, {"nav": "home", "intro": intro, "form": form, "warning": warning}, status=status)


# --- offers -------------------------------------------------------------------------------------


@login_required
def offer_list(request: HttpRequest) -> HttpResponse:
    form = OfferForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        offered_by = (
            User.objects.filter(
                full_name__iexact=data["offered_by_name"].strip(),
                cohort_memberships__cohort__memberships__user=request.user,
            )
            .exclude(pk=request.user.pk)
            .first()
        )
        services.offer_create(seeker=request.user, offered_by=offered_by, **data)
        messages.success(request, f"Offer recorded: {data['contact_name']}. Decide how you'll act on it below.")
        return redirect_after_write(request, reverse("followups:offers"))
    now = timezone.now()
    offers = list(Offer.objects.of_seeker(request.user).select_related("offered_by", "intro"))
    for offer in offers:
        # Stale by the one definition (followups.numbers), whether or not the sweep has marked it yet.
        offer.is_stale = numbers.offer_is_stale(offer, now=now)
        shown = Offer.Status.STALE if offer.is_stale else Offer.Status(offer.status)
        offer.badge_status, offer.badge_label = shown.value, shown.label
    return render(
        request,
        "followups/offer_list.html",
        {"nav": "followups", "form": form, "offers": offers},
        status=422 if request.method == "POST" else 200,
    )


def _offer_action(request: HttpRequest, pk: int, action, success: str) -> HttpResponse:
    offer = get_object_or_404(Offer.objects.of_seeker(request.user), pk=pk)
    try:
        result = action(offer=offer, seeker=request.user)
    except intro_services.NotAllowed as problem:
        messages.error(request, str(problem))
        return redirect_after_write(request, reverse("followups:offers"))
    messages.success(request, success.format(offer=offer))
    if isinstance(result, IntroRequest):
        return redirect_after_write(request, reverse("intros:edit", args=[result.pk]))
    return redirect_after_write(request, reverse("followups:offers"))


@require_POST
@login_required
def offer_self_contact(request: HttpRequest, pk: int) -> HttpResponse:
    return _offer_action(
        request,
        pk,
        services.offer_self_contact,
        "It's on your list: contact {offer.contact_name}, mentioning {offer.offered_by_name}.",
    )


@require_POST
@login_required
def offer_request(request: HttpRequest, pk: int) -> HttpResponse:
    return _offer_action(
        request,
        pk,
        services.offer_request_intro,
        "A draft request to {offer.offered_by_name} is ready: add your preparation and submit.",
    )


@require_POST
@login_required
def offer_contacted(request: HttpRequest, pk: int) -> HttpResponse:
    return _offer_action(request, pk, services.offer_contacted, "Marked as contacted. Well done.")


@require_POST
@login_required
def offer_dismiss(request: HttpRequest, pk: int) -> HttpResponse:
    return _offer_action(request, pk, services.offer_dismiss, "Offer dismissed.")


# --- calendar -------------------------------------------------------------------------------------


def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The secret ICS URL: no login (calendar apps can't log in); the token is the key."""
    if not TOKEN_RE.fullmatch(token):  # not one we issue (a NUL would even make PostgreSQL fail)
        raise Http404("No such calendar.")
    feed = get_object_or_404(CalendarFeed.objects.select_related("user"), token=token)
    if not feed.user.is_active:
        return HttpResponse(status=404)
    body = feed_for(feed.user, now=timezone.now())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="warm-intros.ics"'
    response["Cache-Control"] = "private, max-age=300"
    return response


@require_POST
@login_required
def calendar_reset(request: HttpRequest) -> HttpResponse:
    feed, _ = CalendarFeed.objects.get_or_create(user=request.user)
    feed.reset()
    messages.success(request, "Your calendar address was changed; the old one no longer works.")
    return redirect_after_write(request, reverse("followups:list"))
