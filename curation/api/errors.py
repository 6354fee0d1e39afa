"""Every API error in one shape: {"error": {"code": ..., "message": ..., "detail": ...}}.

The one place the API maps a domain error: an ApplicationError a service raises reaches the client with its
own code, status and extra detail, so no API view translates errors by hand.
"""
from typing import Any

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from rest_framework import exceptions, status
from rest_framework.pagination import CursorPagination
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from curation.errors import ApplicationError


class ApiError(ApplicationError):
    """An error only the API raises (about the request, not the domain), reported like every other one."""

    def __init__(self, *, code: str, message: str, status_code: int = status.HTTP_400_BAD_REQUEST, detail: Any = None):
        super().__init__(message, code=code, status=status_code, extra=detail)


def error_body(*, code: str, message: str, detail: Any = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "detail": detail}}


def exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, exceptions.NotFound) and str(exc.detail) == CursorPagination.invalid_cursor_message:
        # DRF answers a cursor it cannot decode with 404, which reads as "this collection does not exist".
        exc = ApiError(code="invalid_cursor", message="The cursor is not valid; start again from the first page.",
                       detail={"field": "cursor"})
    if isinstance(exc, ApplicationError):
        set_rollback()
        return Response(error_body(code=exc.code, message=exc.message, detail=exc.extra), status=exc.status)
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(detail=exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        response.data = error_body(code="invalid", message="The request is not valid.", detail=exc.detail)
    elif isinstance(exc, exceptions.APIException):
        codes = exc.get_codes()
        code = codes if isinstance(codes, str) else "error"
        response.data = error_body(code=code, message=str(exc.detail), detail=None)
    return response


# Project-wide handlers (config/urls.py): a URL under /api/ that matches no route, or a crash, still answers
# in the API's error shape; pages keep Django's own.


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """A request Django refuses before any view (too many fields, a bad host): the error shape under /api/."""
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(code="bad_request", message="The request cannot be read."), status=400)
    return defaults.bad_request(request, exception)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(code="not_found", message=f"No API endpoint at {request.path}."), status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse(error_body(code="server_error", message="The server failed; the failure is logged."), status=500)
    return defaults.server_error(request)
