"""Project-wide error handlers: the API answers in its error shape, pages with the app's own pages."""
from django.http import HttpRequest, HttpResponse

from annotate.views import errors as pages
from curation.api import errors as api


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return api.not_found(request, exception)
    return pages.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return api.server_error(request)
    return pages.page_server_error(request)
