"""API routes: each area adds its own module of urlpatterns; schema and offline docs are served here."""
from csp.decorators import csp_update
from django.urls import path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerSplitView

from curation.api import (
    actions,
    dedup,
    export_archive,
    exports,
    hard_negatives,
    ratings,
    review,
    sources,
    subsets,
)

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # The split view serves Swagger UI's start-up script as a file (no inline script); Swagger UI styles inline.
    path(
        "docs/",
        csp_update({"style-src": ["'self'", "'unsafe-inline'"]})(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
    path("redoc/", SpectacularRedocView.as_view(url_name="api-schema"), name="api-redoc"),
    *sources.urlpatterns,
    *subsets.urlpatterns,
    *exports.urlpatterns,
    *export_archive.urlpatterns,
    *review.urlpatterns,
    *dedup.urlpatterns,
    *actions.urlpatterns,
    *hard_negatives.urlpatterns,
    *ratings.urlpatterns,
]
