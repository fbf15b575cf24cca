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
    # The coach dashboard: the coach's only; anyone else gets a 404.
    path("<int:pk>/dashboard/", views.cohort_dashboard, name="dashboard"),
    path("<int:pk>/dashboard/drill/", views.cohort_dashboard_drill, name="dashboard_drill"),
    path("<int:pk>/dashboard/members.csv", views.cohort_export_members, name="export_members"),
    path("<int:pk>/dashboard/requests.csv", views.cohort_export_requests, name="export_requests"),
    path("<int:pk>/nudge/", views.cohort_nudge, name="nudge"),
    path("<int:pk>/members/<int:user_pk>/remove/", views.cohort_remove_member, name="remove_member"),
]
