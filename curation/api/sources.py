"""API: sources (read-only): list and detail with what ingest found, and a source's raw rows by cursor."""
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers

from curation.api.pagination import ApiCursor
from curation.api.permissions import perm_required
from curation.ingest.records import IMAGE_KEY
from curation.models import Job, Source, SourceRow
from curation.selectors import source_ingest_job, sources_list

CanViewSources = perm_required("curation.view_source")
CanViewRows = perm_required("curation.view_sourcerow")


class IngestJobOut(serializers.ModelSerializer):
    rejected = serializers.IntegerField(source="error_count")

    class Meta:
        model = Job
        fields = ["id", "state", "done", "total", "rejected", "message", "created_at", "finished_at"]


class SourceOut(serializers.ModelSerializer):
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    rows_url = serializers.SerializerMethodField()

    class Meta:
        model = Source
        fields = [
            "id", "name", "description", "origin", "license", "citation", "format", "detected_format", "layout",
            "status", "row_count", "rejected_count", "image_count", "created_by", "created_at", "ingested_at",
            "rows_url", "label_origin", "task_name",
        ]  # fmt: skip

    def get_rows_url(self, source: Source) -> str:
        return self.context["request"].build_absolute_uri(reverse("api-source-rows", args=[source.pk]))


class SourceDetailOut(SourceOut):
    columns = serializers.DictField(child=serializers.CharField(), help_text="Column -> types seen, e.g. 'string|null'.")
    ingest_job = serializers.SerializerMethodField()

    class Meta(SourceOut.Meta):
        fields = [*SourceOut.Meta.fields, "location", "image_root", "columns", "ingest_job", "records_key", "id_column",
                  "join_location", "join_records_key", "join_left_key", "join_right_key", "join_many", "join_column",
                  "image_pattern", "image_pattern_column"]

    @extend_schema_field(IngestJobOut(allow_null=True))
    def get_ingest_job(self, source: Source) -> dict | None:
        job = source_ingest_job(source=source)
        return IngestJobOut(job).data if job is not None else None


class SourceRowOut(serializers.ModelSerializer):
    data = serializers.JSONField(help_text=f'The record as read; every image is {{"{IMAGE_KEY}": "<sha256>"}}.')
    image_shas = serializers.ListField(child=serializers.CharField(), help_text="The row's images, in order.")

    class Meta:
        model = SourceRow
        fields = ["row_number", "data", "image_shas"]


class SourceCursor(ApiCursor):
    ordering = "-id"
    page_size = 50


class SourceRowCursor(ApiCursor):
    ordering = "row_number"
    page_size = 100
    max_page_size = 1000
    page_size_query_param = "page_size"


@extend_schema(tags=["sources"], summary="List sources, newest first")
class SourceList(generics.ListAPIView):
    permission_classes = [CanViewSources]
    serializer_class = SourceOut
    pagination_class = SourceCursor

    def get_queryset(self) -> QuerySet[Source]:
        return sources_list()


@extend_schema(tags=["sources"], summary="A source: provenance, licence, format, layout, columns and its latest ingest")
class SourceDetail(generics.RetrieveAPIView):
    permission_classes = [CanViewSources]
    serializer_class = SourceDetailOut
    queryset = Source.objects.select_related("created_by")


@extend_schema(tags=["sources"], summary="A source's raw rows in order (cursor pagination on row_number)")
class SourceRowList(generics.ListAPIView):
    permission_classes = [CanViewRows]
    serializer_class = SourceRowOut
    pagination_class = SourceRowCursor

    def get_queryset(self) -> QuerySet[SourceRow]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no source to look up
            return SourceRow.objects.none()
        source = get_object_or_404(Source, pk=self.kwargs["pk"])
        return SourceRow.objects.filter(source=source).only("row_number", "data", "image_shas")


urlpatterns: list[URLPattern] = [
    path("sources/", SourceList.as_view(), name="api-sources"),
    path("sources/<int:pk>/", SourceDetail.as_view(), name="api-source"),
    path("sources/<int:pk>/rows/", SourceRowList.as_view(), name="api-source-rows"),
]
