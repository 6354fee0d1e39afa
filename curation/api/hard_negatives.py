"""API of hard negatives: start a Generation -> Verification -> Correction run on a subset, and list its negatives."""
from django.db.models import QuerySet
from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import generics, serializers, status
from rest_framework.pagination import CursorPagination
from rest_framework.request import Request
from rest_framework.response import Response

from curation.api.errors import ApiError
from curation.api.permissions import perm_required
from curation.engines import hardneg_lexicon as lex
from curation.models import HardNegative, Subset
from curation.services.hard_negatives import (
    DEFAULT_RATIO,
    ENGINES,
    MAX_RATIO,
    HardNegativeError,
    hard_negatives_start,
)

CanView = perm_required("curation.view_subset")
CanStart = perm_required("curation.change_subset")


class StartIn(serializers.Serializer):
    ratio = serializers.IntegerField(min_value=1, max_value=MAX_RATIO, default=DEFAULT_RATIO)
    attributes = serializers.ListField(child=serializers.ChoiceField(choices=lex.ATTRIBUTE_KEYS), required=False,
                                       help_text="Attributes to target; default: every attribute but 'caption'.")
    engine = serializers.ChoiceField(choices=ENGINES, default="builtin")


class StartOut(serializers.Serializer):
    job = serializers.IntegerField()
    state = serializers.CharField()
    params = serializers.JSONField()


class NegativeOut(serializers.ModelSerializer):
    engine = serializers.SerializerMethodField()

    class Meta:
        model = HardNegative
        fields = ["id", "sample", "turn_index", "image", "positive", "phase", "fact", "text", "original_text", "changes", "attribute",
                  "operation", "level", "engine", "agent_verdict", "agent_reason", "correction_rounds", "visual_check",
                  "blind_positive_score", "blind_negative_score", "review", "review_reason"]

    def get_engine(self, obj: HardNegative) -> dict[str, str]:
        return {"name": obj.engine_name, "version": obj.engine_version}


class NegativeCursor(CursorPagination):
    ordering = "id"
    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


class HardNegativeCollection(generics.GenericAPIView):
    serializer_class = NegativeOut
    pagination_class = NegativeCursor

    def get_permissions(self) -> list:
        return [CanStart()] if self.request.method == "POST" else [CanView()]

    def get_queryset(self) -> QuerySet[HardNegative]:
        if getattr(self, "swagger_fake_view", False):  # the schema generator has no subset
            return HardNegative.objects.none()
        negatives = HardNegative.objects.filter(subset_id=self.kwargs["subset_id"])
        for name in ("attribute", "level", "phase", "review", "agent_verdict"):
            value = self.request.query_params.get(name)
            if value:
                negatives = negatives.filter(**{name: value})
        return negatives

    @extend_schema(tags=["hard negatives"], summary="List a subset's hard negatives (cursor pagination)", responses=NegativeOut(many=True),
                   parameters=[OpenApiParameter(n, str, required=False) for n in ("attribute", "level", "phase", "review", "agent_verdict")])
    def get(self, request: Request, subset_id: int) -> Response:
        get_object_or_404(Subset, pk=subset_id)
        page = self.paginate_queryset(self.get_queryset())
        return self.get_paginated_response(self.get_serializer(page, many=True).data)

    @extend_schema(tags=["hard negatives"], summary="Start generating hard negatives for a subset (a Job to poll)",
                   request=StartIn, responses={202: StartOut})
    def post(self, request: Request, subset_id: int) -> Response:
        subset = get_object_or_404(Subset, pk=subset_id)
        payload = StartIn(data=request.data)
        payload.is_valid(raise_exception=True)
        values = payload.validated_data
        try:
            job = hard_negatives_start(subset=subset, by=request.user, ratio=values["ratio"], attributes=values.get("attributes"),
                                       engine=values["engine"])
        except HardNegativeError as exc:
            raise ApiError(code=exc.code, message=exc.message, status_code=exc.status) from exc
        return Response({"job": job.pk, "state": job.state, "params": job.params}, status=status.HTTP_202_ACCEPTED)


urlpatterns: list[URLPattern] = [
    path("subsets/<int:subset_id>/hard-negatives/", HardNegativeCollection.as_view(), name="api-hard-negatives"),
]
