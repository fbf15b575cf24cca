from django.urls import path

from . import views

app_name = "contacts"

urlpatterns = [
    path("", views.contact_list, name="list"),
    path("organisations/", views.organisation_suggestions, name="organisations"),
    path("new/", views.contact_create, name="create"),
    path("<int:pk>/", views.contact_detail, name="detail"),
    path("<int:pk>/edit/", views.contact_edit, name="edit"),
    path("<int:pk>/delete/", views.contact_delete, name="delete"),
    path("import/", views.contact_import, name="import"),
    path("import/<int:pk>/", views.import_detail, name="import_detail"),
    path("import/<int:pk>/choices/", views.import_choices, name="import_choices"),
    path("import/<int:pk>/confirm/", views.import_confirm, name="import_confirm"),
    path("import/<int:pk>/discard/", views.import_discard, name="import_discard"),
    path("import/<int:pk>/report.csv", views.import_report_csv, name="import_report_csv"),
    path("export.csv", views.contact_export_csv, name="export_csv"),
    path("export.vcf", views.contact_export_vcard, name="export_vcard"),
]
