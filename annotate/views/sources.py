"""Pages: sources. Register (a path under a data root, or an upload), watch the ingest, browse rows and images."""
import json
from pathlib import Path
from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import ValidationError
from django.db import transaction
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, re_path
from django.views.decorators.http import condition, require_GET, require_http_methods, require_POST
from django_htmx.middleware import HtmxDetails

from annotate.errors import form_add_error
from annotate.flash import flash_job
from annotate.requests import AppRequest
from curation.errors import ApplicationError
from curation.models import Image, Source
from curation.selectors import (
    job_error_reasons,
    job_latest_for,
    mapping_versions,
    source_ingest_job,
    source_rows_page,
    sources_list,
)
from curation.services import job_kinds
from curation.services.images import image_content_type, image_file_path, image_thumbnail_path
from curation.services.mapping_preview import source_rows_as_chat
from curation.services.source_declaration import DECLARATION_FIELDS
from curation.services.sources import (
    source_ingest_request,
    source_ingest_start,
    source_register,
    source_register_preview,
    source_upload_save,
)


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


# Characters of a row's JSON shown in the browser; the rest is cut.
ROW_PREVIEW_CHARS = 1500
# Images never change (their name is their sha256), so browsers may keep them.
IMAGE_CACHE_CONTROL = "private, max-age=31536000, immutable"


class SourceForm(forms.Form):
    name = forms.CharField(max_length=200)
    location = forms.CharField(
        max_length=1000,
        required=False,
        help_text="Path of a file or folder under an allowed data root (absolute, or relative to a root).",
    )
    upload = forms.FileField(required=False, help_text="Or upload a file (JSONL, JSON, Parquet, CSV, TSV).")
    image_root = forms.CharField(
        label="Image folder",
        max_length=1000,
        required=False,
        help_text=(
            "Folder that relative image paths in the rows are resolved against (e.g. a COCO train2014 folder); "
            "empty = the data file's folder."
        ),
    )
    format = forms.ChoiceField(choices=Source.Format.choices, initial=Source.Format.AUTO)
    origin = forms.CharField(max_length=500, required=False, help_text="A URL or a citation key.")
    license = forms.CharField(label="Licence", max_length=200, required=False, help_text="e.g. CC BY 4.0")
    license_unknown = forms.BooleanField(
        label="Nobody knows the licence (say so on purpose: approval accepts it)", required=False
    )
    citation = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), required=False)
    label_origin = forms.ChoiceField(label="Labels are", choices=Source.LabelOrigin.choices, initial=Source.LabelOrigin.UNKNOWN,
                                     required=False,
                                     help_text="Who wrote the answers and captions: people, or a model.")
    task_name = forms.CharField(label="Task", max_length=200, required=False, help_text="e.g. vqa, captioning, science_qa.")
    # Where the records are, and what is joined or built onto them (the declaration; see source_declaration).
    records_key = forms.CharField(
        label="Records under key", max_length=200, required=False,
        help_text='JSON: the key of the list of records (data, annotations, questions), "*" for an object keyed by id; '
                  "empty = found when there is one obvious list.",
    )
    id_column = forms.CharField(label="Id column", max_length=100, required=False, initial="id",
                                help_text="JSON keyed by id: the column the key is kept in.")
    join_location = forms.CharField(label="Join with file", max_length=1000, required=False,
                                    help_text="Another file whose records join these (e.g. VQAv2 annotations); "
                                              "empty with join keys = another list of the same file (COCO).")
    join_records_key = forms.CharField(label="Joined records under key", max_length=200, required=False)
    join_left_key = forms.CharField(label="Join on (this source's column)", max_length=200, required=False,
                                    help_text="e.g. id for COCO images, question_id for VQAv2 questions.")
    join_right_key = forms.CharField(label="equals (the joined file's column)", max_length=200, required=False,
                                     help_text="e.g. image_id for COCO annotations.")
    join_many = forms.BooleanField(label="One-to-many (keep every match, as a list)", required=False)
    join_column = forms.CharField(label="Matches go in column", max_length=200, required=False,
                                  help_text="e.g. captions; empty = a one-to-one match is merged into the row.")
    image_pattern = forms.CharField(label="Image file name pattern", max_length=300, required=False,
                                    help_text="Built from columns, e.g. COCO_train2014_{image_id:012d}.jpg or "
                                              "{split}/{id}/{image}; read from the image folder.")
    image_pattern_column = forms.CharField(label="Image name goes in column", max_length=100, required=False,
                                           initial="image")

    def declaration(self) -> dict[str, Any]:
        return {name: self.cleaned_data.get(name) for name in DECLARATION_FIELDS}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if bool(data.get("location", "").strip()) == bool(data.get("upload")):
            raise ValidationError("Give either a path under a data root or a file to upload.")
        return data


def _get_source(source_id: int) -> Source:
    return get_object_or_404(Source, pk=source_id)


def _optional_int(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


@login_required
@permission_required("curation.view_source", raise_exception=True)
@require_GET
def source_list(request: AppRequest) -> HttpResponse:
    return render(request, "annotate/source_list.html", {"sources": sources_list()[:500]})


@login_required
@permission_required("curation.ingest_source", raise_exception=True)
@require_http_methods(["GET", "POST"])
def source_create(request: AppRequest) -> HttpResponse:
    form = SourceForm(request.POST or None, request.FILES or None)
    refused = getattr(request, "upload_refused", None)  # CappedUploadHandler stopped the stream at the cap
    if refused:
        form.add_error("upload", refused)
    if request.method == "POST" and not refused and form.is_valid():
        data = form.cleaned_data
        saved: Path | None = source_upload_save(upload=data["upload"]) if data["upload"] else None
        try:
            with transaction.atomic():
                source = source_register(
                    name=data["name"],
                    location=str(saved) if saved else data["location"],
                    format=data["format"],
                    origin=data["origin"],
                    license=data["license"],
                    license_unknown=data["license_unknown"],
                    citation=data["citation"],
                    description=data["description"],
                    by=request.user,
                    image_root=data["image_root"],
                    declaration=form.declaration(),
                )
                job = source_ingest_start(source=source, by=request.user)
        except ApplicationError as exc:
            if saved is not None:  # the upload was not registered: keep no orphan file
                saved.unlink(missing_ok=True)
                saved.parent.rmdir()
            form_add_error(form, exc)
        else:
            messages.success(request, f"Registered {source.name}.")
            flash_job(request, job=job, text="Its ingest is queued; the bar below follows it.")
            return redirect("source_detail", source_id=source.pk)
    return render(request, "annotate/source_form.html", {"form": form})


@login_required
@permission_required("curation.ingest_source", raise_exception=True)
@require_POST
def source_create_preview(request: HttpRequest) -> HttpResponse:
    """The registration form's preview: the first records as ingest will read them, joined, before anything is stored."""
    form = SourceForm(request.POST)
    context: dict[str, Any] = {"preview": None, "preview_errors": []}
    form.is_valid()  # the preview needs the fields that are valid; upload and name are not needed
    data = getattr(form, "cleaned_data", {})
    location = (request.POST.get("location") or "").strip()
    if not location:
        context["preview_errors"] = ["Give the path of a file under a data root to preview it (an upload is read once registered)."]
    else:
        try:
            preview = source_register_preview(location=location, format=data.get("format") or "auto",
                                              declaration={name: data.get(name) for name in DECLARATION_FIELDS})
        except ValidationError as exc:
            context["preview_errors"] = [f"{field}: {'; '.join(messages_)}" if field != "__all__" else "; ".join(messages_)
                                         for field, messages_ in exc.message_dict.items()]
        else:
            context["preview"] = preview
            context["preview_rows"] = [json.dumps(row, ensure_ascii=False, indent=1, default=str)[:ROW_PREVIEW_CHARS]
                                       for row in preview.rows]
    return render(request, "annotate/source_form.html#preview", context)


@login_required
@permission_required("curation.view_source", raise_exception=True)
@require_GET
def source_detail(request: AppRequest, source_id: int) -> HttpResponse:
    source = _get_source(source_id)
    after = _optional_int(request.GET.get("after"))
    before = _optional_int(request.GET.get("before"))
    rows, prev_before, next_after = source_rows_page(source=source, after=after, before=before)
    job = source_ingest_job(source=source)
    suggest_job = job_latest_for(target=source, kind=job_kinds.SUGGEST_MAPPING.key)
    chat_mapping, chats = source_rows_as_chat(source=source, rows=list(rows))
    context = {
        "source": source,
        "chat_mapping": chat_mapping,
        "job": job,
        "join": (job.result or {}).get("join") if job is not None else None,
        "rows": [
            {
                "row_number": row.row_number,
                "image_shas": row.image_shas,
                "preview": json.dumps(row.data, ensure_ascii=False, indent=1)[:ROW_PREVIEW_CHARS],
                "chat": chats.get(row.row_number),
            }
            for row in rows
        ],
        "prev_before": prev_before,
        "next_after": next_after,
        "columns": sorted(source.columns.items()),
        "mapping": mapping_versions(source=source)[:1],
        # A suggestion being written: the mapping line polls until it arrives (it comes after the ingest).
        "suggestion_pending": suggest_job is not None and not suggest_job.is_finished,
        # Why rows were rejected, said here and counted (server paths in them only for those who register sources).
        "reasons": job_error_reasons(job=job) if job is not None and request.user.has_perm("curation.ingest_source") else [],
    }
    template = "annotate/source_detail.html"
    if request.htmx:
        part = request.GET.get("part")
        template += "#summary" if part == "summary" else "#mapping_line" if part == "mapping" else "#rows"
    return render(request, template, context)


@login_required
@permission_required("curation.ingest_source", raise_exception=True)
@require_POST
def source_reingest(request: AppRequest, source_id: int) -> HttpResponse:
    source = _get_source(source_id)
    started = source_ingest_request(source=source, by=request.user)
    if started.created:
        flash_job(request, job=started.job, text=f"The ingest of {source.name} is queued; the bar below follows it.")
    else:  # the answer describes the job under way, as long as it stays in that state
        flash_job(request, job=started.job, text=started.message, states=(started.job.state,), level=messages.WARNING)
    return redirect("source_detail", source_id=source.pk)


@login_required
@permission_required("curation.view_image", raise_exception=True)
@require_GET
@condition(etag_func=lambda request, sha256: f"{sha256}-{request.GET.get('size', '')}")
def image_view(request: AppRequest, sha256: str) -> HttpResponseBase:
    image = get_object_or_404(Image, pk=sha256)
    file_path, content_type = image_file_path(image=image), image_content_type(image=image)
    if request.GET.get("size") == "thumb" and file_path.is_file():
        try:
            file_path, content_type = image_thumbnail_path(image=image)
        except (OSError, ValueError):
            pass  # a mode Pillow cannot shrink: the browser gets the original

    if not file_path.is_file():
        raise Http404("image file is missing")
    response = FileResponse(file_path.open("rb"), content_type=content_type)
    response["Cache-Control"] = IMAGE_CACHE_CONTROL
    return response


urlpatterns = [
    path("sources/", source_list, name="source_list"),
    path("sources/new/", source_create, name="source_create"),
    path("sources/new/preview/", source_create_preview, name="source_create_preview"),
    path("sources/<int:source_id>/", source_detail, name="source_detail"),
    path("sources/<int:source_id>/ingest/", source_reingest, name="source_reingest"),
    re_path(r"^images/(?P<sha256>[0-9a-f]{64})/$", image_view, name="image"),
]
