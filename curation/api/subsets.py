"""API: subsets with their statistics and open checks, and a subset's samples by cursor pagination."""
from typing import Any

import django_filters
from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path, reverse
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response

from curation.api.pagination import ApiCursor
from curation.api.permissions import perm_required
from curation.models import Rating, Sample, SampleImage, Subset
from curation.models.ratings import RATING_AXES
from curation.services.subsets import subset_open_checks, subset_stats, subsets_with_counts

CanViewSubsets = perm_required("curation.view_subset")
CanViewSamples = perm_required("curation.view_sample")


# --- serializers ---


class StatusCountsOut(serializers.Serializer):
    pending = serializers.IntegerField()
    accepted = serializers.IntegerField()
    rejected = serializers.IntegerField()


class SubsetOut(serializers.ModelSerializer):
    samples = serializers.IntegerField(source="samples_total", help_text="Samples in the subset now.")
    samples_by_status = serializers.SerializerMethodField()
    approved_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)
    samples_url = serializers.SerializerMethodField()

    class Meta:
        model = Subset
        fields = [
            "id", "name", "description", "category", "status", "samples", "samples_by_status",
            "approved_by", "approved_at", "created_at", "samples_url",
        ]

    @extend_schema_field(StatusCountsOut)
    def get_samples_by_status(self, subset: Subset) -> dict[str, int]:
        return {status: getattr(subset, f"{status}_count", 0) for status in Sample.Status.values}

    def get_samples_url(self, subset: Subset) -> str:
        return self.context["request"].build_absolute_uri(reverse("api-subset-samples", args=[subset.pk]))


class SourceCountOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    license = serializers.CharField()
    samples = serializers.IntegerField()


class OpenCheckOut(serializers.Serializer):
    code = serializers.CharField(help_text="mapping_undecided, mapping_not_applied, mapping_not_accepted, "
                                            "samples_from_stale_mapping, review_items_open, job_running or empty")
    message = serializers.CharField()
    count = serializers.IntegerField()


class SubsetDetailOut(SubsetOut):
    """Reads the subset's statistics and open checks from the context (the view computes them once)."""

    images = serializers.SerializerMethodField()
    rated = serializers.SerializerMethodField()
    sources = serializers.SerializerMethodField()
    open_checks = serializers.SerializerMethodField()

    class Meta(SubsetOut.Meta):
        fields = [*SubsetOut.Meta.fields, "images", "rated", "sources", "open_checks"]

    def get_images(self, subset: Subset) -> int:
        return self.context["stats"].images

    def get_rated(self, subset: Subset) -> int:
        return self.context["stats"].rated

    @extend_schema_field(SourceCountOut(many=True))
    def get_sources(self, subset: Subset) -> list[dict[str, Any]]:
        return self.context["stats"].sources

    @extend_schema_field(OpenCheckOut(many=True))
    def get_open_checks(self, subset: Subset) -> list[dict[str, Any]]:
        return [{"code": c.code, "message": c.message, "count": c.count} for c in self.context["checks"]]


class TurnOut(serializers.Serializer):
    user = serializers.CharField(allow_blank=True)
    assistant = serializers.CharField(allow_blank=True)


class SampleImageOut(serializers.Serializer):
    position = serializers.IntegerField()
    sha256 = serializers.CharField(source="image.sha256")
    width = serializers.IntegerField(source="image.width")
    height = serializers.IntegerField(source="image.height")
    format = serializers.CharField(source="image.format")


class AxisRatingsOut(serializers.Serializer):
    ratings = serializers.ListField(child=serializers.IntegerField(), allow_null=True)
    min = serializers.IntegerField(allow_null=True)


RatingsOut = type("RatingsOut", (serializers.Serializer,), {axis: AxisRatingsOut() for axis in RATING_AXES})


class SampleOut(serializers.ModelSerializer):
    source = serializers.SlugRelatedField(slug_field="name", read_only=True)
    turns = serializers.SerializerMethodField()
    images = SampleImageOut(source="sample_images", many=True, read_only=True)
    ratings = serializers.SerializerMethodField()
    rating_engine = serializers.SerializerMethodField()
    mapping_version = serializers.IntegerField(source="mapping.version", allow_null=True, default=None, read_only=True)

    class Meta:
        model = Sample
        fields = ["id", "source", "source_id", "row_number", "status", "turns", "images", "ratings", "rating_engine", "mapping_version"]

    @extend_schema_field(TurnOut(many=True))
    def get_turns(self, sample: Sample) -> list[dict[str, str]]:
        return [{"user": str(t.get("user") or ""), "assistant": str(t.get("assistant") or "")} for t in sample.turns or []]

    @extend_schema_field(RatingsOut)
    def get_ratings(self, sample: Sample) -> dict[str, dict[str, Any]]:
        # The current judge's ratings per turn (prefetched: judge rows and the minima cache).
        minima = {row.axis: row for row in sample.rating_minima.all()}
        out: dict[str, dict[str, Any]] = {}
        for axis in RATING_AXES:
            cached = minima.get(axis)
            if cached is None:
                out[axis] = {"ratings": None, "min": None}
                continue
            scores = {r.turn: r.score for r in sample.ratings.all()
                      if r.axis == axis and r.engine == cached.engine and r.engine_version == cached.engine_version}
            out[axis] = {"ratings": [scores.get(i) for i in range(len(sample.turns or []))], "min": cached.minimum}
        return out

    def get_rating_engine(self, sample: Sample) -> str:
        cached = next(iter(sample.rating_minima.all()), None)
        return f"{cached.engine} {cached.engine_version}".strip() if cached else ""


# --- filters and pagination ---


class SubsetFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Subset.Status.choices)
    category = django_filters.ChoiceFilter(choices=Subset.Category.choices)
    name = django_filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Subset
        fields = ["status", "category", "name"]


class SampleFilter(django_filters.FilterSet):
    status = django_filters.MultipleChoiceFilter(choices=Sample.Status.choices)
    source = django_filters.NumberFilter(field_name="source_id", min_value=1)

    class Meta:
        model = Sample
        fields = ["status", "source"]


class SubsetCursor(ApiCursor):
    ordering = "name"
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


class SampleCursor(ApiCursor):
    ordering = "id"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


# --- views: one per operation ---


@extend_schema(tags=["subsets"], summary="List subsets with their sample counts by decision state")
class SubsetList(generics.ListAPIView):
    permission_classes = [IsAuthenticated, CanViewSubsets]
    serializer_class = SubsetOut
    filterset_class = SubsetFilter
    pagination_class = SubsetCursor

    def get_queryset(self) -> QuerySet[Subset]:
        return subsets_with_counts()


@extend_schema(tags=["subsets"], summary="One subset: statistics, sources, and what is still open before approval")
class SubsetDetail(generics.RetrieveAPIView):
    permission_classes = [IsAuthenticated, CanViewSubsets]
    serializer_class = SubsetDetailOut
    lookup_url_kwarg = "subset_id"

    def get_queryset(self) -> QuerySet[Subset]:
        return subsets_with_counts()

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        subset = self.get_object()
        context = {
            **self.get_serializer_context(),
            "stats": subset_stats(subset=subset),
            "checks": subset_open_checks(subset=subset),
        }
        return Response(SubsetDetailOut(subset, context=context).data)


@extend_schema(tags=["subsets"], summary="Page through a subset's samples (cursor pagination, in id order)")
class SubsetSamples(generics.ListAPIView):
    permission_classes = [IsAuthenticated, CanViewSamples]
    serializer_class = SampleOut
    filterset_class = SampleFilter
    pagination_class = SampleCursor

    def get_queryset(self) -> QuerySet[Sample]:
        if getattr(self, "swagger_fake_view", False):  # schema generation has no subset
            return Sample.objects.none()
        subset = get_object_or_404(Subset, pk=self.kwargs["subset_id"])
        images = SampleImage.objects.select_related("image").order_by("position")
        return (
            Sample.objects.filter(subset=subset)
            .select_related("source", "mapping")
            .prefetch_related(Prefetch("sample_images", queryset=images), "rating_minima",
                              Prefetch("ratings", queryset=Rating.objects.filter(rater__isnull=True)))
        )


urlpatterns: list[URLPattern] = [
    path("subsets/", SubsetList.as_view(), name="api-subsets"),
    path("subsets/<int:subset_id>/", SubsetDetail.as_view(), name="api-subset"),
    path("subsets/<int:subset_id>/samples/", SubsetSamples.as_view(), name="api-subset-samples"),
]
