from django.urls import path

from . import views

app_name = "cohorts"

urlpatterns = [
    path("", views.cohort_list, name="list"),
    path("new/", views.cohort_create, name="create"),
    path("<int:pk>/", views.cohort_detail, name="detail"),
    path("<int:pk>/invite/", views.cohort_invite, name="invite"),
    path("<int:pk>/invitations/<int:invitation_pk>/cancel/", views.invitation_cancel, name="invitation_cancel"),
    path("join/<str:token>/", views.invitation_join, name="join"),
]
