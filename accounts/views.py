from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render

from .forms import ProfileForm
from .htmx import HtmxHttpRequest


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
