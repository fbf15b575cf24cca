from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login as auth_login
from django.contrib.auth.decorators import login_required
from django.db import IntegrityError, transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from django_htmx.http import HttpResponseClientRedirect
from django_htmx.middleware import HtmxDetails

from accounts.models import User

from . import services
from .forms import CohortForm, InvitationSignupForm, InviteForm
from .models import Cohort, Invitation

# What a person holding a bad link sees, by what is wrong with it.
PROBLEM_STATUS = {"invalid": 400, "expired": 410, "used": 410, "wrong_person": 403}


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def _redirect(request: HtmxHttpRequest, url: str) -> HttpResponse:
    return HttpResponseClientRedirect(url) if request.htmx else redirect(url)


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
            return _redirect(request, cohort.get_absolute_url())
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
    return _redirect(request, invitation.cohort.get_absolute_url())


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
