"""Review pages: "My queue" and the keyboard work page, where each decision is one request.

The work page holds two claims: the item shown and the next one, rendered hidden so its images load
before the reviewer finishes the current one. Deciding posts the item and which one is promoted
("showing"); the response is the new hidden next item. Without JavaScript the forms still work
(plain POST, redirect back to the work page).
"""
import json
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required, permission_required
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.loader import render_to_string
from django.urls import path
from django.views.decorators.http import require_GET, require_POST

from annotate.errors import message_error
from annotate.requests import AppRequest
from annotate.views import review_bulk, review_queues
from annotate.views.review_access import queue_for_worker
from curation.models import ReviewItem, ReviewQueue
from curation.review.kinds import ReviewKind, kind_get
from curation.review.selectors import (
    decided_today,
    item_current_reason,
    item_position,
    queue_progress,
    queue_progress_many,
    queues_for_user,
    review_previous,
)
from curation.services.review import (
    DecideMode,
    InvalidDecision,
    QueueClosed,
    ReviewError,
    review_decide,
)
from curation.services.review_claims import (
    review_claim_next,
    review_lease_renew,
    review_release,
    review_release_mine,
)

ITEM_PARTIAL = "annotate/review_work.html#item"
EMPTY_PARTIAL = "annotate/review_work.html#empty"


def item_context(item: ReviewItem, target: Any, kind: ReviewKind, *, mode: str = DecideMode.DECIDE) -> dict[str, Any]:
    revising = mode == DecideMode.REVISE
    form = kind.form(initial={"verdict": item.verdict} if revising else {}, target=target, allow_revisions=item.round == 1)
    position, of = item_position(item=item)
    return {
        "item": item,
        "position": position,
        "position_of": of,
        "target": target,
        "kind": kind,
        "mode": mode,
        "form": form,
        "verdicts": kind.verdicts,
        "revising": kind.form.revising_verdicts(),
        "allow_revisions": item.round == 1,
        "current_reason": item_current_reason(item=item) if revising else "",
    }


def render_items(items: list[ReviewItem]) -> dict[int, dict[str, Any]]:
    """Contexts for these items, their targets loaded in one query per kind."""
    contexts = {}
    by_kind: dict[str, list[ReviewItem]] = {}
    for item in items:
        by_kind.setdefault(item.kind, []).append(item)
    for kind_name, kind_items in by_kind.items():
        kind = kind_get(kind_name)
        targets = kind.targets_by_id(i.target_id for i in kind_items)
        for item in kind_items:
            target = targets.get(item.target_id)
            if target is not None:
                contexts[item.pk] = item_context(item, target, kind)
    return contexts


def _render_slot(request: AppRequest, item: ReviewItem | None, queue: ReviewQueue, status: int = 200) -> HttpResponse:
    if item is None:
        return render(request, EMPTY_PARTIAL, {"queue": queue}, status=status)
    context = render_items([item]).get(item.pk)
    if context is None:  # its target was deleted since it was queued
        return render(request, EMPTY_PARTIAL, {"queue": queue}, status=status)
    return render(request, ITEM_PARTIAL, context, status=status)


def _flash(response: HttpResponse, message: str, level: str = "info") -> HttpResponse:
    response["X-Review-Flash"] = json.dumps({"level": level, "message": message})
    return response


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value else None
    except ValueError:
        return None


@login_required
@permission_required("curation.review_item", raise_exception=True)
@require_GET
def review_home(request: AppRequest) -> HttpResponse:
    queues = queues_for_user(user=request.user)
    context = {
        "rows": queue_progress_many(queues, user=request.user),
        "decided_today": decided_today(user=request.user),
        "can_configure": request.user.has_perm("curation.change_reviewqueue"),
        "can_bulk": request.user.has_perm("curation.bulk_decide_item"),
    }
    return render(request, "annotate/review_home.html", context)


@login_required
@permission_required("curation.review_item", raise_exception=True)
@require_GET
def review_work(request: AppRequest, queue_id: int) -> HttpResponse:
    queue = queue_for_worker(request, queue_id)
    kind = kind_get(queue.kind)
    current = review_claim_next(queue=queue, user=request.user)
    ahead = review_claim_next(queue=queue, user=request.user, exclude_ids=[current.pk]) if current else None
    contexts = render_items([i for i in (current, ahead) if i is not None])
    rendered = {pk: render_to_string(ITEM_PARTIAL, ctx, request=request) for pk, ctx in contexts.items()}
    context = {
        "queue": queue,
        "kind": kind,
        "help_verdicts": [v for v in kind.verdicts if v.value not in kind.form.revising_verdicts()],
        "progress": queue_progress(queue),
        "decided_today": decided_today(user=request.user, queue=queue),
        "current_html": rendered.get(current.pk) if current else None,
        "ahead_html": rendered.get(ahead.pk) if ahead else None,
    }
    return render(request, "annotate/review_work.html", context)


@login_required
@permission_required("curation.review_item", raise_exception=True)
@require_POST
def review_decide_view(request: AppRequest, item_id: int) -> HttpResponse:
    mode = DecideMode.REVISE if request.POST.get("mode") == DecideMode.REVISE else DecideMode.DECIDE
    showing = _int_or_none(request.POST.get("showing"))
    try:
        item = review_decide(item_id=item_id, user=request.user, data=request.POST, mode=mode)
    except QueueClosed as exc:
        raise PermissionDenied(exc.message) from exc
    except InvalidDecision as exc:
        if not request.htmx:
            message_error(request, exc)
            return _back_to_queue_of(item_id)
        return _flash(HttpResponse(status=422), exc.message, "error")
    except ReviewError as exc:
        if not request.htmx:
            message_error(request, exc)
            return _back_to_queue_of(item_id)
        queue = ReviewItem.objects.filter(pk=item_id).values_list("queue_id", flat=True).first()
        if mode == DecideMode.REVISE or queue is None:
            return _flash(HttpResponse(status=409), exc.message, "error")
        # The reviewer goes on: the response still carries their next item.
        queue_obj = ReviewQueue.objects.get(pk=queue)
        ahead = review_claim_next(queue=queue_obj, user=request.user, exclude_ids=[i for i in (showing,) if i])
        return _flash(_render_slot(request, ahead, queue_obj, status=409), f"{_item_name(item_id)}: {exc.message}", "error")
    if not request.htmx:
        messages.success(request, f"{_item_name(item.pk)}: {item.verdict}.")
        return redirect("review_work", item.queue_id)
    if mode == DecideMode.REVISE:
        return _flash(HttpResponse(status=200), f"{_item_name(item.pk)} changed to {item.verdict}.", "success")
    if showing:
        # The item the page shows next was claimed ahead a while ago: its lease starts again now.
        review_lease_renew(item_id=showing, user=request.user)
    ahead = review_claim_next(queue=item.queue, user=request.user, exclude_ids=[i for i in (showing,) if i])
    return _render_slot(request, ahead, item.queue)


def _item_name(item_id: int) -> str:
    """'Item 3 of 5': the item as the reviewer saw it in the head of the page, never its database id."""
    item = ReviewItem.objects.filter(pk=item_id).first()
    if item is None:
        return "That item"
    position, of = item_position(item=item)
    return f"Item {position:,} of {of:,}"


def _back_to_queue_of(item_id: int) -> HttpResponse:
    queue_id = ReviewItem.objects.filter(pk=item_id).values_list("queue_id", flat=True).first()
    return redirect("review_work", queue_id) if queue_id else redirect("review_home")


@login_required
@permission_required("curation.review_item", raise_exception=True)
@require_POST
def review_skip(request: AppRequest, item_id: int) -> HttpResponse:
    item = get_object_or_404(ReviewItem.objects.select_related("queue"), pk=item_id)
    queue = queue_for_worker(request, item.queue_id)
    name = _item_name(item.pk)  # where it stood before it went to the back
    released = review_release(item_id=item.pk, user=request.user, deprioritize=True)
    if not request.htmx:
        return redirect("review_work", queue.pk)
    showing = _int_or_none(request.POST.get("showing"))
    ahead = review_claim_next(queue=queue, user=request.user, exclude_ids=[i for i in (showing, item.pk) if i])
    response = _render_slot(request, ahead, queue)
    return _flash(response, f"{name} skipped." if released else f"{name} was no longer yours.")


@login_required
@permission_required("curation.review_item", raise_exception=True)
@require_GET
def review_previous_view(request: AppRequest, queue_id: int) -> HttpResponse:
    queue = queue_for_worker(request, queue_id)
    before_id = _int_or_none(request.GET.get("before"))
    before = ReviewItem.objects.filter(pk=before_id, queue=queue, decided_by=request.user).first() if before_id else None
    item = review_previous(queue=queue, user=request.user, before=before)
    if item is None:
        return _flash(HttpResponse(status=204), "There is no earlier decision of yours in this queue.")
    kind = kind_get(item.kind)
    target = kind.targets_by_id([item.target_id]).get(item.target_id)
    if target is None:
        raise Http404("The target of that item no longer exists.")
    return render(request, ITEM_PARTIAL, item_context(item, target, kind, mode=DecideMode.REVISE))


@login_required
@permission_required("curation.review_item", raise_exception=True)
@require_POST
def review_release_view(request: AppRequest, queue_id: int) -> HttpResponse:
    queue = queue_for_worker(request, queue_id)
    released = review_release_mine(queue=queue, user=request.user)
    messages.info(request, f"{released} item(s) returned to the queue.")
    return redirect("review_home")


urlpatterns = [
    path("review/", review_home, name="review_home"),
    path("review/queues/<int:queue_id>/", review_work, name="review_work"),
    path("review/queues/<int:queue_id>/previous/", review_previous_view, name="review_previous"),
    path("review/queues/<int:queue_id>/release/", review_release_view, name="review_release"),
    path("review/items/<int:item_id>/decide/", review_decide_view, name="review_decide"),
    path("review/items/<int:item_id>/skip/", review_skip, name="review_skip"),
    *review_queues.urlpatterns,
    *review_bulk.urlpatterns,
]
