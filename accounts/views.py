from __future__ import annotations

import json

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods

from . import personal_data, ratelimit
from .forms import AccountDeleteForm, ProfileForm
from .htmx import HtmxHttpRequest, redirect_after_write


@login_required
def profile(request: HtmxHttpRequest) -> HttpResponse:
    """Name, time zone, quiet hours and digest hour: what every reminder is timed by."""
    form = ProfileForm(request.POST if request.method == "POST" else None, instance=request.user)
    if request.method == "POST":
        if not form.is_valid():
            template = "accounts/profile.html#profile-form" if request.htmx else "accounts/profile.html"
            return render(request, template, {"form": form, "nav": "profile"}, status=422)
        form.save()
        messages.success(request, "Your settings are saved.")
        if request.htmx:
            form = ProfileForm(instance=request.user)
            return render(request, "accounts/profile.html#profile-form", {"form": form, "nav": "profile"})
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", {"form": form, "nav": "profile"})


class LoginView(auth_views.LoginView):
    """Django's log-in, with wrong passwords limited so that a guesser cannot lock the owner
    out (accounts.ratelimit.LoginAttempt): each try is counted before the password is checked
    and given back when it is right; the browser then becomes a known device for the address."""

    def post(self, request, *args, **kwargs):
        self.attempt = ratelimit.LoginAttempt.of(request, request.POST.get("username", ""))
        blocked = self.attempt.count()
        if blocked:
            form = ratelimit.show_on_form(self.get_form(), blocked)
            return ratelimit.too_many(self.render_to_response(self.get_context_data(form=form)), blocked)
        return super().post(request, *args, **kwargs)

    def form_valid(self, form):
        self.attempt.succeeded()
        response = super().form_valid(form)
        ratelimit.remember_device(self.request, response, form.get_user().email)
        return response


class PasswordResetView(auth_views.PasswordResetView):
    """Django's reset request, counted per network and per address: nobody is flooded with links."""

    def post(self, request, *args, **kwargs):
        email = request.POST.get("email", "").strip().lower()
        blocked = ratelimit.first_blocked(
            ratelimit.PASSWORD_RESET_IP.hit(ratelimit.client_ip(request)),
            ratelimit.PASSWORD_RESET_EMAIL.hit(email) if email else None,
        )
        if blocked:
            form = ratelimit.show_on_form(self.get_form(), blocked)
            return ratelimit.too_many(self.render_to_response(self.get_context_data(form=form)), blocked)
        return super().post(request, *args, **kwargs)


@require_GET
@login_required
def data_export(request: HtmxHttpRequest) -> HttpResponse:
    """Everything that is mine, as one JSON file (accounts.personal_data)."""
    data = personal_data.account_export(user=request.user)
    response = HttpResponse(
        json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=2),
        content_type="application/json; charset=utf-8",
    )
    filename = f"warm-intros-my-data-{timezone.localdate():%Y-%m-%d}.json"
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "POST"])
@login_required
def account_delete(request: HtmxHttpRequest) -> HttpResponse:
    """GET explains what deleting does and asks for the password; POST deletes and logs out."""
    user = request.user
    form = AccountDeleteForm(user, request.POST if request.method == "POST" else None)
    context = {"form": form, "blockers": personal_data.account_blockers(user=user), "nav": "profile"}
    template = "accounts/account_delete.html"
    if request.method == "GET":
        return render(request, template, context)
    if context["blockers"]:
        return render(request, template, context, status=409)
    # A password is being tried: it counts with the log-in tries for this address from here.
    attempt = ratelimit.LoginAttempt.of(request, user.email)
    blocked = attempt.count()
    if blocked:
        ratelimit.show_on_form(form, blocked)
        return ratelimit.too_many(render(request, template, context), blocked)
    if not form.is_valid():
        return render(request, template, context, status=422)
    attempt.succeeded()
    try:
        personal_data.account_delete(user=user)
    except personal_data.AccountNotDeletable as refusal:  # a cohort made in another tab meanwhile
        context["blockers"] = refusal.reasons
        return render(request, template, context, status=409)
    logout(request)
    return redirect_after_write(request, reverse("accounts:deleted"))


@require_GET
def account_deleted(request: HtmxHttpRequest) -> HttpResponse:
    """Where a deleted account lands, logged out: what is gone and what others keep."""
    return render(request, "accounts/account_deleted.html")
