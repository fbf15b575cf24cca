from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_GET, require_http_methods, require_POST, require_safe

from lib import ratelimit
from lib.htmx import HtmxHttpRequest, redirect_after_write
from workflows import personal_data as workflow

from . import data_exports, personal_data
from .forms import AccessTokenForm, AccountDeleteForm, ProfileForm
from .models import AccessToken, DataExport


@login_required
def profile(request: HtmxHttpRequest) -> HttpResponse:
    """Name, time zone, quiet hours and digest hour: what every reminder is timed by."""
    form = ProfileForm(request.POST if request.method == "POST" else None, instance=request.user)
    if request.method == "POST":
        if not form.is_valid():
            if request.htmx:
                return render(request, "accounts/profile.html#profile-form", {"form": form}, status=422)
            return render(request, "accounts/profile.html", _profile_context(request, form=form), status=422)
        form.save()
        messages.success(request, "Your settings are saved.")
        if request.htmx:
            form = ProfileForm(instance=request.user)
            return render(request, "accounts/profile.html#profile-form", {"form": form, "nav": "profile"})
        return redirect("accounts:profile")
    return render(request, "accounts/profile.html", _profile_context(request, form=form))


class LoginView(auth_views.LoginView):
    """Django's log-in, with wrong passwords limited so that a guesser cannot lock the owner
    out (lib.ratelimit.LoginAttempt): each try is counted before the password is checked
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


def _data_export_context(request: HtmxHttpRequest, **extra) -> dict:
    return {"export": data_exports.data_export_current(user=request.user), "nav": "profile", **extra}


def _profile_context(request: HtmxHttpRequest, **extra) -> dict:
    """The settings page: the profile form, the API tokens and the data download."""
    return _data_export_context(request, **{**_tokens_context(request), **extra})


def _tokens_context(request: HtmxHttpRequest, **extra) -> dict:
    return {
        "tokens": list(AccessToken.objects.owned_by(request.user)),
        "token_form": AccessTokenForm(),
        "token_limit": AccessToken.MAX_PER_USER,
        **extra,
    }


def _tokens_answer(request: HtmxHttpRequest, status: int = 200, **extra) -> HttpResponse:
    """The settings page (for htmx, its tokens section) as it now stands."""
    if request.htmx:
        context = {**_tokens_context(request), **extra}
        response = render(request, "accounts/profile.html#tokens", context, status=status)
    else:
        form = ProfileForm(instance=request.user)
        response = render(
            request, "accounts/profile.html", _profile_context(request, form=form, **extra), status=status
        )
    # A new token's secret is in this answer: nothing may keep a copy of it.
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
@login_required
def token_create(request: HtmxHttpRequest) -> HttpResponse:
    """A new API token, its secret shown in this answer once: only its hash is kept."""
    form = AccessTokenForm(request.POST)
    if not form.is_valid():
        return _tokens_answer(request, status=422, token_form=form)
    if AccessToken.objects.owned_by(request.user).count() >= AccessToken.MAX_PER_USER:
        form.add_error(
            None, f"You have {AccessToken.MAX_PER_USER} tokens, the most one person can hold: revoke one first."
        )
        return _tokens_answer(request, status=422, token_form=form)
    token, secret = AccessToken.issue(user=request.user, **form.cleaned_data)
    return _tokens_answer(request, status=201, new_token=token, new_secret=secret)


@require_POST
@login_required
def token_revoke(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    """Revoked at once: the token is deleted, and the API no longer answers to it."""
    token = get_object_or_404(AccessToken.objects.owned_by(request.user), pk=pk)
    token.delete()
    messages.success(request, f"Revoked the token “{token.name}”. Anything using it can no longer reach your data.")
    if request.htmx:
        return _tokens_answer(request)
    return redirect_after_write(request, reverse("accounts:profile") + "#api-tokens")


@require_http_methods(["GET", "HEAD", "POST"])
@login_required
def data_export(request: HtmxHttpRequest) -> HttpResponse:
    """Everything that is mine, as one JSON file: POST asks a worker to prepare it; the page (or,
    for htmx, its status fragment, polled while it is being prepared) shows how far it is and
    then the download."""
    user = request.user
    template = "accounts/data_export.html#export-status" if request.htmx else "accounts/data_export.html"
    if request.method == "POST":
        current = data_exports.data_export_current(user=user)
        # Only a new file counts: asking again while one is on its way prepares nothing more.
        blocked = None if current and current.in_progress else ratelimit.DATA_EXPORT.hit(str(user.pk))
        if blocked:
            return ratelimit.too_many(
                render(request, template, _data_export_context(request, blocked=blocked)), blocked
            )
        data_exports.data_export_request(user=user)
        if request.htmx:
            return render(request, template, _data_export_context(request))
        return redirect_after_write(request, reverse("accounts:data_export"))
    if request.htmx and request.htmx.history_restore_request:
        template = "accounts/data_export.html"
    response = render(request, template, _data_export_context(request))
    patch_vary_headers(response, ["HX-Request"])
    response["Cache-Control"] = "private, no-store"
    return response


@require_safe
@login_required
def data_export_download(request: HtmxHttpRequest, pk: int) -> FileResponse:
    """The prepared file, to its owner only (anyone else: 404), while it is kept."""
    ready = DataExport.objects.filter(user=request.user, status=DataExport.Status.READY, expires_at__gt=timezone.now())
    export = get_object_or_404(ready, pk=pk)
    try:
        file = data_exports.storage().open(export.path, "rb")
    except FileNotFoundError:
        raise Http404("The file is gone.") from None
    response = FileResponse(
        file, as_attachment=True, filename=export.filename, content_type="application/json; charset=utf-8"
    )
    response["Cache-Control"] = "private, no-store"
    return response


@require_http_methods(["GET", "POST"])
@login_required
def account_delete(request: HtmxHttpRequest) -> HttpResponse:
    """GET explains what deleting does and asks for the password; POST deletes and logs out."""
    user = request.user
    form = AccountDeleteForm(user, request.POST if request.method == "POST" else None)
    context = {"form": form, "blockers": workflow.account_blockers(user=user), "nav": "profile"}
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
        workflow.do_account_delete(user=user)
    except personal_data.AccountNotDeletable as refusal:  # a cohort made in another tab meanwhile
        context["blockers"] = refusal.reasons
        return render(request, template, context, status=409)
    logout(request)
    return redirect_after_write(request, reverse("accounts:deleted"))


@require_GET
def account_deleted(request: HtmxHttpRequest) -> HttpResponse:
    """Where a deleted account lands, logged out: what is gone and what others keep."""
    return render(request, "accounts/account_deleted.html")
