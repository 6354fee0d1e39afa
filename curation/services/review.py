"""The review machinery: queues, items, decisions and their revisions (claims: review_claims.py).

Every decision is one set of appended Decision rows; a change of mind is a new set, never an overwrite.
Round-2 (overlap) items wait until round 1 is decided, then go to anyone but the round-1 reviewer;
only round 1 applies the kind's effect to the target.
"""
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist
from django.db import transaction
from django.utils import timezone

from curation.errors import ApplicationError
from curation.models import Decision, ReviewItem, ReviewQueue, Subset
from curation.review.kinds import DecisionForm, ReviewKind, UnknownKind, kind_get
from curation.seeded import unit_hash
from curation.services.actors import actor_user
from curation.services.decisions import decision_record

ENQUEUE_BATCH_SIZE = 2_000


class ReviewError(ApplicationError):
    """A review action that cannot be done; `code` is stable for the API, the message is for people."""

    code = "review_error"
    status = 409


class ItemNotYours(ReviewError):
    code = "not_your_item"


class AlreadyDecided(ReviewError):
    code = "already_decided"


class ItemGone(ReviewError):
    code = "item_gone"
    status = 404


class QueueClosed(ReviewError):
    code = "queue_closed"
    status = 403


class InvalidQueueSettings(ReviewError):
    code = "invalid_queue_settings"
    status = 400


class InvalidDecision(ReviewError):
    """The decision form did not validate; `errors` maps field names to messages."""

    code = "invalid_decision"
    status = 422

    def __init__(self, form: DecisionForm):
        self.form = form
        self.errors = {name: [str(e) for e in errs] for name, errs in form.errors.items()}
        message = "; ".join(m for msgs in self.errors.values() for m in msgs) or "The decision is not valid."
        super().__init__(message, extra=self.errors)


class DecideMode:
    DECIDE = "decide"
    REVISE = "revise"


@dataclass(frozen=True)
class ItemEntry:
    """A target to put in a queue, with what bulk filters may select it by."""

    target_id: str | int
    score: float | None = None
    attributes: dict[str, Any] = field(default_factory=dict)
    priority: int = 0


# --- queues -----------------------------------------------------------------------------------------


def _check_overlap(overlap_rate: float) -> float:
    try:
        rate = float(overlap_rate)
    except (TypeError, ValueError) as exc:
        raise InvalidQueueSettings(f"overlap rate {overlap_rate!r} is not a number") from exc
    if not 0.0 <= rate <= 1.0:
        raise InvalidQueueSettings(f"overlap rate {rate} must be between 0 and 1 (e.g. 0.1 for 10%)")
    return rate


def review_queue_create(
    *,
    kind: str,
    subset: Subset | None = None,
    name: str = "",
    instructions: str = "",
    overlap_rate: float = 0.0,
    by: User | None,
) -> ReviewQueue:
    try:
        label = kind_get(kind).title
    except UnknownKind as exc:
        raise InvalidQueueSettings(str(exc)) from exc
    if ReviewQueue.objects.filter(kind=kind, subset=subset).exists():
        raise InvalidQueueSettings(f"a {kind} queue for {subset or 'all subsets'} already exists")
    queue = ReviewQueue.objects.create(
        kind=kind,
        subset=subset,
        name=(name.strip() or (f"{label} · {subset.name}" if subset else label))[:200],
        instructions=instructions,
        overlap_rate=_check_overlap(overlap_rate),
        created_by=actor_user(by),
    )
    decision_record(by=by, target=queue, verdict="create_queue", after=_queue_settings(queue))
    return queue


def review_queue_for(*, kind: str, subset: Subset | None, by: User | None) -> ReviewQueue:
    """The queue of this kind for this subset, created on first use."""
    queue = ReviewQueue.objects.filter(kind=kind, subset=subset).first()
    return queue if queue is not None else review_queue_create(kind=kind, subset=subset, by=by)


def _queue_settings(queue: ReviewQueue) -> dict[str, Any]:
    return {
        "name": queue.name,
        "instructions": queue.instructions,
        "overlap_rate": queue.overlap_rate,
        "active": queue.active,
        "assignees": sorted(queue.assignees.values_list("username", flat=True)) if queue.pk else [],
    }


def review_queue_configure(
    *,
    queue: ReviewQueue,
    by: User | None,
    name: str | None = None,
    instructions: str | None = None,
    overlap_rate: float | None = None,
    active: bool | None = None,
    assignees: Iterable[User] | None = None,
) -> ReviewQueue:
    """Change a queue's settings; the change is an audit row like any decision."""
    before = _queue_settings(queue)
    if name is not None:
        if not name.strip():
            raise InvalidQueueSettings("a queue needs a name")
        queue.name = name.strip()[:200]
    if instructions is not None:
        queue.instructions = instructions
    if overlap_rate is not None:
        queue.overlap_rate = _check_overlap(overlap_rate)
    if active is not None:
        queue.active = active
    with transaction.atomic():
        queue.save()
        if assignees is not None:
            queue.assignees.set(list(assignees))
        after = _queue_settings(queue)
        if after != before:
            decision_record(by=by, target=queue, verdict="configure_queue", before=before, after=after)
    return queue


def review_queue_workable(*, queue: ReviewQueue, user: User) -> bool:
    """Whether the user may claim items of this queue: reviewers on active queues they are assigned to
    (every reviewer when a queue has no assignees); those who configure queues always."""
    if not user.is_authenticated or not user.has_perm("curation.review_item"):
        return False
    if user.has_perm("curation.change_reviewqueue"):
        return True
    if not queue.active:
        return False
    assigned = queue.assignees.all()
    return not assigned.exists() or assigned.filter(pk=user.pk).exists()


def review_queue_check_workable(*, queue: ReviewQueue, user: User) -> None:
    """Raise QueueClosed, saying why, unless the user may work this queue."""
    if not review_queue_workable(queue=queue, user=user):
        reason = "is closed" if not queue.active else "is assigned to other reviewers"
        raise QueueClosed(f"the queue '{queue.name}' {reason}")


# --- items ------------------------------------------------------------------------------------------


def review_items_enqueue(
    *, queue: ReviewQueue, entries: Iterable[ItemEntry], seed: int = 0, count_created: bool = True
) -> int | None:
    """Add targets to a queue (round 1, plus round 2 for the overlap share), skipping ones already in it.

    Which targets get a second review is fixed by (seed, queue, target), so refilling is idempotent.
    Returns how many items were created (None with count_created=False, which spares two counts).
    """
    kind = kind_get(queue.kind)
    target_type = ContentType.objects.get_for_model(kind.model)
    before = queue.items.count() if count_created else 0
    batch: list[ItemEntry] = []
    for entry in entries:
        batch.append(entry)
        if len(batch) >= ENQUEUE_BATCH_SIZE:
            _enqueue_batch(queue, target_type, batch, seed)
            batch = []
    if batch:
        _enqueue_batch(queue, target_type, batch, seed)
    return queue.items.count() - before if count_created else None


def _enqueue_batch(queue: ReviewQueue, target_type: ContentType, batch: list[ItemEntry], seed: int) -> None:
    items = []
    second = []
    for entry in batch:
        common = {
            "queue": queue,
            "kind": queue.kind,
            "subset_id": queue.subset_id,
            "target_type": target_type,
            "target_id": str(entry.target_id),
            "priority": entry.priority,
            "score": entry.score,
            "attributes": entry.attributes,
        }
        items.append(ReviewItem(round=1, state=ReviewItem.State.QUEUED, **common))
        if queue.overlap_rate > 0 and unit_hash(seed, "overlap", queue.pk, entry.target_id) < queue.overlap_rate:
            second.append(str(entry.target_id))
            items.append(ReviewItem(round=2, state=ReviewItem.State.WAITING, **common))
    with transaction.atomic():
        ReviewItem.objects.bulk_create(items, ignore_conflicts=True)
        if second:
            # A target whose round 1 was decided before this fill can be reviewed a second time now.
            decided = ReviewItem.objects.filter(
                queue=queue, target_type=target_type, target_id__in=second, round=1, state=ReviewItem.State.DECIDED
            ).values_list("target_id", "decided_by_id")
            for target_id, decided_by in decided:
                ReviewItem.objects.filter(
                    queue=queue, target_type=target_type, target_id=target_id, round=2, state=ReviewItem.State.WAITING
                ).update(state=ReviewItem.State.QUEUED, excluded_reviewer_id=decided_by)


def _lock_item(item_id: int) -> ReviewItem:
    try:
        return ReviewItem.objects.select_for_update(of=("self",)).select_related("queue").get(pk=item_id)
    except ReviewItem.DoesNotExist as exc:
        raise ItemGone(f"review item {item_id} no longer exists") from exc


def _check_may_decide(item: ReviewItem, user: User, mode: str) -> None:
    if mode == DecideMode.REVISE:
        if item.state != ReviewItem.State.DECIDED or item.decided_by_id != user.pk:
            raise ItemNotYours("only the reviewer who decided an item can change the decision")
        if item.bulk_job_id is not None:
            raise ItemNotYours("a curator has decided this item since, with a bulk decision")
        return
    if item.state == ReviewItem.State.CLAIMED and item.assignee_id == user.pk:
        return
    free = item.state == ReviewItem.State.QUEUED and item.excluded_reviewer_id != user.pk
    if free:  # the lease lapsed and the item went back, but nobody took it: the work is not lost
        return
    if item.state == ReviewItem.State.DECIDED and item.decided_by_id == user.pk:
        raise AlreadyDecided("you have already decided this item; go back to it to change the decision")
    raise ItemNotYours("this item is no longer yours: its lease expired and it went to another reviewer")


def review_decide(
    *, item_id: int, user: User, data: Mapping[str, Any], mode: str = DecideMode.DECIDE
) -> ReviewItem:
    """Decide (or, with mode=revise, re-decide) one item: validate the kind's form, apply its effect in
    round 1, append the audit rows, close the item, and release its round-2 copy if there is one."""
    with transaction.atomic():
        item = _lock_item(item_id)
        review_queue_check_workable(queue=item.queue, user=user)
        _check_may_decide(item, user, mode)
        kind = kind_get(item.kind)
        target = _lock_target(kind, item)
        form = kind.form(data, target=target, allow_revisions=item.round == 1)
        if not form.is_valid():
            raise InvalidDecision(form)
        cleaned = form.cleaned_data
        rows = _decision_rows(kind, item, target, user, cleaned)
        Decision.objects.bulk_create(rows)
        first = item.state != ReviewItem.State.DECIDED
        now = timezone.now()
        item.state = ReviewItem.State.DECIDED
        item.verdict = cleaned["verdict"]
        item.decided_by = user
        item.lease_expires_at = None
        if first:
            item.decided_at = now
        item.save(update_fields=["state", "verdict", "decided_by", "lease_expires_at", "decided_at"])
        if first and item.round == 1:
            ReviewItem.objects.filter(
                queue_id=item.queue_id,
                target_type_id=item.target_type_id,
                target_id=item.target_id,
                round=2,
                state=ReviewItem.State.WAITING,
            ).update(state=ReviewItem.State.QUEUED, excluded_reviewer=user)
    return item


def _lock_target(kind: ReviewKind, item: ReviewItem):
    try:
        return kind.model._default_manager.select_for_update().get(pk=item.target_id)
    except ObjectDoesNotExist as exc:
        raise ItemGone(f"the {item.kind} this item is about (#{item.target_id}) no longer exists") from exc


def _decision_rows(kind: ReviewKind, item: ReviewItem, target: Any, user: User, cleaned: dict[str, Any]) -> list[Decision]:
    verdict, reason, note = cleaned["verdict"], cleaned.get("reason", ""), cleaned.get("note", "")
    # get_for_id is cached; item.target_type would cost a query per decision.
    target_type = ContentType.objects.get_for_id(item.target_type_id)

    def row(verdict: str, reason: str, before: Any, after: Any, note: str = "") -> Decision:
        return decision_record(
            by=user, target=(target_type, item.target_id), item=item,
            verdict=verdict, reason=reason, note=note, before=before, after=after, save=False,
        )

    rows = []
    if item.round == 1:
        result = kind.apply(target=target, verdict=verdict, data=cleaned, actor=user)
        rows = [row(change.verdict, change.reason, change.before, change.after) for change in result.revisions]
        before, after = result.before, result.after
    else:
        # The overlap round measures agreement; the target keeps the round-1 decision.
        before = {"round": 2, "verdict": item.verdict or None}
        after = {"round": 2, "verdict": verdict}
    rows.append(row(verdict, reason, before, after, note))
    return rows
