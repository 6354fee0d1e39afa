"""Pages: edit a source (what is said about it) and delete it after a page that says what goes with it."""
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path
from django.views.decorators.http import require_http_methods

from annotate.errors import form_add_error
from annotate.requests import AppRequest
from annotate.views.sources import SourceForm
from curation.errors import ApplicationError
from curation.models import Source
from curation.services.source_delete import source_delete, source_delete_plan
from curation.services.sources import EDITABLE_FIELDS, source_update


class SourceEditForm(forms.Form):
    """The fields of the registration form a curator may change later (SourceForm's own fields, shared)."""

    name = SourceForm.base_fields["name"]
    license = SourceForm.base_fields["license"]
    license_unknown = SourceForm.base_fields["license_unknown"]
    origin = SourceForm.base_fields["origin"]
    citation = SourceForm.base_fields["citation"]
    description = SourceForm.base_fields["description"]
    image_root = forms.CharField(
        label="Image folder", max_length=1000, required=False,
        help_text="Folder under a data root that relative image paths are resolved against; empty = the data file's "
                  "folder. Read by the next ingest: re-ingest after changing it.",
    )
    label_origin = SourceForm.base_fields["label_origin"]
    task_name = SourceForm.base_fields["task_name"]


def _get_source(source_id: int) -> Source:
    return get_object_or_404(Source, pk=source_id)


@login_required
@permission_required("curation.change_source", raise_exception=True)
@require_http_methods(["GET", "POST"])
def source_edit(request: AppRequest, source_id: int) -> HttpResponse:
    source = _get_source(source_id)
    form = SourceEditForm(request.POST or None, initial={f: getattr(source, f) for f in EDITABLE_FIELDS})
    if request.method == "POST" and form.is_valid():
        data: dict[str, Any] = form.cleaned_data
        old_folder = source.image_root
        try:
            data["label_origin"] = data["label_origin"] or None  # not offered blank; an old browser may send nothing
            source = source_update(source=source, by=request.user, **{f: data[f] for f in EDITABLE_FIELDS})
        except ApplicationError as exc:
            form_add_error(form, exc)
        else:
            tail = " The new image folder is read by the next ingest: re-ingest to use it." if source.image_root != old_folder else ""
            messages.success(request, f"Saved {source.name}.{tail}")
            return redirect("source_detail", source_id=source.pk)
    return render(request, "annotate/source_edit.html", {"form": form, "source": source})


@login_required
@permission_required("curation.delete_source", raise_exception=True)
@require_http_methods(["GET", "POST"])
def source_delete_page(request: AppRequest, source_id: int) -> HttpResponse:
    source = _get_source(source_id)
    error = ""
    if request.method == "POST":
        name = source.name
        try:
            plan = source_delete(source=source, by=request.user, confirm=request.POST.get("confirm") == "yes")
        except ApplicationError as exc:
            error = exc.message
        else:
            messages.success(request, f"Deleted {name}: {plan.rows:,} rows, {plan.samples:,} samples, "
                                      f"{len(plan.subsets_going)} subsets and {len(plan.exports)} exports went with it.")
            return redirect("source_list")
    plan = source_delete_plan(source=source)
    return render(request, "annotate/source_delete.html", {"source": source, "plan": plan, "error": error},
                  status=409 if error else 200)


urlpatterns = [
    path("sources/<int:source_id>/edit/", source_edit, name="source_edit"),
    path("sources/<int:source_id>/delete/", source_delete_page, name="source_delete"),
]
