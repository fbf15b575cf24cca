from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


@login_required
def cohort_list(request: HttpRequest) -> HttpResponse:  # replaced by the cohorts pages work
    return render(request, "base.html", {"nav": "cohorts"})
