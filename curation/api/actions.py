"""API: action schemas (every version, with typed parameters) and a subset's action statistics."""
from typing import Any

from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from curation.api.permissions import perm_required
from curation.models import ActionSchema, Subset
from curation.services.actions import action_schema_spec, subset_action_stats

CanViewMappings = perm_required("curation.view_mapping")
CanViewSubsets = perm_required("curation.view_subset")


class ActionParamOut(serializers.Serializer):
    name = serializers.CharField()
    type = serializers.CharField()
    required = serializers.BooleanField()
    default = serializers.JSONField(required=False, allow_null=True)
    minimum = serializers.FloatField(required=False, allow_null=True)
    maximum = serializers.FloatField(required=False, allow_null=True)
    choices = serializers.ListField(child=serializers.CharField(), required=False)
    description = serializers.CharField(required=False)


class ActionOut(serializers.Serializer):
    name = serializers.CharField()
    description = serializers.CharField()
    params = ActionParamOut(many=True)


class ActionSchemaOut(serializers.ModelSerializer):
    actions = serializers.SerializerMethodField()
    created_by = serializers.SlugRelatedField(slug_field="username", read_only=True, allow_null=True)

    class Meta:
        model = ActionSchema
        fields = ["id", "name", "version", "status", "description", "note", "created_by", "created_at", "actions"]

    @extend_schema_field(ActionOut(many=True))
    def get_actions(self, schema: ActionSchema) -> list[dict[str, Any]]:
        return action_schema_spec(schema=schema).to_dict()["actions"]


class ActionSchemaList(generics.ListAPIView):
    """Every version of every action schema, the active ones first."""

    permission_classes = [IsAuthenticated, CanViewMappings]
    serializer_class = ActionSchemaOut
    queryset = ActionSchema.objects.select_related("created_by").order_by("status", "name", "-version")
    pagination_class = None


class ActionSchemaDetail(generics.RetrieveAPIView):
    permission_classes = [IsAuthenticated, CanViewMappings]
    serializer_class = ActionSchemaOut
    queryset = ActionSchema.objects.select_related("created_by")
    lookup_url_kwarg = "schema_id"


class ActionDistributionOut(serializers.Serializer):
    name = serializers.CharField()
    total = serializers.IntegerField()
    valid = serializers.IntegerField()
    invalid = serializers.IntegerField()
    unmapped = serializers.IntegerField()


class FailedActionOut(serializers.Serializer):
    sample_id = serializers.IntegerField()
    turn = serializers.IntegerField()
    position = serializers.IntegerField()
    name = serializers.CharField()
    state = serializers.CharField()
    reason = serializers.CharField()
    raw = serializers.CharField()
    canonical = serializers.CharField()


class SubsetActionStatsOut(serializers.Serializer):
    total = serializers.IntegerField()
    valid = serializers.IntegerField()
    invalid = serializers.IntegerField()
    unmapped = serializers.IntegerField()
    valid_share = serializers.FloatField(allow_null=True)
    samples_with_actions = serializers.IntegerField()
    samples_failed = serializers.IntegerField()
    distribution = ActionDistributionOut(many=True)
    failed = FailedActionOut(many=True, help_text="The first failed actions (by sample, turn, position).")


class SubsetActionStats(APIView):
    """A subset's action distribution and the actions that failed validation, with reasons."""

    permission_classes = [IsAuthenticated, CanViewSubsets]

    @extend_schema(responses=SubsetActionStatsOut)
    def get(self, request: Request, subset_id: int) -> Response:
        subset = get_object_or_404(Subset, pk=subset_id)
        return Response(SubsetActionStatsOut(subset_action_stats(subset=subset)).data)


urlpatterns: list[URLPattern] = [
    path("action-schemas/", ActionSchemaList.as_view(), name="api-action-schemas"),
    path("action-schemas/<int:schema_id>/", ActionSchemaDetail.as_view(), name="api-action-schema"),
    path("subsets/<int:subset_id>/actions/", SubsetActionStats.as_view(), name="api-subset-actions"),
]
