from __future__ import annotations

import csv
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import IntegrityError, transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from accounts.models import User
from followups.models import NUDGE_SPACING
from lib import ratelimit
from lib.htmx import HtmxHttpRequest, redirect_after_write

from . import dashboard, services
from .forms import CohortForm, DashboardForm, InvitationSignupForm, InviteForm, NudgeForm
from .models import Cohort, Invitation

# What a person holding a bad link sees, by what is wrong with it.
PROBLEM_STATUS = {"invalid": 400, "expired": 410, "used": 410, "wrong_person": 403}


@require_GET
@login_required
def cohort_list(request: HtmxHttpRequest) -> HttpResponse:
    coached = Cohort.objects.coached_by(request.user).with_member_count()
    joined = Cohort.objects.joined_by(request.user).with_member_count().select_related("coach")
    return render(request, "cohorts/cohort_list.html", {"coached": coached, "joined": joined, "nav": "cohorts"})


@require_http_methods(["GET", "POST"])
@login_required
def cohort_create(request: HtmxHttpRequest) -> HttpResponse:
    form = CohortForm(request.POST if request.method == "POST" else None)
    if request.method == "POST":
        if form.is_valid():
            cohort = services.cohort_create(name=form.cleaned_data["name"], coach=request.user)
            messages.success(request, f"“{cohort.name}” is ready. Invite its members below.")
            return redirect_after_write(request, cohort.get_absolute_url())
        return render(request, "cohorts/cohort_form.html", {"form": form, "nav": "cohorts"}, status=422)
    return render(request, "cohorts/cohort_form.html", {"form": form, "nav": "cohorts"})


def _detail_context(cohort: Cohort, user: User, invite_form: InviteForm | None = None, **extra) -> dict:
    context = {
        "cohort": cohort,
        "memberships": cohort.memberships.select_related("user").order_by("user__full_name", "user__email"),
        "is_coach": cohort.is_coached_by(user),
        "nav": "cohorts",
        **extra,
    }
    if context["is_coach"]:
        context["invitations"] = cohort.invitations.pending().order_by("email")
        context["invite_form"] = invite_form or InviteForm()
    return context


@require_GET
@login_required
def cohort_detail(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    cohort = get_object_or_404(Cohort.objects.visible_to(request.user).select_related("coach"), pk=pk)
    return render(request, "cohorts/cohort_detail.html", _detail_context(cohort, request.user))


@require_POST
@login_required
def cohort_invite(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    cohort = get_object_or_404(Cohort.objects.coached_by(request.user).select_related("coach"), pk=pk)
    form = InviteForm(request.POST)
    template = "cohorts/cohort_detail.html#invite-panel" if request.htmx else "cohorts/cohort_detail.html"
    if not form.is_valid():
        return render(request, template, _detail_context(cohort, request.user, form), status=422)
    # Each address is one email sent in the coach's name: a batch counts as many.
    blocked = ratelimit.INVITATION.hit(str(request.user.pk), cost=len(form.cleaned_data["emails"]))
    if blocked:
        ratelimit.show_on_form(form, blocked)
        return ratelimit.too_many(render(request, template, _detail_context(cohort, request.user, form)), blocked)
    outcome = services.invitations_send(cohort=cohort, emails=form.cleaned_data["emails"], invited_by=request.user)
    if outcome.invited:
        count = len(outcome.invited)
        messages.success(request, f"{count} invitation{'' if count == 1 else 's'} sent.")
    if outcome.resent:
        messages.info(request, f"Sent again, and the earlier link no longer works: {', '.join(outcome.resent)}.")
    if outcome.already_members:
        messages.info(request, f"Already in {cohort.name}, so not invited: {', '.join(outcome.already_members)}.")
    if request.htmx:
        return render(request, template, _detail_context(cohort, request.user))
    return redirect(cohort)


@require_POST
@login_required
def invitation_cancel(request: HtmxHttpRequest, pk: int, invitation_pk: int) -> HttpResponse:
    cohort = get_object_or_404(Cohort.objects.coached_by(request.user).select_related("coach"), pk=pk)
    invitation = get_object_or_404(cohort.invitations.pending(), pk=invitation_pk)
    invitation.cancel()
    messages.success(request, f"The invitation to {invitation.email} is cancelled; its link no longer works.")
    if request.htmx:
        return render(request, "cohorts/cohort_detail.html#invite-panel", _detail_context(cohort, request.user))
    return redirect(cohort)


def _problem(request: HtmxHttpRequest, problem: services.InvitationProblem) -> HttpResponse:
    return render(
        request,
        "cohorts/join_problem.html",
        {"problem": problem, "kind": problem.kind, "invitation": problem.invitation},
        status=PROBLEM_STATUS[problem.kind],
    )


def _joined(request: HtmxHttpRequest, invitation: Invitation) -> HttpResponse:
    messages.success(request, f"Welcome to {invitation.cohort.name}.")
    return redirect_after_write(request, invitation.cohort.get_absolute_url())


@require_http_methods(["GET", "POST"])
def invitation_join(request: HtmxHttpRequest, token: str) -> HttpResponse:
    """The emailed link: sign up, log in, or accept, depending on who opens it."""
    try:
        invitation = services.invitation_resolve(token=token)
    except services.InvitationProblem as problem:
        spent_by_me = (
            problem.kind == "used"
            and request.user.is_authenticated
            and problem.invitation.accepted_by_id == request.user.pk
        )
        if spent_by_me:  # a second click, or the back button after joining
            messages.info(request, f"You are already a member of {problem.invitation.cohort.name}.")
            return redirect(problem.invitation.cohort)
        return _problem(request, problem)

    context = {"invitation": invitation, "cohort": invitation.cohort, "token": token}
    if request.user.is_authenticated:
        if not invitation.is_for(request.user):
            return render(request, "cohorts/join.html", {**context, "mode": "wrong_account"}, status=403)
        if request.method == "POST":
            try:
                services.invitation_accept(invitation=invitation, user=request.user)
            except services.InvitationProblem as problem:
                return _problem(request, problem)
            return _joined(request, invitation)
        return render(request, "cohorts/join.html", {**context, "mode": "accept"})

    if User.objects.filter(email__iexact=invitation.email).exists():
        return render(request, "cohorts/join.html", {**context, "mode": "login"})

    form = InvitationSignupForm(request.POST if request.method == "POST" else None, invitation=invitation)
    if request.method == "POST" and form.is_valid():
        try:
            with transaction.atomic():
                user = services.invitation_signup(
                    invitation=invitation,
                    full_name=form.cleaned_data["full_name"],
                    password=form.cleaned_data["password1"],
                    time_zone=form.cleaned_data["time_zone"],
                )
                auth_login(request, user)
        except services.InvitationProblem as problem:
            return _problem(request, problem)
        except IntegrityError:  # the same address signed up a moment ago, in another tab
            return render(request, "cohorts/join.html", {**context, "mode": "login"}, status=409)
        return _joined(request, invitation)
    status = 422 if request.method == "POST" else 200
    return render(request, "cohorts/join.html", {**context, "mode": "signup", "form": form}, status=status)


# --- the coach dashboard --------------------------------------------------------------------


def _coached(request: HtmxHttpRequest, pk: int) -> Cohort:
    """The cohort, if this person coaches it; a 404 for anyone else, members included."""
    return get_object_or_404(Cohort.objects.coached_by(request.user).select_related("coach"), pk=pk)


def _dashboard_now():
    """The dashboard's numbers are as of the current minute: the page, its drill-downs and its
    exports agree, and a coach paging or sorting within the minute reads kept numbers."""
    return timezone.now().replace(second=0, microsecond=0)


def _period_params(period: dashboard.Period) -> dict[str, str]:
    if period.key == "custom":
        return {"period": "custom", "start": f"{period.first_day:%Y-%m-%d}", "end": f"{period.last_day:%Y-%m-%d}"}
    return {"period": period.key}


def _read_dashboard_params(request: HtmxHttpRequest, now) -> tuple[DashboardForm, dashboard.Period, str, str]:
    form = DashboardForm(request.GET or None, initial={"period": "30"})
    period = form.period_for(now=now, tz=timezone.get_current_timezone())
    sort, direction = form.ordering()
    return form, period, sort, direction


# The member table's headers: short enough to wrap between words in a narrow column (the full
# names are in each header's title and in the legend under the table), and which hold numbers.
SHORT_LABELS = {
    "open": "Open",
    "median": "Days to outreach",
    "thanks": "Thanks",
    "outcomes": "Outcomes",
    "overdue": "Overdue",
    "breaches": "Breaches",
    "stale": "Stale offers",
    "activity": "Last active",
    "attention": "Attention",
}
NUMBER_COLUMNS = frozenset({"open", "median", "thanks", "outcomes", "overdue", "breaches", "stale"})


def _member_id(value: str) -> int:
    """A member's id as a URL or a form gives it; anything that is not one is a 404."""
    if not value.isdecimal() or len(value) > 18:  # a number the database can hold
        raise Http404("No such member.")
    return int(value)


def _member_params(words: str) -> dict[str, str]:
    """The member table's name filter, for its own links (sorting, paging); only when set."""
    return {"q": words} if words else {}


def _columns(url: str, period: dashboard.Period, sort: str, direction: str, words: str = "") -> list[dict]:
    columns = []
    for key, (label, _, first_direction) in dashboard.COLUMNS.items():
        current = key == sort
        next_direction = ("asc" if direction == "desc" else "desc") if current else first_direction
        query = urlencode({**_period_params(period), "sort": key, "dir": next_direction, **_member_params(words)})
        columns.append(
            {
                "key": key,
                "label": label,
                "short": SHORT_LABELS.get(key, label),
                "number": key in NUMBER_COLUMNS,
                "url": f"{url}?{query}",
                "current": current,
                "aria_sort": ("ascending" if direction == "asc" else "descending") if current else "",
                "next_direction": "ascending" if next_direction == "asc" else "descending",
            }
        )
    return columns


def _fragment(request: HtmxHttpRequest, target: str) -> bool:
    """Whether htmx asked for the part of the page with this id (a history restore wants it all)."""
    return bool(request.htmx) and not request.htmx.history_restore_request and request.htmx.target == target


def _render_varying(request: HtmxHttpRequest, template: str, context: dict, status: int = 200) -> HttpResponse:
    response = render(request, template, context, status=status)
    patch_vary_headers(response, ["HX-Request", "HX-Target", "HX-History-Restore-Request"])
    return response


# A page of the member table at a time (sorted over all members), and the first few who need attention.
MEMBERS_PER_PAGE = 25
ATTENTION_SHOWN = 8


@require_GET
@login_required
def cohort_dashboard(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    cohort = _coached(request, pk)
    now = _dashboard_now()
    form, period, sort, direction = _read_dashboard_params(request, now)
    data = dashboard.cohort_dashboard(cohort=cohort, start=period.start, end=period.end, now=now)
    url = reverse("cohorts:dashboard", args=[cohort.pk])
    query = urlencode({**_period_params(period), "sort": sort, "dir": direction})
    words = form.member_words()
    rows = dashboard.sort_rows(dashboard.rows_named(data.members, words), sort, direction)
    page = Paginator(rows, MEMBERS_PER_PAGE).get_page(request.GET.get("page"))
    attention = data.needing_attention
    context = {
        "cohort": cohort,
        "nav": "cohorts",
        "form": form,
        "problems": form.problems(fields_shown=True),
        "period": period,
        "query": urlencode(_period_params(period)),
        "full_query": query,
        "data": data,
        "funnel": data.funnel,
        "chart": _funnel_chart(data.funnel),
        "rows": rows,
        "member_count": len(data.members),
        "member_words": words,
        "period_params": _period_params(period),
        "page": page,
        "page_query": urlencode({**_period_params(period), "sort": sort, "dir": direction, **_member_params(words)}),
        "attention": attention[:ATTENTION_SHOWN],
        "attention_count": len(attention),
        "attention_url": f"{url}?{urlencode({**_period_params(period), 'sort': 'attention', 'dir': 'desc'})}",
        "columns": _columns(url, period, sort, direction, words),
        "sort": sort,
        "direction": direction,
        "drill_url": reverse("cohorts:dashboard_drill", args=[cohort.pk]),  # once, not per row
    }
    template = "cohorts/dashboard.html"
    if _fragment(request, "member-table"):
        template += "#member-table"
    return _render_varying(request, template, context)


# The funnel chart's geometry, in SVG user units (it scales with its box).
CHART_WIDTH, CHART_LABEL_WIDTH, CHART_BAR_WIDTH, CHART_ROW, CHART_BAR = 640, 130, 300, 44, 28


def _funnel_chart(funnel: dashboard.Funnel) -> dict:
    bars = []
    for i, stage in enumerate(funnel.stages):
        width = round(stage.share * CHART_BAR_WIDTH, 1)
        if stage.count and width < 2:
            width = 2  # a stage with a few requests stays visible
        y = i * CHART_ROW
        rate = "" if stage.rate_percent is None else f" · {stage.rate_percent}% of {funnel.stages[i - 1].label.lower()}"
        bars.append(
            {
                "stage": stage,
                "y": y,
                "bar_y": y + (CHART_ROW - CHART_BAR) / 2,
                "text_y": y + CHART_ROW / 2,
                "width": width,
                "value_x": CHART_LABEL_WIDTH + width + 8,
                "value": f"{stage.count}{rate}",
            }
        )
    return {
        "width": CHART_WIDTH,
        "height": CHART_ROW * len(funnel.stages),
        "label_x": CHART_LABEL_WIDTH - 10,
        "bar_x": CHART_LABEL_WIDTH,
        "bar_height": CHART_BAR,
        "track_width": CHART_BAR_WIDTH,
        "bars": bars,
    }


@require_GET
@login_required
def cohort_dashboard_drill(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The list behind a member's row (`?member=`) or a funnel stage (`?stage=`)."""
    cohort = _coached(request, pk)
    now = _dashboard_now()
    form, period, _, _ = _read_dashboard_params(request, now)
    context = {
        "cohort": cohort,
        "nav": "cohorts",
        "period": period,
        "query": urlencode(_period_params(period)),
        "problems": form.problems(),
    }
    member, stage = request.GET.get("member", ""), request.GET.get("stage", "")
    if member:
        detail = dashboard.member_detail(
            cohort=cohort, user_id=_member_id(member), start=period.start, end=period.end, now=now
        )
        if detail is None:
            raise Http404("No such member.")
        context.update(detail=detail, nudge_form=NudgeForm())
    elif stage in dashboard.STAGE_KEYS:
        requests = dashboard.stage_requests(cohort, stage, period.start, period.end)
        context.update(
            stage=stage,
            stage_label=dashboard.STAGE_LABELS[stage],
            requests=[(intro, getattr(intro, f"reached_{stage}")) for intro in requests],
        )
    else:
        raise Http404("Choose a member or a stage.")
    template = "cohorts/dashboard_drill.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#drill"
    return _render_varying(request, template, context)


def _csv_response(filename: str, header: list[str], rows) -> HttpResponse:
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    response.write("\ufeff")  # so spreadsheet programs read the names as UTF-8
    writer = csv.writer(response)
    writer.writerow(header)
    for row in rows:
        writer.writerow([dashboard.csv_cell(value) for value in row])
    return response


def _local(value):
    return timezone.localtime(value).replace(microsecond=0) if value is not None else None


def _csv_name(cohort: Cohort, what: str, period: dashboard.Period) -> str:
    last = period.last_day or timezone.localtime(period.end).date()
    first = period.first_day or timezone.localtime(period.start).date()
    return f"cohort-{cohort.pk}-{what}-{first:%Y%m%d}-{last:%Y%m%d}.csv"


@require_GET
@login_required
def cohort_export_members(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    cohort = _coached(request, pk)
    now = _dashboard_now()
    _, period, sort, direction = _read_dashboard_params(request, now)
    rows = dashboard.sort_rows(dashboard.member_rows(cohort, period.start, period.end, now), sort, direction)
    header = [
        "Member",
        "Joined",
        "Open requests",
        "Median days from introduction to first outreach",
        "Thank-yous done",
        "Thank-yous due",
        "Thank-you rate (%)",
        "Outcomes reported",
        "Introductions met",
        "Overdue follow-ups",
        "Boundary breaches",
        "Stale offers",
        "Last activity",
        "Needs attention",
    ]
    return _csv_response(
        _csv_name(cohort, "members", period),
        header,
        (
            [
                r.name,
                _local(r.joined_at),
                r.open_requests,
                "" if r.median_days_to_outreach is None else f"{r.median_days_to_outreach:.1f}",
                r.thanks_done,
                r.thanks_due,
                r.thank_rate_percent,
                r.outcomes_reported,
                r.intros_met,
                r.overdue_followups,
                r.boundary_breaches,
                r.stale_offers,
                _local(r.last_activity),
                "; ".join(f.message for f in r.flags),
            ]
            for r in rows
        ),
    )


@require_GET
@login_required
def cohort_export_requests(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """The requests behind the funnel (all of them: stage "requested"), optionally one member's."""
    cohort = _coached(request, pk)
    now = _dashboard_now()
    _, period, _, _ = _read_dashboard_params(request, now)
    requests = dashboard.stage_requests(cohort, "requested", period.start, period.end)
    member = request.GET.get("member", "")
    if member:
        member_id = _member_id(member)
        if not cohort.memberships.filter(user_id=member_id).exists():
            raise Http404("No such member.")
        requests = requests.filter(seeker_id=member_id)
    header = [
        "Member",
        "Connector",
        "Target",
        "Organisation",
        "Title",
        "Status",
        "Submitted",
        "Approved",
        "Accepted",
        "Introduced",
        "Met",
        "Outcome",
    ]
    return _csv_response(
        _csv_name(cohort, "requests", period),
        header,
        (
            [
                i.seeker.full_name,
                i.connector.full_name,
                i.target.name,
                i.target.organisation,
                i.target.title,
                i.get_status_display(),
                _local(i.reached_requested),
                _local(i.reached_approved),
                _local(i.reached_accepted),
                _local(i.reached_introduced),
                _local(i.reached_met),
                i.get_outcome_display(),
            ]
            for i in requests
        ),
    )


@require_POST
@login_required
def cohort_nudge(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Email a member a note from the coach."""
    cohort = _coached(request, pk)
    membership = get_object_or_404(
        cohort.memberships.select_related("user"), user_id=_member_id(request.POST.get("member", ""))
    )
    member = membership.user
    form = NudgeForm(request.POST)
    context = {
        "cohort": cohort,
        "member_id": member.pk,
        "member_name": member.get_full_name() or "this member",
        "nudge_form": form,
        "nav": "cohorts",
    }
    if not form.is_valid():
        if request.htmx:
            return render(request, "cohorts/dashboard_nudge.html#nudge-form", context, status=422)
        return render(request, "cohorts/dashboard_nudge.html", context, status=422)
    message = services.cohort_nudge(cohort=cohort, coach=request.user, member=member, note=form.cleaned_data["note"])
    context["already_sent"] = message is None
    if message is None:
        last = services.last_coach_nudge(cohort=cohort, member=member)
        context["last_nudge_at"] = last
        context["next_nudge_at"] = last + NUDGE_SPACING if last else None
    if request.htmx:
        return render(request, "cohorts/dashboard_nudge.html#nudge-sent", context)
    name = member.get_full_name() or "the member"
    if message is None:
        messages.info(
            request,
            f"You sent {name} a note less than a day ago, so this one was not sent: one note a day at most"
            + (f" (the next from {timezone.localtime(context['next_nudge_at']):%a %-d %b, %H:%M})." if last else "."),
        )
    else:
        messages.success(request, f"Your note to {name} is on its way.")
    return redirect(f"{reverse('cohorts:dashboard_drill', args=[cohort.pk])}?member={member.pk}")


@require_http_methods(["GET", "POST"])
@login_required
def cohort_remove_member(request: HtmxHttpRequest, pk: int, user_pk: int) -> HttpResponse:
    """GET asks to confirm; POST takes the member out of the cohort (their account stays)."""
    cohort = _coached(request, pk)
    membership = get_object_or_404(cohort.memberships.select_related("user"), user_id=user_pk)
    if request.method == "GET":
        return render(
            request, "cohorts/dashboard_remove.html", {"cohort": cohort, "membership": membership, "nav": "cohorts"}
        )
    services.membership_remove(cohort=cohort, coach=request.user, member=membership.user)
    messages.success(
        request,
        f"{membership.user.get_full_name() or 'The member'} is no longer in {cohort.name}. "
        "Their account and introductions stay theirs.",
    )
    return redirect_after_write(request, reverse("cohorts:dashboard", args=[cohort.pk]))
