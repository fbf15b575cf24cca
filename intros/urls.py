from django.urls import path

from . import views

app_name = "intros"

urlpatterns = [
    path("", views.home, name="home"),
    path("inbox/", views.inbox, name="inbox"),
]
