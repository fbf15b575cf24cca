from django.urls import path

from . import views

app_name = "intros"

urlpatterns = [
    path("", views.home, name="home"),
    path("inbox/", views.inbox, name="inbox"),
    path("inbox/record/", views.connector_record, name="connector_record"),
    path("intros/new/", views.find, name="find"),
    path("intros/new/<int:contact_pk>/", views.intro_create, name="create"),
    path("intros/<int:pk>/", views.intro_detail, name="detail"),
    path("intros/<int:pk>/edit/", views.intro_edit, name="edit"),
    path("intros/<int:pk>/submit/", views.intro_submit, name="submit"),
    path("intros/<int:pk>/withdraw/", views.intro_withdraw, name="withdraw"),
    path("intros/<int:pk>/approve/", views.intro_approve, name="approve"),
    path("intros/<int:pk>/changes/", views.intro_request_changes, name="request_changes"),
    path("intros/<int:pk>/decline/", views.intro_decline, name="decline"),
    path("intros/<int:pk>/ask-again/", views.intro_ask_again, name="ask_again"),
    path("intros/<int:pk>/meeting/", views.intro_meeting, name="meeting"),
    path("intros/<int:pk>/outcome/", views.intro_outcome, name="outcome"),
    path("intros/<int:pk>/close/", views.intro_close, name="close"),
    path("intros/<int:pk>/chain/", views.chain, name="chain"),
    path("r/<int:pk>/<str:token>/", views.target_link, name="target"),
]
