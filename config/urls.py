"""Top-level URLs: the people-facing pages, the REST API with its schema and docs, the admin."""
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("curation.api.urls")),
    path("", include("annotate.urls")),
]

handler400 = "curation.api.errors.bad_request"
handler404 = "curation.api.errors.not_found"
handler500 = "curation.api.errors.server_error"
