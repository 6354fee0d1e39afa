"""The one place a page's uncaught error becomes a page: a refused or missing object gets the app's own 403 and
404 pages (annotate/views/errors.py), a domain error (ApplicationError) its own status and message
(annotate/errors.py). Returning the page here, instead of letting Django log the exception, keeps a refused
page's traceback out of the log. API requests are left to the API's error shape.
"""
from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse

from annotate.errors import error_response
from annotate.views.errors import page_forbidden, page_not_found
from curation.errors import ApplicationError


class AppErrorPagesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if request.path.startswith("/api/"):
            return None
        if isinstance(exception, PermissionDenied):
            return page_forbidden(request, exception)
        if isinstance(exception, Http404):
            return page_not_found(request, exception)
        if isinstance(exception, ApplicationError):
            return error_response(request, exception)
        return None
