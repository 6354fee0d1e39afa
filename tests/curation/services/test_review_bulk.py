"""Bulk decisions: a filter, a confirmed count, a Job in batches writing one audit row per item."""

import pytest

from curation.models import Decision, Job, ReviewItem, Sample
from curation.services import job_kinds, review_bulk
from curation.services.jobs import job_create
from curation.services.review import review_decide
from curation.services.review_bulk import (
    CountChanged,
    InvalidBulkDecision,
    ItemFilter,
    review_bulk_count,
    review_bulk_run,
    review_bulk_start,
)
from curation.services.review_claims import review_claim_next
from tests.curation.review.builders import sample_queue_make
from tests.jobs import job_wait_finished

pytestmark = pytest.mark.django_db


def _bulk_job(item_filter: ItemFilter, curator, verdict: str = "reject", reason: str = "formatting") -> Job:
    return job_create(
        kind=job_kinds.BULK_DECIDE.key,
        params={"filter": item_filter.to_params(), "verdict": verdict, "reason": reason, "note": "rule", "confirmed": 0},
        created_by=curator,
    )


def test_filters_select_by_state_score_and_attribute(reviewer):
    queue, samples = sample_queue_make(count=4)
    ReviewItem.objects.filter(target_id=str(samples[0].pk)).update(score=1.0, attributes={"source": 7, "attribute": "colour"})
    ReviewItem.objects.filter(target_id=str(samples[1].pk)).update(score=4.0, attributes={"attribute": "count"})
    item = review_claim_next(queue=queue, user=reviewer)
    review_decide(item_id=item.pk, user=reviewer, data={"verdict": "accept"})
    base = {"kind": "sample", "queue_id": queue.pk}
    assert review_bulk_count(item_filter=ItemFilter(**base)) == 3
    assert review_bulk_count(item_filter=ItemFilter(**base, states=("decided",))) == 1
    assert review_bulk_count(item_filter=ItemFilter(**base, states=("decided",), verdict="accept")) == 1
    assert review_bulk_count(item_filter=ItemFilter(**base, states=("queued", "claimed", "decided"), score_max=2)) == 1
    assert review_bulk_count(item_filter=ItemFilter(**base, states=("queued", "claimed", "decided"), score_min=0.5)) == 2
    assert review_bulk_count(item_filter=ItemFilter(**base, states=("queued", "claimed", "decided"), attribute="attribute", attribute_value="colour")) == 1
    assert review_bulk_count(item_filter=ItemFilter(**base, states=("queued", "claimed", "decided"), attribute="source", attribute_value="7")) == 1


def test_filters_refuse_what_they_cannot_mean():
    with pytest.raises(InvalidBulkDecision, match="no review kind"):
        ItemFilter(kind="nope")
    with pytest.raises(InvalidBulkDecision, match="plain name"):
        ItemFilter(kind="sample", attribute="x__contains")
    with pytest.raises(InvalidBulkDecision, match="states"):
        ItemFilter(kind="sample", states=("lost",))
    with pytest.raises(InvalidBulkDecision, match="above"):
        ItemFilter(kind="sample", score_min=3, score_max=1)


def test_a_filter_survives_the_trip_through_job_params():
    item_filter = ItemFilter(kind="sample", subset_id=3, states=("decided",), score_min=0.5, attribute="source", attribute_value="2")
    assert ItemFilter.from_params(item_filter.to_params()) == item_filter


def test_the_start_refuses_a_count_that_changed_and_verdicts_bulk_cannot_apply(curator):
    queue, _ = sample_queue_make(count=3)
    item_filter = ItemFilter(kind="sample", queue_id=queue.pk)
    with pytest.raises(CountChanged, match="selects 3 items, not the 2"):
        review_bulk_start(item_filter=item_filter, verdict="accept", confirmed_count=2, by=curator)
    with pytest.raises(InvalidBulkDecision, match="not a verdict"):
        review_bulk_start(item_filter=item_filter, verdict="edit", confirmed_count=3, by=curator)
    with pytest.raises(InvalidBulkDecision, match="needs one of the reasons"):
        review_bulk_start(item_filter=item_filter, verdict="reject", confirmed_count=3, by=curator)
    assert not Job.objects.filter(kind=job_kinds.BULK_DECIDE.key).exists()


def test_reviewers_cannot_start_a_bulk_decision(reviewer):
    queue, _ = sample_queue_make(count=1)
    with pytest.raises(InvalidBulkDecision, match="curators"):
        review_bulk_start(item_filter=ItemFilter(kind="sample", queue_id=queue.pk), verdict="accept", confirmed_count=1, by=reviewer)


def test_the_run_decides_every_item_in_batches_with_one_audit_row_each(curator, reviewer, monkeypatch):
    monkeypatch.setattr(review_bulk, "BULK_BATCH_SIZE", 2)
    queue, samples = sample_queue_make(count=5, overlap=1.0)
    held = review_claim_next(queue=queue, user=reviewer)
    job = _bulk_job(ItemFilter(kind="sample", queue_id=queue.pk), curator)
    result = review_bulk_run(job=job)
    assert result == {"decided": 5, "second_reviews_withdrawn": 5}
    rows = Decision.objects.filter(job=job)
    assert rows.count() == 5 and set(rows.values_list("verdict", "reason", "note", "actor")) == {("reject", "formatting", "rule", curator.pk)}
    assert set(Sample.objects.filter(pk__in=[s.pk for s in samples]).values_list("status", "reject_reason")) == {("rejected", "formatting")}
    assert not queue.items.filter(round=2).exists()
    held.refresh_from_db()
    assert held.state == "decided" and held.bulk_job == job and held.decided_by == curator
    job.refresh_from_db()
    assert job.done == 5
    # The reviewer who held one of them finds it decided.
    with pytest.raises(Exception, match="no longer yours"):
        review_decide(item_id=held.pk, user=reviewer, data={"verdict": "accept"})


def test_running_the_same_job_again_decides_nothing_twice(curator):
    queue, _ = sample_queue_make(count=3)
    job = _bulk_job(ItemFilter(kind="sample", queue_id=queue.pk, states=("queued", "claimed", "decided")), curator, verdict="accept", reason="")
    review_bulk_run(job=job)
    review_bulk_run(job=job)
    assert Decision.objects.filter(job=job).count() == 3


def test_bulk_can_overrule_decided_items_and_the_trail_keeps_both(curator, reviewer):
    queue, _ = sample_queue_make(count=1)
    item = review_claim_next(queue=queue, user=reviewer)
    review_decide(item_id=item.pk, user=reviewer, data={"verdict": "accept"})
    job = _bulk_job(ItemFilter(kind="sample", queue_id=queue.pk, states=("decided",), verdict="accept"), curator, reason="harmful")
    review_bulk_run(job=job)
    assert list(Decision.objects.filter(item=item).order_by("id").values_list("verdict", "actor")) == [
        ("accept", reviewer.pk),
        ("reject", curator.pk),
    ]
    row = Decision.objects.get(item=item, job=job)
    assert row.before == {"status": "accepted", "reject_reason": ""}


@pytest.mark.django_db(transaction=True)
def test_a_bulk_decision_runs_as_a_job_on_a_real_worker(celery_worker_real, curator):
    queue, _ = sample_queue_make(count=4)
    item_filter = ItemFilter(kind="sample", queue_id=queue.pk)
    job = review_bulk_start(item_filter=item_filter, verdict="accept", confirmed_count=4, by=curator)
    job_wait_finished(job)
    assert job.state == Job.State.SUCCEEDED, job.message
    assert job.result == {"decided": 4, "second_reviews_withdrawn": 0} and job.done == 4
    assert Decision.objects.filter(job=job).count() == 4
