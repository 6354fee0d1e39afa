"""Subset approval: what is still open blocks it, approval and reopening are recorded decisions."""
import pytest
from django.contrib.contenttypes.models import ContentType

from curation.models import Decision, Job, Mapping, ReviewItem, ReviewQueue, Subset
from curation.services.jobs import job_create, job_succeed
from curation.services.subsets import (
    SubsetNotApprovable,
    subset_approve,
    subset_open_checks,
    subset_reopen,
    subset_stats,
)
from tests.curation.ratings.makers import ratings_make
from tests.factories import image_make, mapping_make, sample_make, source_make, subset_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def ready_subset():
    subset = subset_make(name="Ready")
    source = source_make(name="good-source")
    mapping = mapping_make(source=source, subset=subset)
    for i in range(3):
        sample_make(subset=subset, source=source, mapping=mapping, images=[image_make()], row_number=i)
    return subset


def _codes(subset):
    return [c.code for c in subset_open_checks(subset=subset)]


def test_a_subset_with_nothing_open_is_approved_and_the_decision_recorded(ready_subset, curator):
    assert _codes(ready_subset) == []

    subset = subset_approve(subset=ready_subset, by=curator)

    assert subset.status == Subset.Status.APPROVED and subset.approved_by == curator and subset.approved_at
    decision = Decision.objects.get(target_type=ContentType.objects.get_for_model(Subset), target_id=str(subset.pk))
    assert decision.verdict == "approve" and decision.actor == curator
    assert decision.after["samples"] == 3 and decision.after["by_status"]["pending"] == 3


def test_an_empty_subset_cannot_be_approved(curator):
    subset = subset_make()
    with pytest.raises(SubsetNotApprovable) as caught:
        subset_approve(subset=subset, by=curator)
    assert caught.value.code == "checks_open" and [c.code for c in caught.value.checks] == ["empty"]
    assert Subset.objects.get(pk=subset.pk).status == Subset.Status.DRAFT


def test_a_source_without_an_accepted_mapping_keeps_the_subset_open(curator):
    subset = subset_make()
    source = source_make(name="unmapped")
    sample_make(subset=subset, source=source, images=[image_make()])
    mapping_make(source=source, subset=subset, status=Mapping.Status.SUGGESTED)

    checks = subset_open_checks(subset=subset)

    assert [c.code for c in checks] == ["mapping_undecided", "mapping_not_accepted"]
    assert "unmapped" in checks[1].message and checks[1].url == f"/sources/{source.pk}/"
    with pytest.raises(SubsetNotApprovable):
        subset_approve(subset=subset, by=curator)


def test_samples_made_by_a_superseded_mapping_are_an_open_check(ready_subset):
    mapping = Mapping.objects.get(subset=ready_subset)
    Mapping.objects.filter(pk=mapping.pk).update(status=Mapping.Status.SUPERSEDED)
    newer = mapping_make(source=mapping.source, subset=ready_subset, applied=False)

    checks = subset_open_checks(subset=ready_subset)

    assert [c.code for c in checks] == ["mapping_not_applied", "samples_from_stale_mapping"]
    assert checks[0].message == f"Mapping v{newer.version} of source good-source is accepted but its samples are not built yet."
    checks = checks[1:]
    assert checks[0].count == 3 and "v1" in checks[0].message and "superseded" in checks[0].message


def test_undecided_review_items_of_the_subset_keep_it_open(ready_subset, reviewer):
    queue = ReviewQueue.objects.create(kind=ReviewQueue.Kind.DUPLICATE, subset=ready_subset, name="dups")
    sample = ready_subset.samples.first()
    sample_type = ContentType.objects.get_for_model(sample)
    item = ReviewItem.objects.create(queue=queue, kind=queue.kind, subset=ready_subset, target_type=sample_type, target_id=str(sample.pk))

    checks = subset_open_checks(subset=ready_subset)
    assert [c.code for c in checks] == ["review_items_open"]
    assert checks[0].message == "1 near-duplicate pair items are not decided yet."

    ReviewItem.objects.filter(pk=item.pk).update(state=ReviewItem.State.DECIDED, verdict="keep", decided_by=reviewer)
    assert _codes(ready_subset) == []


def test_a_running_job_on_the_subset_or_its_mapping_keeps_it_open(ready_subset):
    job = job_create(kind=Job.Kind.APPLY_MAPPING, target=Mapping.objects.get(subset=ready_subset))
    checks = subset_open_checks(subset=ready_subset)
    assert [c.code for c in checks] == ["job_running"] and checks[0].job_id == job.pk

    job_succeed(job=job)
    assert _codes(ready_subset) == []


def test_approving_twice_is_refused(ready_subset, curator):
    subset_approve(subset=ready_subset, by=curator)
    with pytest.raises(SubsetNotApprovable) as caught:
        subset_approve(subset=ready_subset, by=curator)
    assert caught.value.code == "already_approved"


def test_reopening_takes_the_subset_back_to_draft_with_the_reason(ready_subset, curator):
    subset_approve(subset=ready_subset, by=curator)

    subset = subset_reopen(subset=ready_subset, by=curator, reason="mapping drops captions")

    assert subset.status == Subset.Status.DRAFT and subset.approved_at is None and subset.approved_by is None
    decision = Decision.objects.filter(verdict="reopen").get()
    assert decision.reason == "mapping drops captions" and decision.before["status"] == "approved"
    with pytest.raises(SubsetNotApprovable) as caught:
        subset_reopen(subset=subset, by=curator)
    assert caught.value.code == "not_approved"


def test_stats_count_samples_by_state_sources_images_and_ratings(ready_subset):
    sample = ready_subset.samples.order_by("pk").first()
    type(sample).objects.filter(pk=sample.pk).update(status="accepted")
    ratings_make(sample, relevance=[4])

    stats = subset_stats(subset=ready_subset)

    assert stats.samples == 3 and stats.by_status == {"pending": 2, "accepted": 1, "rejected": 0}
    assert stats.images == 3 and stats.rated == 1
    assert stats.sources == [{"id": sample.source_id, "name": "good-source", "license": "CC BY 4.0", "samples": 3}]
