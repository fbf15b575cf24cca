from django.urls import path

from . import webhooks

app_name = "outbox"
urlpatterns = [
    # Set in Mailgun (Sending → Webhooks) as https://<site>/hooks/email/mailgun/ for "Permanent
    # failure", "Spam complaints" (and, if wanted, "Delivered", which changes nothing here).
    path("mailgun/", webhooks.mailgun_tracking, name="mailgun_tracking"),
]
