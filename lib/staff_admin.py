"""Django's admin, for whoever runs the service (`ADMIN_URL`, `manage.py createsuperuser`).

- Staff only, and through the app's own log-in: a visitor who is not logged in is sent to
  `accounts:login` (with its wrong-password limits; the admin's own log-in form would be a way
  round them), and a logged-in person who is not staff gets a 404, as for anything else that is
  not theirs — the admin's address says nothing to them.
- Every route has a name (no catch-all), so the permission matrix can hold every one.
- `ReadOnlyAdmin` is the default for the domain's models: an operator looks, and changes happen
  through the app's workflows (a request's status only through `intros.services.transition`).
  Private words (notes, preparation, a target's address) are left out of lists, forms and
  searches entirely, not folded away: a collapsed fieldset is still sent to the browser.
"""

from __future__ import annotations

from functools import update_wrapper
from typing import Any

from django.contrib import admin
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import URLPattern, reverse
from django.utils.http import url_has_allowed_host_and_scheme


class StaffAdminSite(admin.AdminSite):
    site_header = "Warm Intros operations"
    site_title = "Warm Intros operations"
    index_title = "What the service holds"
    final_catch_all_view = False  # an unknown admin address is a plain 404

    def admin_view(self, view, cacheable: bool = False):
        checked = super().admin_view(view, cacheable)

        def staff_only(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not self.has_permission(request):
                raise Http404
            return checked(request, *args, **kwargs)

        return login_required(update_wrapper(staff_only, view))

    def get_urls(self) -> list:
        """Django's, with a name for each model's old change-page address (`<id>/`, which
        redirects to `<id>/change/`), so that every admin route has one."""
        urls = super().get_urls()
        for resolver in urls:
            for pattern in getattr(resolver, "url_patterns", ()):
                if isinstance(pattern, URLPattern) and pattern.name is None:
                    pattern.name = str(resolver.pattern).strip("/").replace("/", "_") + "_redirect"
        return urls

    def login(self, request: HttpRequest, extra_context: dict | None = None) -> HttpResponse:
        wanted = request.GET.get(REDIRECT_FIELD_NAME, "")
        if not url_has_allowed_host_and_scheme(wanted, allowed_hosts={request.get_host()}):
            wanted = reverse("admin:index", current_app=self.name)
        if not request.user.is_authenticated:
            return redirect_to_login(wanted)  # settings.LOGIN_URL: the app's own form
        if not self.has_permission(request):
            raise Http404
        return HttpResponseRedirect(wanted)


class ReadOnlyAdmin(admin.ModelAdmin):
    """What an operator may look at and search, and not change."""

    view_on_site = False  # the app's own pages are their owners', not the operator's
    show_full_result_count = False  # one COUNT fewer on large tables

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


class ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
