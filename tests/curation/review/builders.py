"""Builders for review tests: a subset of real samples (stored images) and its queue, filled."""
from typing import Any

from curation.models import ReviewItem, ReviewQueue, Sample
from curation.services.review import review_decide, review_queue_create
from curation.services.review_claims import review_claim_next
from curation.services.review_fill import review_queue_fill
from tests.factories import image_make, sample_make, source_make, subset_make


def samples_make(*, count: int = 4, images: int = 1, subset: Any = None, **extra: Any) -> list[Sample]:
    subset = subset or subset_make()
    source = source_make()
    return [
        sample_make(
            subset=subset,
            source=source,
            images=[image_make() for _ in range(images)],
            turns=[
                {"user": f"Question {i} about the picture?", "assistant": f"Answer {i}."},
                {"user": "And the colour?", "assistant": "Red."},
            ],
            **extra,
        )
        for i in range(count)
    ]


def sample_queue_make(
    *, count: int = 4, overlap: float = 0.0, images: int = 1, by: Any = None, seed: int = 0
) -> tuple[ReviewQueue, list[Sample]]:
    """A sample queue over a fresh subset of `count` samples, every sample queued."""
    samples = samples_make(count=count, images=images)
    queue = review_queue_create(kind=ReviewQueue.Kind.SAMPLE, subset=samples[0].subset, overlap_rate=overlap, by=by)
    review_queue_fill(queue=queue, seed=seed)
    return queue, samples


def item_of(sample: Sample, round: int = 1) -> ReviewItem:
    return ReviewItem.objects.get(target_id=str(sample.pk), round=round)


def spot_check_pass(*, subset: Any, reviewer: Any) -> ReviewQueue:
    """A spot-check of every sample of the subset, each accepted by `reviewer` through the review services."""
    queue = ReviewQueue.objects.filter(kind="sample", subset=subset).first() or review_queue_create(
        kind="sample", subset=subset, by=None
    )
    review_queue_fill(queue=queue, seed=0)
    while (item := review_claim_next(queue=queue, user=reviewer)) is not None:
        review_decide(item_id=item.pk, user=reviewer, data={"verdict": "accept"})
    return queue
