"""Pages: exports. Create one (subsets, format, filters from the registry), follow it, read its manifest; API token."""
import json
from typing import Any, cast

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.db.models import QuerySet
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import path, reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from annotate.flash import UNFINISHED, flash_job
from annotate.htmx import HTMX_STOP_POLLING
from annotate.requests import AppRequest
from curation.exporters.archive import archive_folder_name, archive_size
from curation.exporters.registry import COLUMNS, FILTERS, FORMATS, ExportConfigError, ExportFilter
from curation.models import Export, Subset
from curation.services.api_tokens import token_for, token_rotate
from curation.services.exports import export_create, export_expire

# HTMX stops polling when a response has this status.
EXPORTS_PER_PAGE = 100
FILES_SHOWN = 200


def _filter_field_name(export_filter: ExportFilter, param_name: str) -> str:
    return f"filter__{export_filter.name}__{param_name}"


class ExportForm(forms.Form):
    """Subsets, format, name and columns, plus one input per parameter of every registered filter."""

    subsets = forms.ModelMultipleChoiceField(
        queryset=Subset.objects.none(), widget=forms.CheckboxSelectMultiple, help_text="Only approved subsets can be exported."
    )
    format = forms.ChoiceField(widget=forms.RadioSelect)
    name = forms.CharField(max_length=200, required=False, help_text="A title for the export and its dataset card.")
    columns = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple, help_text="Extra columns.")

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        subsets = cast(forms.ModelMultipleChoiceField, self.fields["subsets"])
        subsets.queryset = Subset.objects.filter(status=Subset.Status.APPROVED).order_by("name")
        export_format = cast(forms.ChoiceField, self.fields["format"])
        export_format.choices = [(name, f.label) for name, f in FORMATS.items()]
        export_format.initial = "parquet" if "parquet" in FORMATS else next(iter(FORMATS), None)
        columns = cast(forms.MultipleChoiceField, self.fields["columns"])
        columns.choices = [(name, p.label) for name, p in COLUMNS.items() if not p.default]
        for export_filter in FILTERS.values():
            required = export_filter.default is not None  # a default filter always runs: its params cannot be empty
            for param in export_filter.params:
                initial = (export_filter.default or {}).get(param.name)
                field: forms.Field
                if param.kind == "int":
                    field = forms.IntegerField(min_value=param.minimum, max_value=param.maximum, required=required, initial=initial)
                else:
                    field = forms.MultipleChoiceField(
                        choices=param.choices() if param.choices else [],
                        widget=forms.CheckboxSelectMultiple,
                        required=required,
                        initial=initial,
                    )
                field.label = param.label
                field.help_text = param.help
                self.fields[_filter_field_name(export_filter, param.name)] = field

    def filter_groups(self) -> list[tuple[ExportFilter, list[forms.BoundField]]]:
        return [
            (f, [self[_filter_field_name(f, p.name)] for p in f.params]) for f in FILTERS.values()
        ]

    def filters(self) -> dict[str, dict[str, Any]]:
        """The params of every filter whose inputs are all filled in; the others do not run (or use their default)."""
        chosen: dict[str, dict[str, Any]] = {}
        for export_filter in FILTERS.values():
            params = {p.name: self.cleaned_data.get(_filter_field_name(export_filter, p.name)) for p in export_filter.params}
            if params and all(v not in (None, "", []) for v in params.values()):
                chosen[export_filter.name] = params
        return chosen

    def add_service_error(self, exc: ExportConfigError) -> None:
        field = exc.field or ""
        if "." in field:
            filter_name, param_name = field.split(".", 1)
            field = f"filter__{filter_name}__{param_name}"
        self.add_error(field if field in self.fields else None, str(exc))


def _get_export(export_id: int) -> Export:
    return get_object_or_404(Export.objects.select_related("job", "created_by"), pk=export_id)


def _exports() -> QuerySet[Export]:
    return Export.objects.select_related("job", "created_by").prefetch_related("subsets")


@login_required
@permission_required("curation.export_data", raise_exception=True)
@require_GET
def export_list(request: AppRequest) -> HttpResponse:
    return render(request, "annotate/export_list.html", {"exports": _exports()[:EXPORTS_PER_PAGE]})


@login_required
@permission_required("curation.export_data", raise_exception=True)
@require_http_methods(["GET", "POST"])
def export_new(request: AppRequest) -> HttpResponse:
    initial = {"subsets": [int(i) for i in request.GET.getlist("subsets") if i.isdigit()]}
    form = ExportForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            export = export_create(
                subsets=data["subsets"], format=data["format"], filters=form.filters(), columns=data["columns"],
                name=data["name"], by=request.user,
            )
        except ExportConfigError as exc:
            form.add_service_error(exc)
        else:
            if export.job is not None:
                flash_job(request, job=export.job, text=f"Export #{export.pk} is queued; this page follows it.")
            return redirect("export_detail", export_id=export.pk)
    return render(request, "annotate/export_new.html", {"form": form, "filter_groups": form.filter_groups()})


@login_required
@permission_required("curation.export_data", raise_exception=True)
@require_GET
def export_detail(request: AppRequest, export_id: int) -> HttpResponse:
    export = _get_export(export_id)
    finished = export.state not in (Export.State.QUEUED, Export.State.RUNNING)
    context = {
        "export": export,
        "job": export.job,
        "finished": finished,
        "files": export.files.exclude(kind="image")[:FILES_SHOWN],
        "manifest": export.manifest,
        "manifest_json": json.dumps(export.manifest, indent=2, ensure_ascii=False) if export.manifest else "",
        **_fetch_context(request, export),
    }
    if request.htmx:
        response = render(request, "annotate/export_detail.html#status", context)
        if finished:
            response.status_code = HTMX_STOP_POLLING
        return response
    return render(request, "annotate/export_detail.html", {**context, "subsets": export.subsets.order_by("name")})


def _fetch_context(request: AppRequest, export: Export) -> dict[str, Any]:
    """How to fetch the archive with a token and load it, as commands to copy (for a finished export)."""
    if export.state != Export.State.SUCCEEDED:
        return {}
    folder = archive_folder_name(export)
    slugs = [part["slug"] for part in (export.manifest or {}).get("subsets", [])] or ["<subset>"]
    loaders = {
        "parquet": f'load_dataset("{folder}", "{slugs[0]}")',
        "llava_jsonl": f'load_dataset("json", data_files="{folder}/data.jsonl")',
        "webdataset": f'load_dataset("webdataset", data_files="{folder}/shards/*.tar")',
    }
    archive_url = request.build_absolute_uri(reverse("api-export-archive", args=[export.pk]))
    return {
        "archive_folder": folder,
        "archive_size": archive_size(export, export.files.all()),
        "fetch_command": f'curl -fL -H "Authorization: Token $FINECURATE_TOKEN" -o {folder}.tar {archive_url} && tar xf {folder}.tar',
        "load_command": f"python -c 'from datasets import load_dataset; print({loaders.get(export.format, loaders['parquet'])})'",
        "other_subsets": slugs[1:],
    }


@login_required
@permission_required("curation.export_data", raise_exception=True)
@require_POST
def export_expire_view(request: AppRequest, export_id: int) -> HttpResponse:
    export = _get_export(export_id)
    if export.state in (Export.State.QUEUED, Export.State.RUNNING):
        if export.job is not None:
            flash_job(request, job=export.job, text="The export is still being written; wait until it finishes.",
                      states=UNFINISHED, level=messages.ERROR)
    else:
        export_expire(export=export)
        messages.success(request, f"The files of export #{export.pk} are deleted; its manifest is kept.")
    return redirect("export_detail", export_id=export.pk)


# The session key under which a new token's key waits for the one page that shows it.
NEW_TOKEN_SESSION_KEY = "api_token_new_key"  # noqa: S105  (a session key name, no secret)


@login_required
@never_cache  # Cache-Control: no-store: the page may hold a key
@require_http_methods(["GET", "POST"])
def api_token(request: AppRequest) -> HttpResponse:
    """Any signed-in user may hold a token; what it can reach is what their role permits.

    Only a digest is stored, so a new key is shown once, on the page the POST redirects to.
    """
    if request.method == "POST":
        _, key = token_rotate(user=request.user)
        request.session[NEW_TOKEN_SESSION_KEY] = key
        messages.success(request, "A new API token is ready; the previous one no longer works.")
        return redirect("api_token")
    context = {"token": token_for(user=request.user), "new_key": request.session.pop(NEW_TOKEN_SESSION_KEY, None)}
    return render(request, "annotate/token.html", context)


urlpatterns = [
    path("exports/", export_list, name="export_list"),
    path("exports/new/", export_new, name="export_new"),
    path("exports/<int:export_id>/", export_detail, name="export_detail"),
    path("exports/<int:export_id>/expire/", export_expire_view, name="export_expire"),
    path("token/", api_token, name="api_token"),
]
