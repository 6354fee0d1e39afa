"""Filling a subset's review queue: every target of the subset, or a seeded random share of it."""
from typing import Any

from django.contrib.auth.models import User

from curation.models import Job, ReviewQueue, Subset
from curation.review.kinds import kind_get
from curation.seeded import unit_hash
from curation.services import job_kinds
from curation.services.jobs import job_create, job_enqueue, job_progress
from curation.services.review import (
    ENQUEUE_BATCH_SIZE,
    InvalidQueueSettings,
    ItemEntry,
    review_items_enqueue,
    review_queue_configure,
    review_queue_for,
)

# Targets are read by primary key in pages of this many (keyset pagination, no OFFSET).
FILL_SCAN_SIZE = 5 * ENQUEUE_BATCH_SIZE


def _check_fraction(fraction: Any) -> float:
    try:
        value = float(fraction)
    except (TypeError, ValueError) as exc:
        raise InvalidQueueSettings(f"fraction {fraction!r} is not a number") from exc
    if not 0.0 < value <= 1.0:
        raise InvalidQueueSettings(f"fraction {value} must be above 0 and at most 1 (e.g. 0.02 for a 2% spot check)")
    return value


def review_queue_fill(*, queue: ReviewQueue, fraction: float = 1.0, seed: int = 0, job: Job | None = None) -> dict[str, int]:
    """Put the subset's targets (all, or the share `fraction` picked by `seed`) in the queue.

    A target is picked when hash(seed, target) < fraction, so the same seed picks the same targets,
    and a larger fraction with the same seed picks a superset. Targets already queued are skipped.
    """
    fraction = _check_fraction(fraction)
    kind = kind_get(queue.kind)
    if queue.subset is None or kind.subset_targets is None:
        raise InvalidQueueSettings(f"the queue '{queue.name}' is not one a subset can fill")
    targets = kind.subset_targets(queue.subset)
    total = targets.count()
    if job is not None:
        job_progress(job=job, done=0, total=total)
    before = queue.items.count()
    scanned = picked = 0
    last_pk = None
    while True:
        page = targets.order_by("pk")
        if last_pk is not None:
            page = page.filter(pk__gt=last_pk)
        ids = list(page.values_list("pk", flat=True)[:FILL_SCAN_SIZE])
        if not ids:
            break
        last_pk = ids[-1]
        chosen = [pk for pk in ids if fraction >= 1.0 or unit_hash(seed, "fill", pk) < fraction]
        picked += len(chosen)
        if chosen:
            facts = kind.facts(targets.filter(pk__in=chosen)) if kind.facts is not None else {}
            entries = []
            for pk in chosen:
                score, attributes = facts.get(str(pk), (None, {}))
                entries.append(ItemEntry(target_id=pk, score=score, attributes=attributes))
            review_items_enqueue(queue=queue, entries=entries, seed=seed, count_created=False)
        scanned += len(ids)
        if job is not None:
            job_progress(job=job, done=scanned)
    queue.fill_fraction = fraction
    queue.fill_seed = seed
    queue.save(update_fields=["fill_fraction", "fill_seed"])
    return {"targets": total, "picked": picked, "created": queue.items.count() - before}


def review_fill_start(
    *,
    kind: str,
    subset: Subset,
    fraction: float = 1.0,
    seed: int = 0,
    overlap_rate: float | None = None,
    by: User | None,
    enqueue: bool = True,
) -> Job:
    """Create (or reuse) the subset's queue of this kind and fill it in a Job, sent to a worker unless enqueue=False
    (a command runs the task body in its own process)."""
    fraction = _check_fraction(fraction)
    queue = review_queue_for(kind=kind, subset=subset, by=by)
    if overlap_rate is not None:
        review_queue_configure(queue=queue, by=by, overlap_rate=overlap_rate)
    job = job_create(
        kind=job_kinds.QUEUE_FILL.key,
        target=queue,
        params={"fraction": fraction, "seed": int(seed)},
        created_by=by,
        total=subset.sample_count or None,
    )
    return job_enqueue(job=job) if enqueue else job
