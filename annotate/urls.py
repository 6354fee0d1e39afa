"""Page URLs: login/logout, then each area's module of views."""
from django.contrib.auth import views as auth_views
from django.urls import path

from annotate.views import (
    actions,
    audit,
    dashboard,
    data_roots,
    dedup,
    errors,
    exports,
    hard_negatives,
    home,
    mapping,
    ratings,
    review,
    source_edit,
    sources,
    subsets,
)

urlpatterns = [
    path("login/", auth_views.LoginView.as_view(template_name="annotate/login.html"), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    *home.urlpatterns,
    *sources.urlpatterns,
    *source_edit.urlpatterns,
    *data_roots.urlpatterns,
    *mapping.urlpatterns,
    *review.urlpatterns,
    *subsets.urlpatterns,
    *exports.urlpatterns,
    *audit.urlpatterns,
    *dashboard.urlpatterns,
    *dedup.urlpatterns,
    *actions.urlpatterns,
    *hard_negatives.urlpatterns,
    *ratings.urlpatterns,
    *errors.urlpatterns,  # last: any other address is the app's own 404 page
]
