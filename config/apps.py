"""Django's admin app, configured for this project: its site is `lib.staff_admin.StaffAdminSite`
(staff only, through the app's own log-in), and ADMIN_URL is checked to lead to it. Kept apart
from the site, which imports models: an app config is imported before they are."""

from __future__ import annotations

from django.conf import settings
from django.contrib.admin.apps import AdminConfig
from django.core import checks
from django.urls import Resolver404, resolve


class StaffAdminConfig(AdminConfig):
    default_site = "lib.staff_admin.StaffAdminSite"

    def ready(self) -> None:
        super().ready()
        checks.register(check_admin_url, checks.Tags.urls)


def check_admin_url(app_configs=None, **kwargs) -> list[checks.CheckMessage]:
    """ADMIN_URL must lead to the admin, not to one of the app's own pages before it."""
    path = "/" + settings.ADMIN_URL
    try:
        found = resolve(path).view_name
    except Resolver404:
        found = ""
    if found == "admin:index":
        return []
    return [
        checks.Error(
            f"ADMIN_URL={settings.ADMIN_URL!r} leads to {found or 'nothing'}, not to the admin.",
            hint="Choose a path the app does not use, e.g. ops/.",
            id="warm.E001",
        )
    ]
