"""How pages show a domain error: the one place an ApplicationError becomes a form error, a message or a response.

Views catch ApplicationError (never a tuple of exception types) where they answer with the page itself, and use
these helpers to show it; one that reaches no view's `except` is answered by annotate/middleware.py with
the error's own status: a plain message for HTMX, the error page otherwise. The API maps the same errors in
curation/api/errors.py.
"""

from django import forms
from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from curation.errors import ApplicationError


def error_messages(exc: ApplicationError) -> list[str]:
    """Every problem the error names (a spec's list of 'where: what'), else its one message."""
    extra = exc.extra if isinstance(exc.extra, dict) else {}
    listed = extra.get("errors")
    if isinstance(listed, list) and listed:
        return [str(m) for m in listed]
    return [exc.message]


def form_add_error(form: forms.Form, exc: ApplicationError) -> None:
    """Show the error on the form: beside its field when the error names one the form has, else above the form."""
    if isinstance(exc, ValidationError):  # errors by field (services/sources.SourceInvalid)
        form.add_error(None, exc)
        return
    field = exc.extra.get("field") if isinstance(exc.extra, dict) else None
    form.add_error(field if field in form.fields else None, exc.message)


def message_error(request: HttpRequest, exc: ApplicationError) -> None:
    """The error as a flash message on the next page."""
    messages.error(request, exc.message)


def error_response(request: HttpRequest, exc: ApplicationError) -> HttpResponse:
    if getattr(request, "htmx", False):
        return HttpResponse(exc.message, status=exc.status, content_type="text/plain; charset=utf-8")
    return render(request, "annotate/error.html", {"error": exc}, status=exc.status)
