"""The app's own 403, 404 and 500 pages: its navigation, what happened in words, and a way back.

A PermissionDenied or Http404 raised by a page view becomes one of these pages in the middleware
(annotate/middleware.py), so a refused page writes no traceback to the log and the dev server's
URL-listing 404 is never what a user sees. The API keeps its own error shape (curation/api/errors.py).
"""
from django.contrib.auth.models import AnonymousUser, User
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import redirect, render
from django.urls import Resolver404, re_path, resolve

from curation.services.roles import ROLE_ADMIN, ROLE_CURATOR, ROLE_REVIEWER

# Each role can do what the roles before it can; the order says which role a page needs at least.
ROLE_ORDER = (ROLE_REVIEWER, ROLE_CURATOR, ROLE_ADMIN)
ROLE_PLURAL = {ROLE_REVIEWER: "reviewers", ROLE_CURATOR: "curators", ROLE_ADMIN: "admins"}


def user_role(user: User | AnonymousUser) -> str | None:
    """The highest role the user holds, or None."""
    if not user.is_authenticated:
        return None
    if user.is_superuser:
        return ROLE_ADMIN
    names = set(user.groups.values_list("name", flat=True))
    held = [role for role in ROLE_ORDER if role in names]
    return held[-1] if held else None


def forbidden_message(user: User | AnonymousUser, detail: str = "") -> str:
    """Why the page is refused, naming the user's role and who the page is for."""
    if detail:
        return detail
    role = user_role(user)
    if role is None:
        return "Your account has no role yet: an admin can make you a reviewer or a curator."
    above = ROLE_ORDER[ROLE_ORDER.index(role) + 1:]
    if not above:
        return "This action is not open to anyone in your role."
    needed = " and ".join(ROLE_PLURAL[r] for r in above)
    return f"This page is for {needed}; you are a {role}."


def page_forbidden(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    detail = str(exception) if exception is not None and str(exception) else ""
    return render(request, "errors/403.html", {"message": forbidden_message(request.user, detail)}, status=403)


def page_not_found(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    message = "There is no page at this address."
    if exception is not None and not isinstance(exception, Resolver404) and str(exception):
        # get_object_or_404 says "No Source matches the given query."; say it as a person would.
        message = "What this page shows does not exist (any more): it may have been deleted."
    return render(request, "errors/404.html", {"message": message, "path": request.path}, status=404)


def page_server_error(request: HttpRequest) -> HttpResponse:
    message = "Something went wrong on the server; the failure is logged."
    try:
        return render(request, "errors/500.html", {"message": message}, status=500)
    except Exception:  # what failed may be what the page needs (the database behind the signed-in user)
        return HttpResponseServerError(f"<!doctype html><title>Server error</title><h1>Server error</h1><p>{message}</p>")


def unmatched(request: HttpRequest, rest: str = "") -> HttpResponse:
    """The last URL pattern: an address no page has (the dev server would list every URL pattern instead)."""
    if not request.path.endswith("/"):
        # What APPEND_SLASH did before this pattern matched everything.
        try:
            match = resolve(request.path + "/")
        except Resolver404:
            match = None
        if match is not None and match.func is not unmatched:
            return redirect(request.get_full_path().replace(request.path, request.path + "/", 1))
    return page_not_found(request)


# Last in annotate/urls.py. Not for the API (its own JSON 404), the admin, static or media files.
urlpatterns = [re_path(r"^(?!api/|admin/|static/|media/)(?P<rest>.*)$", unmatched, name="unmatched")]
