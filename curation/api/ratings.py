"""API: quality ratings. Start a rating run on a subset, read a subset's rating summary (judges,
distributions, agreement with humans), and read one sample's ratings (every judge and person)."""
from typing import Any

from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from curation.api.errors import ApiError
from curation.api.permissions import perm_required
from curation.engines.judges_registry import JUDGES
from curation.errors import ApplicationError
from curation.models import Sample, Subset
from curation.services.ratings import JudgeRef, ratings_of_samples, ratings_start
from curation.services.ratings_report import subset_ratings_summary


class RatingRunIn(serializers.Serializer):
    judge = serializers.ChoiceField(choices=sorted(JUDGES), default="builtin")


class RatingRunOut(serializers.Serializer):
    job = serializers.IntegerField()
    state = serializers.CharField()
    judge = serializers.CharField()
    subset = serializers.IntegerField()


class JudgeOut(serializers.Serializer):
    engine = serializers.CharField()
    version = serializers.CharField()
    ratings = serializers.IntegerField(required=False)


class AxisDistributionOut(serializers.Serializer):
    axis = serializers.CharField()
    turns = serializers.IntegerField()
    empty = serializers.IntegerField()
    histogram = serializers.DictField(child=serializers.IntegerField())
    samples_rated = serializers.IntegerField()
    samples_below = serializers.DictField(child=serializers.IntegerField())
    finevision_percent = serializers.DictField(child=serializers.FloatField())


class AxisAgreementOut(serializers.Serializer):
    axis = serializers.CharField()
    pairs = serializers.IntegerField()
    exact = serializers.FloatField(allow_null=True)
    weighted_kappa = serializers.FloatField(allow_null=True)
    confusion = serializers.ListField(child=serializers.ListField(child=serializers.IntegerField()))


class RatingSummaryOut(serializers.Serializer):
    subset = serializers.IntegerField()
    judges = JudgeOut(many=True)
    judge = JudgeOut(allow_null=True)
    current = JudgeOut(allow_null=True)
    distributions = AxisDistributionOut(many=True)
    agreement = AxisAgreementOut(many=True)
    human_rated_turns = serializers.IntegerField()


class RatingOut(serializers.Serializer):
    turn = serializers.IntegerField()
    axis = serializers.CharField()
    score = serializers.IntegerField(allow_null=True)
    engine = serializers.CharField()
    engine_version = serializers.CharField()
    reason = serializers.CharField()
    rater = serializers.CharField(allow_null=True, source="rater.username", default=None)
    job = serializers.IntegerField(allow_null=True, source="job_id")


def _judge(ref: JudgeRef | None) -> dict[str, str] | None:
    return {"engine": ref.engine, "version": ref.version} if ref else None


class SubsetRatings(APIView):
    permission_classes = [IsAuthenticated, perm_required("curation.view_subset")]

    @extend_schema(tags=["ratings"], summary="A subset's ratings: judges, per-axis distributions, agreement with humans",
                   responses=RatingSummaryOut)
    def get(self, request: Request, subset_id: int) -> Response:
        subset = get_object_or_404(Subset, pk=subset_id)
        engine = request.query_params.get("engine")
        judge = JudgeRef(engine, request.query_params.get("version", "")) if engine else None
        summary = subset_ratings_summary(subset=subset, judge=judge)
        body: dict[str, Any] = {
            "subset": subset.pk,
            "judges": [{**(_judge(j["ref"]) or {}), "ratings": j["ratings"]} for j in summary.judges],
            "judge": _judge(summary.judge),
            "current": _judge(summary.current),
            "distributions": [
                {"axis": d.axis, "turns": d.turns, "empty": d.empty, "histogram": {str(k): v for k, v in sorted(d.histogram.items())},
                 "samples_rated": d.samples_rated, "samples_below": {str(k): v for k, v in d.samples_below.items()},
                 "finevision_percent": {str(k): v for k, v in d.finevision.items()}}
                for d in summary.distributions
            ],
            "agreement": [
                {"axis": a.axis, "pairs": a.pairs, "exact": a.exact, "weighted_kappa": a.kappa, "confusion": a.confusion}
                for a in summary.agreement
            ],
            "human_rated_turns": summary.human_turns,
        }
        return Response(RatingSummaryOut(body).data)


class SubsetRatingRuns(APIView):
    permission_classes = [IsAuthenticated, perm_required("curation.change_subset")]

    @extend_schema(tags=["ratings"], summary="Start a rating run on a subset with a judge; poll the job",
                   request=RatingRunIn, responses={202: RatingRunOut})
    def post(self, request: Request, subset_id: int) -> Response:
        subset = get_object_or_404(Subset, pk=subset_id)
        data = RatingRunIn(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            job = ratings_start(subset=subset, judge=data.validated_data["judge"], by=request.user)
        except ApplicationError as exc:
            raise ApiError(code=exc.code, message=str(exc), status_code=exc.status or 400, detail={"field": "judge"}) from exc
        body = {"job": job.pk, "state": job.state, "judge": data.validated_data["judge"], "subset": subset.pk}
        return Response(RatingRunOut(body).data, status=status.HTTP_202_ACCEPTED)


class SampleRatings(APIView):
    permission_classes = [IsAuthenticated, perm_required("curation.view_sample")]

    @extend_schema(tags=["ratings"], summary="Every rating of one sample: per turn and axis, by each judge and person",
                   responses=RatingOut(many=True))
    def get(self, request: Request, sample_id: int) -> Response:
        sample = get_object_or_404(Sample, pk=sample_id)
        return Response(RatingOut(ratings_of_samples(sample_ids=[sample.pk]), many=True).data)


urlpatterns: list[URLPattern] = [
    path("subsets/<int:subset_id>/ratings/", SubsetRatings.as_view(), name="api-subset-ratings"),
    path("subsets/<int:subset_id>/ratings/runs/", SubsetRatingRuns.as_view(), name="api-subset-rating-runs"),
    path("samples/<int:sample_id>/ratings/", SampleRatings.as_view(), name="api-sample-ratings"),
]
