"""Top-level URLs: the people-facing pages, the REST API with its schema and docs, the admin."""
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", include("curation.api.urls")),
    path("", include("annotate.urls")),
]

handler400 = "curation.api.errors.bad_request"
handler403 = "annotate.views.errors.page_forbidden"
handler404 = "config.errors.not_found"
handler500 = "config.errors.server_error"
