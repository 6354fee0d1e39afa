"""The request type of pages: behind @login_required the user is signed in, and django-htmx adds `htmx`."""
from django.contrib.auth.models import User
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails


class AppRequest(HttpRequest):
    user: User  # type: ignore[assignment]
    htmx: HtmxDetails
