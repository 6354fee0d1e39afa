"""Claims on review items: who holds which item, until when, and giving items back.

Two reviewers never hold the same item. On PostgreSQL a claim is one statement,
UPDATE ... WHERE id = (SELECT ... FOR UPDATE SKIP LOCKED LIMIT 1) RETURNING *, so concurrent
claims pass each other instead of queueing on the same row; elsewhere (SQLite) it is a
compare-and-set UPDATE guarded by the state read, retried on a lost race. A claim lapses after
settings.FINECURATE_REVIEW_LEASE_SECONDS: lapsed claims are claimable at once, and
review_release_expired (a beat task) returns them to their queues.
"""
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from curation.models import ReviewItem, ReviewQueue
from curation.services.review import review_queue_check_workable

RELEASE_BATCH_SIZE = 1_000
# Without SKIP LOCKED a claim tries this many candidates per round before looking again.
CAS_CANDIDATES = 8
CAS_ROUNDS = 5
FRESH, LAPSED = "fresh", "lapsed"
_ORDER = {FRESH: "priority DESC, id", LAPSED: "lease_expires_at, id"}


def lease_seconds() -> int:
    return int(settings.FINECURATE_REVIEW_LEASE_SECONDS)


def review_claims_held(*, queue: ReviewQueue, user: User) -> list[ReviewItem]:
    return list(
        ReviewItem.objects.filter(queue=queue, assignee=user, state=ReviewItem.State.CLAIMED).order_by("claimed_at", "id")
    )


def review_claim_next(
    *, queue: ReviewQueue, user: User, exclude_ids: Iterable[int] = ()
) -> ReviewItem | None:
    """The next item for this user: a claim they already hold (lease renewed), else a newly claimed one.

    exclude_ids: items the caller already shows (the page's current item), so claiming ahead gets another.
    Round-2 items are never given to the reviewer excluded from them (who decided round 1).
    None when nothing is left for this user.
    """
    review_queue_check_workable(queue=queue, user=user)
    excluded = [int(i) for i in exclude_ids]
    now = timezone.now()
    lease = now + timedelta(seconds=lease_seconds())
    held = (
        ReviewItem.objects.filter(queue=queue, assignee=user, state=ReviewItem.State.CLAIMED)
        .exclude(pk__in=excluded)
        .order_by("claimed_at", "id")
        .first()
    )
    if held is not None:
        renewed = ReviewItem.objects.filter(pk=held.pk, assignee=user, state=ReviewItem.State.CLAIMED).update(
            lease_expires_at=lease
        )
        if renewed:
            held.lease_expires_at = lease
            return held
    # A lapsed claim is as free as a queued item, even before the periodic release returns it.
    for pool in (FRESH, LAPSED):
        if connection.features.has_select_for_update_skip_locked:
            item = _claim_skip_locked(pool, queue=queue, user=user, excluded=excluded, now=now, lease=lease)
        else:
            item = _claim_compare_and_set(pool, queue=queue, user=user, excluded=excluded, now=now, lease=lease)
        if item is not None:
            return item
    return None


def _claim_skip_locked(
    pool: str, *, queue: ReviewQueue, user: User, excluded: list[int], now: datetime, lease: datetime
) -> ReviewItem | None:
    # Raw SQL because the ORM cannot say UPDATE ... RETURNING; one statement in autocommit is one
    # round trip where SELECT FOR UPDATE + UPDATE inside a transaction are four.
    table = ReviewItem._meta.db_table
    lapsed = "AND lease_expires_at < %s" if pool == LAPSED else ""
    sql = f"""
        UPDATE {table} SET state = %s, assignee_id = %s, lease_expires_at = %s, claimed_at = %s
        WHERE id = (
            SELECT id FROM {table}
            WHERE queue_id = %s AND state = %s {lapsed}
              AND (excluded_reviewer_id IS NULL OR excluded_reviewer_id <> %s)
              AND NOT (id = ANY(%s::bigint[]))
            ORDER BY {_ORDER[pool]}
            LIMIT 1
            FOR UPDATE SKIP LOCKED
        )
        RETURNING *
    """  # noqa: S608 (table, condition and order are constants of this module; values are parameters)
    state = ReviewItem.State.QUEUED if pool == FRESH else ReviewItem.State.CLAIMED
    params: list[Any] = [ReviewItem.State.CLAIMED, user.pk, lease, now, queue.pk, state]
    if pool == LAPSED:
        params.append(now)
    params += [user.pk, excluded]
    claimed = list(ReviewItem.objects.raw(sql, params))
    return claimed[0] if claimed else None


def _claim_compare_and_set(
    pool: str, *, queue: ReviewQueue, user: User, excluded: list[int], now: datetime, lease: datetime
) -> ReviewItem | None:
    candidates = ReviewItem.objects.filter(queue=queue).exclude(excluded_reviewer=user).exclude(pk__in=excluded)
    if pool == FRESH:
        candidates = candidates.filter(state=ReviewItem.State.QUEUED).order_by("-priority", "id")
    else:
        candidates = candidates.filter(state=ReviewItem.State.CLAIMED, lease_expires_at__lt=now).order_by("lease_expires_at", "id")
    fields = {"state": ReviewItem.State.CLAIMED, "assignee": user, "lease_expires_at": lease, "claimed_at": now}
    for _ in range(CAS_ROUNDS):
        rows = list(candidates.values_list("pk", "state", "lease_expires_at")[:CAS_CANDIDATES])
        if not rows:
            return None
        for pk, state, expires in rows:
            # The UPDATE only succeeds while the row is still in the state we read it in.
            with transaction.atomic():
                if ReviewItem.objects.filter(pk=pk, state=state, lease_expires_at=expires).update(**fields) == 1:
                    return ReviewItem.objects.get(pk=pk)
    return None


def review_lease_renew(*, item_id: int, user: User) -> bool:
    """A fresh lease on a claim the user still holds (the item a page is about to show)."""
    lease = timezone.now() + timedelta(seconds=lease_seconds())
    return bool(
        ReviewItem.objects.filter(pk=item_id, assignee=user, state=ReviewItem.State.CLAIMED).update(lease_expires_at=lease)
    )


def review_release(*, item_id: int, user: User, deprioritize: bool = False) -> bool:
    """Give a claimed item back to the queue; deprioritize (a skip) puts it behind the others."""
    fields: dict[str, Any] = {"state": ReviewItem.State.QUEUED, "assignee": None, "lease_expires_at": None, "claimed_at": None}
    if deprioritize:
        fields["priority"] = F("priority") - 1
    return bool(ReviewItem.objects.filter(pk=item_id, assignee=user, state=ReviewItem.State.CLAIMED).update(**fields))


def review_release_mine(*, queue: ReviewQueue, user: User) -> int:
    return ReviewItem.objects.filter(queue=queue, assignee=user, state=ReviewItem.State.CLAIMED).update(
        state=ReviewItem.State.QUEUED, assignee=None, lease_expires_at=None, claimed_at=None
    )


def review_release_expired(*, now: datetime | None = None) -> int:
    """Return every lapsed claim to its queue, in batches; returns how many."""
    now = now or timezone.now()
    lapsed = Q(state=ReviewItem.State.CLAIMED, lease_expires_at__lt=now)
    released = 0
    while True:
        ids = list(ReviewItem.objects.filter(lapsed).values_list("pk", flat=True)[:RELEASE_BATCH_SIZE])
        if not ids:
            return released
        # The state test is repeated in the UPDATE: a decision that won the row lock meanwhile stays.
        released += ReviewItem.objects.filter(lapsed, pk__in=ids).update(
            state=ReviewItem.State.QUEUED, assignee=None, lease_expires_at=None, claimed_at=None
        )
