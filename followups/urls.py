from django.urls import path

from . import views

app_name = "followups"

urlpatterns = [
    path("", views.followup_list, name="list"),
    path("act/", views.followup_act, name="act"),
    path("intros/<int:intro_pk>/outreach/", views.outreach_log, name="outreach"),
    path("offers/", views.offer_list, name="offers"),
    path("offers/<int:pk>/self/", views.offer_self_contact, name="offer_self_contact"),
    path("offers/<int:pk>/request/", views.offer_request, name="offer_request"),
    path("offers/<int:pk>/contacted/", views.offer_contacted, name="offer_contacted"),
    path("offers/<int:pk>/dismiss/", views.offer_dismiss, name="offer_dismiss"),
    path("calendar/reset/", views.calendar_reset, name="calendar_reset"),
    path("calendar/<str:token>.ics", views.calendar_feed, name="calendar"),
]
