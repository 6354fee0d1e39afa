"""API: create an export job, poll it, list its files and download them with resumable (Range) requests."""
import mimetypes
from types import SimpleNamespace
from typing import Any

import django_filters
from django.db.models import QuerySet
from django.http import HttpResponseBase
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.negotiation import BaseContentNegotiation, DefaultContentNegotiation
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from curation.api.errors import ApiError
from curation.api.pagination import ApiCursor
from curation.api.permissions import perm_required
from curation.api.ranges import file_response
from curation.exporters import format_choices
from curation.exporters.registry import COLUMNS, FILTERS, FORMATS
from curation.models import Export, ExportFile, Subset
from curation.services.exports import export_create, export_file_path

CanExport = perm_required("curation.export_data")
MAX_SUBSETS_PER_EXPORT = 1000


def _filters_help() -> str:
    lines = []
    for name, export_filter in FILTERS.items():
        params = ", ".join(f"{p.name} ({p.kind})" for p in export_filter.params)
        default = f" Default: {export_filter.default}." if export_filter.default is not None else ""
        lines.append(f"`{name}`: {export_filter.description} Params: {params}.{default}")
    return "Filters by name, each with its params. " + " ".join(lines)


# --- serializers ---


class ExportCreateIn(serializers.Serializer):
    subsets = serializers.ListField(
        child=serializers.IntegerField(min_value=1, max_value=2**63 - 1),
        min_length=1,
        max_length=MAX_SUBSETS_PER_EXPORT,
        help_text="Ids of approved subsets.",
    )
    format = serializers.ChoiceField(choices=[(name, f.label) for name, f in FORMATS.items()])
    filters = serializers.DictField(child=serializers.DictField(), required=False, default=dict, help_text=_filters_help())
    columns = serializers.ListField(
        child=serializers.ChoiceField(choices=[name for name, p in COLUMNS.items() if not p.default]),
        required=False,
        default=list,
        help_text="Extra column providers (the rating columns are always included).",
    )
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class ProgressOut(serializers.Serializer):
    done = serializers.IntegerField()
    total = serializers.IntegerField(allow_null=True)
    percent = serializers.IntegerField(allow_null=True)


class SubsetRefOut(serializers.ModelSerializer):
    class Meta:
        model = Subset
        fields = ["id", "name"]


class ExportOut(serializers.ModelSerializer):
    subsets = SubsetRefOut(many=True, read_only=True)
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    progress = serializers.SerializerMethodField()
    message = serializers.SerializerMethodField(help_text="Why the export failed, if it did.")
    file_count = serializers.IntegerField(source="files.count", read_only=True)
    files_url = serializers.SerializerMethodField()
    manifest = serializers.JSONField(read_only=True, allow_null=True)

    class Meta:
        model = Export
        fields = [
            "id", "name", "format", "state", "subsets", "filters", "columns", "sample_count", "progress", "message",
            "created_by", "created_at", "finished_at", "expires_at", "file_count", "files_url", "manifest",
        ]

    @extend_schema_field(ProgressOut)
    def get_progress(self, export: Export) -> dict[str, Any]:
        job = export.job
        if job is None:
            return {"done": 0, "total": None, "percent": None}
        return {"done": job.done, "total": job.total, "percent": job.percent}

    def get_message(self, export: Export) -> str:
        return export.job.message if export.job is not None and export.state == Export.State.FAILED else ""

    def get_files_url(self, export: Export) -> str:
        return self.context["request"].build_absolute_uri(reverse("api-export-files", args=[export.pk]))


class ExportFileOut(serializers.ModelSerializer):
    url = serializers.SerializerMethodField()

    class Meta:
        model = ExportFile
        fields = ["name", "kind", "size", "sha256", "url"]

    def get_url(self, export_file: ExportFile) -> str:
        url = reverse("api-export-file", kwargs={"export_id": export_file.export_id, "name": export_file.name})
        return self.context["request"].build_absolute_uri(url)


# --- filters and pagination ---


class ExportFilterSet(django_filters.FilterSet):
    state = django_filters.ChoiceFilter(choices=Export.State.choices)
    format = django_filters.ChoiceFilter(choices=format_choices)

    class Meta:
        model = Export
        fields = ["state", "format"]


class ExportFileFilterSet(django_filters.FilterSet):
    kind = django_filters.ChoiceFilter(choices=ExportFile.Kind.choices)

    class Meta:
        model = ExportFile
        fields = ["kind"]


class ExportCursor(ApiCursor):
    ordering = "-id"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class ExportFileCursor(ApiCursor):
    ordering = "name"
    page_size = 200
    page_size_query_param = "page_size"
    max_page_size = 1000


# --- views: one per operation ---


def _exports() -> QuerySet[Export]:
    return Export.objects.select_related("job", "created_by").prefetch_related("subsets")


class FormatIsAFilter(DefaultContentNegotiation):
    """On the exports list ?format= filters by export format (llava_jsonl, parquet...); it never picks a renderer
    (DRF's URL_FORMAT_OVERRIDE answered ?format=llava_jsonl with a 404)."""

    settings = SimpleNamespace(URL_FORMAT_OVERRIDE=None)


class ExportCollection(generics.GenericAPIView):
    permission_classes = [IsAuthenticated, CanExport]
    content_negotiation_class = FormatIsAFilter
    serializer_class = ExportOut
    filterset_class = ExportFilterSet
    pagination_class = ExportCursor

    def get_queryset(self) -> QuerySet[Export]:
        return _exports()

    @extend_schema(tags=["exports"], summary="List exports, newest first", responses=ExportOut(many=True))
    def get(self, request: Request) -> Response:
        page = self.paginate_queryset(self.filter_queryset(self.get_queryset()))
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(
        tags=["exports"],
        summary="Create an export job of approved subsets; poll the returned export until it succeeds",
        request=ExportCreateIn,
        responses={202: ExportOut},
    )
    def post(self, request: Request) -> Response:
        data = ExportCreateIn(data=request.data)
        data.is_valid(raise_exception=True)
        ids = data.validated_data["subsets"]
        subsets = list(Subset.objects.filter(pk__in=ids))
        missing = sorted(set(ids) - {s.pk for s in subsets})
        if missing:
            raise ApiError(code="unknown_subset", message=f"No subset with id {', '.join(map(str, missing))}.",
                           detail={"field": "subsets"}, status_code=status.HTTP_400_BAD_REQUEST)
        export = export_create(
            subsets=subsets,
            format=data.validated_data["format"],
            filters=data.validated_data["filters"],
            columns=data.validated_data["columns"],
            name=data.validated_data["name"],
            by=request.user,
        )
        body = ExportOut(_exports().get(pk=export.pk), context=self.get_serializer_context()).data
        location = request.build_absolute_uri(reverse("api-export", args=[export.pk]))
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": location})


@extend_schema(tags=["exports"], summary="Poll an export: state, progress, manifest once it has succeeded")
class ExportDetail(generics.RetrieveAPIView):
    permission_classes = [IsAuthenticated, CanExport]
    serializer_class = ExportOut
    lookup_url_kwarg = "export_id"

    def get_queryset(self) -> QuerySet[Export]:
        return _exports()


@extend_schema(tags=["exports"], summary="The files of an export with their sizes and sha256 (cursor pagination)")
class ExportFiles(generics.ListAPIView):
    permission_classes = [IsAuthenticated, CanExport]
    serializer_class = ExportFileOut
    filterset_class = ExportFileFilterSet
    pagination_class = ExportFileCursor

    def get_queryset(self) -> QuerySet[ExportFile]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no export
            return ExportFile.objects.none()
        export = get_object_or_404(Export, pk=self.kwargs["export_id"])
        return ExportFile.objects.filter(export=export)


class JsonErrorsOnly(BaseContentNegotiation):
    """Downloads are streamed as they are; errors are always JSON, whatever the client accepts."""

    def select_parser(self, request: Request, parsers: list[Any]) -> Any:
        return parsers[0] if parsers else None

    def select_renderer(self, request: Request, renderers: list[Any], format_suffix: str | None = None) -> tuple[Any, str]:
        return renderers[0], renderers[0].media_type


class ExportFileDownload(APIView):
    permission_classes = [IsAuthenticated, CanExport]
    content_negotiation_class = JsonErrorsOnly

    @extend_schema(
        tags=["exports"],
        summary="Download one file of an export; supports Range, If-Range and If-None-Match (ETag = sha256)",
        parameters=[OpenApiParameter("Range", OpenApiTypes.STR, OpenApiParameter.HEADER, description="e.g. bytes=1000-")],
        responses={
            200: OpenApiResponse(OpenApiTypes.BINARY, description="The whole file."),
            206: OpenApiResponse(OpenApiTypes.BINARY, description="The requested byte range."),
            304: OpenApiResponse(description="Unchanged (If-None-Match)."),
            409: OpenApiResponse(description="The export is not finished."),
            410: OpenApiResponse(description="The export has expired."),
            416: OpenApiResponse(description="The range lies beyond the end of the file."),
        },
    )
    def get(self, request: Request, export_id: int, name: str) -> HttpResponseBase:
        export = get_object_or_404(Export, pk=export_id)
        if export.state == Export.State.EXPIRED:
            raise ApiError(code="export_expired", message="This export has expired and its files were deleted.", status_code=410)
        if export.state != Export.State.SUCCEEDED:
            raise ApiError(code="export_not_ready", message=f"This export is {export.state}.", status_code=409)
        export_file = get_object_or_404(ExportFile, export=export, name=name)
        file_path = export_file_path(export_file=export_file)
        if not file_path.is_file():
            raise ApiError(code="file_missing", message="The file is missing from storage.", status_code=410)
        content_type = mimetypes.guess_type(export_file.name)[0] or "application/octet-stream"
        return file_response(
            request, path=file_path, size=export_file.size, sha256=export_file.sha256,
            filename=export_file.name.rsplit("/", 1)[-1], content_type=content_type,
        )

    @extend_schema(exclude=True)
    def head(self, request: Request, export_id: int, name: str) -> HttpResponseBase:
        return self.get(request, export_id, name)


urlpatterns: list[URLPattern] = [
    path("exports/", ExportCollection.as_view(), name="api-exports"),
    path("exports/<int:export_id>/", ExportDetail.as_view(), name="api-export"),
    path("exports/<int:export_id>/files/", ExportFiles.as_view(), name="api-export-files"),
    path("exports/<int:export_id>/files/<path:name>", ExportFileDownload.as_view(), name="api-export-file"),
]
