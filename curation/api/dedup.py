"""API: copy detection. Start a scan on a subset, poll it, list a subset's flagged pairs (cursor pages),
read its contamination and diversity; list and register benchmarks."""
from typing import Any

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from curation.api.errors import ApiError
from curation.api.permissions import perm_required
from curation.models import Benchmark, DuplicatePair, DuplicateScan, Source, Subset
from curation.review.duplicate import pair_api_payload, pair_prefetch
from curation.selectors_dedup import subset_copies_summary
from curation.services.benchmarks import BenchmarkInvalid, benchmark_register
from curation.services.dedup import DedupInvalid, dedup_scan_start

CanView = perm_required("curation.view_subset")
CanScan = perm_required("curation.change_subset")
CanViewBenchmarks = perm_required("curation.view_benchmark")
CanAddBenchmarks = perm_required("curation.add_benchmark")


class ScanIn(serializers.Serializer):
    kind = serializers.ChoiceField(choices=DuplicateScan.Kind.choices)
    benchmarks = serializers.PrimaryKeyRelatedField(queryset=Benchmark.objects.all(), many=True, required=False)
    threshold = serializers.FloatField(required=False, min_value=0, max_value=1)
    verify_threshold = serializers.FloatField(required=False, min_value=0, max_value=1)


class ScanOut(serializers.ModelSerializer):
    subsets = serializers.PrimaryKeyRelatedField(many=True, read_only=True)
    benchmarks = serializers.PrimaryKeyRelatedField(many=True, read_only=True)

    class Meta:
        model = DuplicateScan
        fields = [
            "id", "kind", "state", "subsets", "benchmarks", "threshold", "verify_threshold", "engine", "engine_version",
            "verifier", "index_kind", "vectors", "candidates", "flagged", "message", "created_at", "finished_at",
            "embed_job", "search_job",
        ]


class PairOut(serializers.ModelSerializer):
    payload = serializers.SerializerMethodField()

    class Meta:
        model = DuplicatePair
        fields = ["id", "kind", "status", "similarity", "verify_score", "verified", "cluster", "payload"]

    def get_payload(self, pair: DuplicatePair) -> dict[str, Any]:
        return pair_api_payload(pair)


class BenchmarkOut(serializers.ModelSerializer):
    class Meta:
        model = Benchmark
        fields = ["id", "name", "split", "origin", "license", "image_count", "registered_from", "vector_engine", "created_at"]


class BenchmarkIn(serializers.Serializer):
    name = serializers.CharField(max_length=200)
    mode = serializers.ChoiceField(choices=["folder", "source", "npy"])
    path = serializers.CharField(required=False, default="")
    names_path = serializers.CharField(required=False, default="")
    source = serializers.PrimaryKeyRelatedField(queryset=Source.objects.all(), required=False, allow_null=True, default=None)
    engine = serializers.CharField(required=False, default="")
    split = serializers.CharField(required=False, default="test")
    license = serializers.CharField(required=False, default="")


class PairCursor(CursorPagination):
    ordering = "id"
    page_size = 100


class SubsetScanStart(APIView):
    permission_classes = [IsAuthenticated, CanScan]

    @extend_schema(request=ScanIn, responses={202: ScanOut})
    def post(self, request: Request, subset_id: int) -> Response:
        subset = get_object_or_404(Subset, pk=subset_id)
        data = ScanIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            scan = dedup_scan_start(subsets=[subset], by=request.user, **data.validated_data)
        except DedupInvalid as exc:
            raise ApiError(code=exc.code, message=str(exc)) from exc
        return Response(ScanOut(scan).data, status=status.HTTP_202_ACCEPTED)


class ScanDetail(generics.RetrieveAPIView):
    permission_classes = [IsAuthenticated, CanView]
    serializer_class = ScanOut
    queryset = DuplicateScan.objects.prefetch_related("subsets", "benchmarks")
    lookup_url_kwarg = "scan_id"


class SubsetPairs(generics.ListAPIView):
    """The subset's flagged pairs (?kind=duplicate|leak, ?status=open|...), with both scores and the evidence."""

    permission_classes = [IsAuthenticated, CanView]
    serializer_class = PairOut
    pagination_class = PairCursor

    def get_queryset(self) -> QuerySet[DuplicatePair]:
        if getattr(self, "swagger_fake_view", False):  # schema generation: no subset in the URL
            return DuplicatePair.objects.none()
        subset = get_object_or_404(Subset, pk=self.kwargs["subset_id"])
        pairs = DuplicatePair.objects.filter(flagged=True, a_sample__subset=subset)
        for field in ("kind", "status"):
            if self.request.query_params.get(field):
                pairs = pairs.filter(**{field: self.request.query_params[field]})
        return pair_prefetch(pairs)


class CopiesSummaryOut(serializers.Serializer):
    contamination = serializers.DictField()
    diversity = serializers.DictField()


class SubsetCopies(APIView):
    permission_classes = [IsAuthenticated, CanView]

    @extend_schema(responses=CopiesSummaryOut)
    def get(self, request: Request, subset_id: int) -> Response:
        summary = subset_copies_summary(subset=get_object_or_404(Subset, pk=subset_id))
        d = summary["diversity"]
        return Response({
            "contamination": summary["contamination"],
            "diversity": {"images": d.images, "engine": d.engine, "effective_rank": d.effective_rank,
                          "participation_ratio": d.participation_ratio, "eigenvalues": d.eigenvalues},
        })


class BenchmarkList(generics.ListCreateAPIView):
    serializer_class = BenchmarkOut
    queryset = Benchmark.objects.order_by("name")

    def get_permissions(self) -> list[Any]:
        perm = CanAddBenchmarks if self.request.method == "POST" else CanViewBenchmarks
        return [IsAuthenticated(), perm()]

    @extend_schema(request=BenchmarkIn, responses={202: BenchmarkOut})
    def post(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        data = BenchmarkIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            bench, _ = benchmark_register(by=request.user, **data.validated_data)
        except BenchmarkInvalid as exc:
            raise ApiError(code=exc.code, message=str(exc)) from exc
        return Response(BenchmarkOut(bench).data, status=status.HTTP_202_ACCEPTED)


urlpatterns: list[URLPattern] = [
    path("subsets/<int:subset_id>/scans/", SubsetScanStart.as_view(), name="api-subset-scan"),
    path("subsets/<int:subset_id>/pairs/", SubsetPairs.as_view(), name="api-subset-pairs"),
    path("subsets/<int:subset_id>/copies/", SubsetCopies.as_view(), name="api-subset-copies"),
    path("scans/<int:scan_id>/", ScanDetail.as_view(), name="api-scan"),
    path("benchmarks/", BenchmarkList.as_view(), name="api-benchmarks"),
]
