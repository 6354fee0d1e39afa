"""Pages map an ApplicationError in one place (annotate/errors.py): form errors, messages, and a response with
the error's own status for one that no view caught."""
import pytest
from django import forms
from django.test import RequestFactory

from annotate.errors import error_messages, form_add_error
from annotate.middleware import AppErrorPagesMiddleware
from curation.errors import ApplicationError
from curation.exporters.registry import ExportConfigError
from curation.mapping.spec import SpecError


class _Form(forms.Form):
    format = forms.CharField()


def test_an_error_naming_a_field_of_the_form_is_shown_beside_it():
    form = _Form({"format": "tar"})
    form.is_valid()
    form_add_error(form, ExportConfigError("unknown format 'tar'", field="format"))
    assert form.errors["format"] == ["unknown format 'tar'"]
    form_add_error(form, ApplicationError("the queue is closed"))
    assert form.non_field_errors() == ["the queue is closed"]


def test_a_spec_error_lists_every_problem():
    assert error_messages(SpecError(["a: b", "c: d"])) == ["a: b", "c: d"]
    assert error_messages(ApplicationError("one")) == ["one"]


@pytest.mark.django_db
def test_an_uncaught_error_on_a_page_answers_with_its_status(curator):
    request = RequestFactory().get("/sources/1/")
    request.user = curator
    request.htmx = False
    middleware = AppErrorPagesMiddleware(lambda r: None)
    response = middleware.process_exception(request, ApplicationError("not now", code="busy", status=409))
    assert response.status_code == 409 and b"not now" in response.content
    request.htmx = True
    response = middleware.process_exception(request, ApplicationError("not now", status=409))
    assert response.status_code == 409 and response.content == b"not now"
    api = RequestFactory().get("/api/subsets/")
    assert middleware.process_exception(api, ApplicationError("x")) is None
    assert middleware.process_exception(request, ValueError("x")) is None
