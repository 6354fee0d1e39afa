"""API: sources: list and detail with what ingest found, a source's raw rows by cursor; edit (PATCH), delete
(DELETE, confirmed when approved subsets or ready exports go with it) and re-ingest (POST .../ingest/).

Roles: reviewers read; curators also edit, delete and re-ingest; admins do everything.
"""
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.permissions import BasePermission
from rest_framework.request import Request
from rest_framework.response import Response

from curation.api.errors import ApiError
from curation.api.pagination import ApiCursor
from curation.api.permissions import perm_required
from curation.ingest.records import IMAGE_KEY
from curation.models import Job, Source, SourceRow
from curation.selectors import source_ingest_job, sources_list
from curation.services.source_delete import source_delete
from curation.services.sources import source_ingest_request, source_update

CanViewSources = perm_required("curation.view_source")
CanViewRows = perm_required("curation.view_sourcerow")
CanChangeSources = perm_required("curation.change_source")
CanDeleteSources = perm_required("curation.delete_source")
CanIngestSources = perm_required("curation.ingest_source")


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


class SourceUpdateIn(serializers.Serializer):
    """What a curator may change after registering; fields left out stay as they are."""

    name = serializers.CharField(max_length=200, required=False)
    license = serializers.CharField(max_length=200, required=False, allow_blank=True, help_text="The licence, e.g. CC BY 4.0.")
    license_unknown = serializers.BooleanField(required=False, help_text="Nobody knows the licence, said on purpose "
                                                                         "(approval accepts it); ignored once a licence is set.")
    origin = serializers.CharField(max_length=500, required=False, allow_blank=True)
    citation = serializers.CharField(required=False, allow_blank=True)
    description = serializers.CharField(required=False, allow_blank=True)
    image_root = serializers.CharField(max_length=1000, required=False, allow_blank=True,
                                       help_text="A folder under an allowed data root (absolute or relative to a root); "
                                                 "empty = the data file's folder. Read by the next ingest.")
    label_origin = serializers.ChoiceField(choices=Source.LabelOrigin.choices, required=False)
    task_name = serializers.CharField(max_length=200, required=False, allow_blank=True)


class DeleteQuery(serializers.Serializer):
    confirm = serializers.BooleanField(required=False, default=False)


class PlanSourceOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class PlanSubsetOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    status = serializers.CharField()
    samples = serializers.IntegerField(help_text="The source's samples in it (they go).")
    other_samples = serializers.IntegerField(help_text="Other sources' samples in it (they stay).")
    goes = serializers.BooleanField(help_text="The subset is deleted: it holds nothing else. Otherwise it stays "
                                              "(reopened to draft if it was approved).")


class PlanExportOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    state = serializers.CharField()


class PlanJobOut(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    state = serializers.CharField()


class SourceDeletePlanOut(serializers.Serializer):
    """What deleting the source removes (counts and names) and what stays (decisions, stored images)."""

    source = PlanSourceOut()
    rows = serializers.IntegerField()
    mappings = serializers.IntegerField()
    action_mappings = serializers.IntegerField()
    samples = serializers.IntegerField()
    subsets = PlanSubsetOut(many=True)
    review_queues = serializers.IntegerField()
    review_items = serializers.IntegerField()
    decisions_kept = serializers.IntegerField(help_text="Audit-trail decisions about what goes: kept, never deleted.")
    ratings = serializers.IntegerField()
    hard_negatives = serializers.IntegerField()
    duplicate_pairs = serializers.IntegerField()
    leak_pairs = serializers.IntegerField()
    exports = PlanExportOut(many=True, help_text="Exports holding the source's samples: deleted with their files.")
    images_kept = serializers.IntegerField(help_text="Stored images its rows refer to: they stay (shared by content); "
                                                     "manage.py images_cleanup removes those nothing uses.")
    running_jobs = PlanJobOut(many=True, help_text="Unfinished jobs that stop the deletion now.")
    needs_confirmation = serializers.BooleanField()
    confirm_because = serializers.ListField(child=serializers.CharField())


class PlanErrorBody(serializers.Serializer):
    code = serializers.ChoiceField(choices=["confirmation_required", "source_busy"])
    message = serializers.CharField()
    detail = SourceDeletePlanOut()


class PlanErrorOut(serializers.Serializer):
    error = PlanErrorBody()


class IngestRunningBody(serializers.Serializer):
    code = serializers.ChoiceField(choices=["ingest_running"])
    message = serializers.CharField()
    detail = IngestJobOut()


class IngestRunningOut(serializers.Serializer):
    error = IngestRunningBody()


INVALID_SOURCE = OpenApiResponse(description="A field is not valid: error.code 'invalid' with error.detail by field, or "
                                             "'invalid_source' (a taken name, an image folder outside the data roots "
                                             "or missing) with error.detail.field naming it.")


class SourceDetail(generics.GenericAPIView):
    serializer_class = SourceDetailOut
    queryset = Source.objects.select_related("created_by")
    permission_by_method: dict[str, type[BasePermission]] = {"PATCH": CanChangeSources, "DELETE": CanDeleteSources}

    def get_permissions(self) -> list[BasePermission]:
        return [self.permission_by_method.get(self.request.method or "GET", CanViewSources)()]

    @extend_schema(tags=["sources"], summary="A source: provenance, licence, format, layout, columns and its latest ingest",
                   description="Any role (curation.view_source).")
    def get(self, request: Request, pk: int) -> Response:
        return Response(self.get_serializer(self.get_object()).data)

    @extend_schema(
        tags=["sources"], summary="Edit a source's name, licence, origin, citation, description, image folder, labels, task",
        description="Curators and admins (curation.change_source). Checked as registration checks it; the change is "
                    "recorded in the audit trail with the fields before and after.",
        request=SourceUpdateIn, responses={200: SourceDetailOut, 400: INVALID_SOURCE},
    )
    def patch(self, request: Request, pk: int) -> Response:
        source = self.get_object()
        data = SourceUpdateIn(data=request.data)
        data.is_valid(raise_exception=True)
        source = source_update(source=source, by=request.user, **data.validated_data)
        return Response(self.get_serializer(self.get_queryset().get(pk=source.pk)).data)

    @extend_schema(
        tags=["sources"], summary="Delete a source and what goes with it (rows, mappings, samples, emptied subsets, exports)",
        description="Curators and admins (curation.delete_source). Refused (409 confirmation_required, the plan in "
                    "error.detail) when approved subsets or ready exports go with it, unless `?confirm=true` (or a "
                    'JSON body {"confirm": true}); refused (409 source_busy) while a job on it is unfinished. '
                    "Decisions in the audit trail stay, and the deletion is added to it.",
        parameters=[OpenApiParameter("confirm", OpenApiTypes.BOOL, description="Delete even when approved subsets or "
                                                                               "ready exports go with it.")],
        responses={204: OpenApiResponse(description="Deleted."),
                   409: OpenApiResponse(PlanErrorOut, description="Needs confirmation, or a job on it is unfinished; "
                                                                  "error.detail is what would go.")},
    )
    def delete(self, request: Request, pk: int) -> Response:
        source = self.get_object()
        query = DeleteQuery(data=request.query_params)
        query.is_valid(raise_exception=True)
        body = DeleteQuery(data=request.data if isinstance(request.data, dict) else {})
        confirm = query.validated_data["confirm"] or (body.is_valid() and body.validated_data["confirm"])
        source_delete(source=source, by=request.user, confirm=confirm)
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema(
    tags=["sources"], summary="Re-ingest a source: read its file again (rows upserted, rows gone or now rejected dropped)",
    description="Curators and admins (curation.ingest_source). Poll the source (ingest_job) for its progress.",
    request=None, responses={202: IngestJobOut, 409: OpenApiResponse(IngestRunningOut, description="An ingest of it is "
                                                                                             "already queued or running.")},
)
class SourceIngest(generics.GenericAPIView):
    permission_classes = [CanIngestSources]
    serializer_class = IngestJobOut
    queryset = Source.objects.all()

    def post(self, request: Request, pk: int) -> Response:
        source = self.get_object()
        started = source_ingest_request(source=source, by=request.user)
        body: dict[str, Any] = IngestJobOut(started.job).data
        if not started.created:
            raise ApiError(code="ingest_running", message=started.message, status_code=status.HTTP_409_CONFLICT,
                           detail=body)
        location = request.build_absolute_uri(reverse("api-source", args=[source.pk]))
        return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": location})


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
    path("sources/<int:pk>/ingest/", SourceIngest.as_view(), name="api-source-ingest"),
]
