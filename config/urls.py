from django.conf import settings
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("intros.urls")),
    path("accounts/", include("accounts.urls")),
    path("contacts/", include("contacts.urls")),
    path("follow-ups/", include("followups.urls")),
    path("cohorts/", include("cohorts.urls")),
    # The JSON API (issue 18.1): tokens or the session; its docs page for a logged-in person.
    path("api/", include("api.urls")),
    path("webhooks/", include("webhooks.urls")),
    # Reports from the email service (bounces, complaints): no login, the service's signature.
    path("hooks/email/", include("lib.outbox.urls")),
    # For whoever runs the service: staff only (lib.staff_admin), at a path of their choosing.
    path(settings.ADMIN_URL, admin.site.urls),
]
