from django.urls import path

from . import views

app_name = "webhooks"

urlpatterns = [
    path("", views.endpoint_list, name="list"),
    path("<int:pk>/", views.endpoint_detail, name="detail"),
    path("<int:pk>/test/", views.endpoint_test, name="test"),
    path("<int:pk>/active/", views.endpoint_active, name="active"),
    path("<int:pk>/delete/", views.endpoint_delete, name="delete"),
    path("<int:pk>/deliveries/<int:delivery_pk>/retry/", views.delivery_retry, name="retry"),
]
