from django.urls import path

from . import views
from .main import api

urlpatterns = [
    path("v1/", api.urls),
    path("docs/", views.docs, name="api_docs"),
]
