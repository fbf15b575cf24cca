from django.urls import include, path

urlpatterns = [
    path("", include("intros.urls")),
    path("accounts/", include("accounts.urls")),
    path("contacts/", include("contacts.urls")),
    path("follow-ups/", include("followups.urls")),
    path("cohorts/", include("cohorts.urls")),
    # Reports from the email service (bounces, complaints): no login, the service's signature.
    path("hooks/email/", include("lib.outbox.urls")),
]
