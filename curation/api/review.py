"""API of the review machinery (token or session auth): list queues, claim the next item, decide it,
release it. The same services as the pages; errors in the one API error shape."""
from typing import Any

from django.shortcuts import get_object_or_404
from django.urls import URLPattern, path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from curation.api.permissions import perm_required
from curation.models import ReviewItem, ReviewQueue
from curation.review.kinds import kind_get, kinds_registered
from curation.review.selectors import queue_progress_many, queues_for_user
from curation.services.review import DecideMode, review_decide
from curation.services.review_claims import review_claim_next, review_release

CanReview = perm_required("curation.review_item")


def _verdicts_help() -> str:
    parts = []
    for kind in kinds_registered():
        verdicts = ", ".join(
            f"`{v.value}`" + (f" (reason: {'/'.join(r.value for r in v.reasons)})" if v.reasons else "") for v in kind.verdicts
        )
        parts.append(f"{kind.kind}: {verdicts}")
    return "Verdicts by kind: " + "; ".join(parts) + "."


class QueueOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    kind = serializers.CharField()
    subset = serializers.IntegerField(allow_null=True)
    active = serializers.BooleanField()
    overlap_rate = serializers.FloatField()
    total = serializers.IntegerField()
    decided = serializers.IntegerField()
    open = serializers.IntegerField()


class ItemOut(serializers.Serializer):
    id = serializers.IntegerField()
    queue = serializers.IntegerField(source="queue_id")
    kind = serializers.CharField()
    round = serializers.IntegerField()
    state = serializers.CharField()
    target_id = serializers.CharField()
    lease_expires_at = serializers.DateTimeField(allow_null=True)
    verdict = serializers.CharField()


class ClaimOut(ItemOut):
    target = serializers.JSONField(
        required=False, help_text="The target as its kind describes it (a sample's turns and images); left out with ?target=0."
    )


class DecideIn(serializers.Serializer):
    verdict = serializers.CharField(max_length=32, help_text=_verdicts_help())
    reason = serializers.CharField(max_length=64, required=False, allow_blank=True, default="")
    note = serializers.CharField(max_length=2000, required=False, allow_blank=True, default="")
    mode = serializers.ChoiceField(choices=[DecideMode.DECIDE, DecideMode.REVISE], default=DecideMode.DECIDE)
    fields = serializers.DictField(
        child=serializers.CharField(allow_blank=True, trim_whitespace=False),
        required=False,
        default=dict,
        help_text="The kind's extra fields, e.g. for a sample edit {\"turn_0_assistant\": \"new text\"}.",
    )


class ReleaseOut(serializers.Serializer):
    released = serializers.BooleanField()


def _item_payload(item: ReviewItem, *, with_target: bool) -> dict[str, Any]:
    data = ItemOut(item).data
    if with_target:
        kind = kind_get(item.kind)
        target = kind.targets_by_id([item.target_id]).get(item.target_id)
        data["target"] = kind.api_payload(target) if target is not None and kind.api_payload else {"id": item.target_id}
    return data


class QueueList(APIView):
    permission_classes = [CanReview]

    @extend_schema(operation_id="review_queues_list", responses=QueueOut(many=True), summary="Queues you may work")
    def get(self, request: Request) -> Response:
        rows = queue_progress_many(queues_for_user(user=request.user))
        data = [
            {
                "id": p.queue.pk, "name": p.queue.name, "kind": p.queue.kind, "subset": p.queue.subset_id,
                "active": p.queue.active, "overlap_rate": p.queue.overlap_rate, "total": p.total,
                "decided": p.decided, "open": p.open,
            }
            for p in rows
        ]
        return Response(QueueOut(data, many=True).data)


class QueueClaim(APIView):
    permission_classes = [CanReview]

    @extend_schema(
        operation_id="review_queue_claim",
        request=None,
        responses={200: ClaimOut, 204: OpenApiResponse(description="Nothing left for you in this queue.")},
        summary="Claim the next item (or get back the one you hold)",
    )
    def post(self, request: Request, queue_id: int) -> Response:
        queue = get_object_or_404(ReviewQueue, pk=queue_id)
        item = review_claim_next(queue=queue, user=request.user)
        if item is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        with_target = request.query_params.get("target", "1") != "0"
        return Response(_item_payload(item, with_target=with_target))


class ItemDecide(APIView):
    permission_classes = [CanReview]

    @extend_schema(operation_id="review_item_decide", request=DecideIn, responses=ItemOut, summary="Decide (or re-decide) an item")
    def post(self, request: Request, item_id: int) -> Response:
        payload = DecideIn(data=request.data)
        payload.is_valid(raise_exception=True)
        values = payload.validated_data
        data = {**values["fields"], "verdict": values["verdict"], "reason": values["reason"], "note": values["note"]}
        item = review_decide(item_id=item_id, user=request.user, data=data, mode=values["mode"])
        return Response(_item_payload(item, with_target=False))


class ItemRelease(APIView):
    permission_classes = [CanReview]

    @extend_schema(operation_id="review_item_release", request=None, responses=ReleaseOut, summary="Give a claimed item back")
    def post(self, request: Request, item_id: int) -> Response:
        get_object_or_404(ReviewItem, pk=item_id)
        return Response({"released": review_release(item_id=item_id, user=request.user)})


urlpatterns: list[URLPattern] = [
    path("review/queues/", QueueList.as_view(), name="api-review-queues"),
    path("review/queues/<int:queue_id>/claim/", QueueClaim.as_view(), name="api-review-claim"),
    path("review/items/<int:item_id>/decide/", ItemDecide.as_view(), name="api-review-decide"),
    path("review/items/<int:item_id>/release/", ItemRelease.as_view(), name="api-review-release"),
]
