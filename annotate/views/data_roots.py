"""Pages: the data-root browser of the source form (curators only). One HTMX view lists the allowed roots or one
folder under one of them; a Pick button fills a field of the form (static/js/app.js), nothing is written here."""
import re

from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import path
from django.views.decorators.http import require_GET

from annotate.requests import AppRequest
from curation.errors import ApplicationError
from curation.selectors_data_roots import data_root_folder, data_roots

# The form field a pick fills is named in the query string; only a field name is accepted.
TARGET_FIELD = re.compile(r"[a-z_]{1,40}")


def _int(value: str | None, default: int) -> int:
    try:
        return int(value) if value else default
    except ValueError:
        return default


@login_required
@permission_required("curation.ingest_source", raise_exception=True)
@require_GET
def data_root_browse(request: AppRequest) -> HttpResponse:
    target = request.GET.get("target", "")
    context: dict[str, object] = {
        "target": target if TARGET_FIELD.fullmatch(target) else "location",
        "kind": "folder" if request.GET.get("kind") == "folder" else "any",  # "folder": only folders can be picked
        "roots": data_roots(), "folder": None, "error": None,
    }
    status = 200
    if "root" in request.GET:
        try:
            context["folder"] = data_root_folder(root_index=_int(request.GET["root"], -1),
                                                 relative=request.GET.get("path", ""),
                                                 page=_int(request.GET.get("page"), 1), query=request.GET.get("q", ""))
        except ApplicationError as exc:
            context["error"], status = exc.message, exc.status
    return render(request, "annotate/data_roots.html#browser", context, status=status)


urlpatterns = [
    path("sources/data-roots/", data_root_browse, name="data_root_browse"),
]
