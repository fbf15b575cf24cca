from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def profile(request: HttpRequest) -> HttpResponse:  # replaced by the accounts pages work
    return render(request, "base.html", {"nav": "profile"})
