"""The app's URLs plus two floor pages: ours (a logged-in page that renders only the base
template, through every middleware) and a bare Django one (bench/bare.py).

Used through ROOT_URLCONF in bench/settings.py only; the app never routes to them."""

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import include, path

from . import bare
from . import floor as floor_parts


@login_required
def floor(request: HttpRequest) -> HttpResponse:
    return render(request, "base.html", {})


urlpatterns = [
    path(bare.URL.strip("/") + "/", bare.bare, name="bench_bare"),
    path("bench/floor/", floor, name="bench_floor"),
    path("bench/floor/parts/<str:name>/", floor_parts.part, name="bench_floor_part"),  # python -m bench floor
    path("", include("config.urls")),
]
