"""Subset approval: what is still open blocks it, approval and reopening are recorded decisions."""
import pytest
from django.contrib.auth.models import Group
from django.contrib.contenttypes.models import ContentType

from curation.models import ApprovalPolicy, Decision, Job, Mapping, ReviewItem, ReviewQueue, Source, Subset
from curation.services.approval import approval_evaluate, spot_check_needed
from curation.services.jobs import job_create, job_succeed
from curation.services.review import review_decide, review_queue_create
from curation.services.review_claims import review_claim_next
from curation.services.review_fill import review_queue_fill
from curation.services.subsets import (
    SubsetNotApprovable,
    subset_approve,
    subset_open_checks,
    subset_reopen,
    subset_stats,
)
from tests.curation.review.builders import spot_check_pass
from tests.factories import image_make, mapping_make, sample_make, source_make, subset_make

pytestmark = pytest.mark.django_db


@pytest.fixture
def unreviewed_subset():
    subset = subset_make(name="Ready")
    source = source_make(name="good-source")
    mapping = mapping_make(source=source, subset=subset)
    for i in range(3):
        sample_make(subset=subset, source=source, mapping=mapping, images=[image_make()], row_number=i)
    return subset


@pytest.fixture
def ready_subset(unreviewed_subset, second_reviewer):
    """Nothing open, a licence set, every sample spot-checked and accepted: it passes the default policy."""
    spot_check_pass(subset=unreviewed_subset, reviewer=second_reviewer)
    return unreviewed_subset


def _codes(subset):
    return [c.code for c in subset_open_checks(subset=subset)]


def test_a_subset_with_nothing_open_is_approved_and_the_decision_recorded(ready_subset, curator):
    assert _codes(ready_subset) == []

    subset = subset_approve(subset=ready_subset, by=curator)

    assert subset.status == Subset.Status.APPROVED and subset.approved_by == curator and subset.approved_at
    decision = Decision.objects.get(target_type=ContentType.objects.get_for_model(Subset), target_id=str(subset.pk))
    assert decision.verdict == "approve" and decision.actor == curator
    assert decision.after["samples"] == 3 and decision.after["by_status"]["accepted"] == 3


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


def test_stats_count_samples_by_state_sources_images_and_ratings(unreviewed_subset):
    sample = unreviewed_subset.samples.order_by("pk").first()
    type(sample).objects.filter(pk=sample.pk).update(status="accepted", relevance_min=4, relevance_ratings=[4])

    stats = subset_stats(subset=unreviewed_subset)

    assert stats.samples == 3 and stats.by_status == {"pending": 2, "accepted": 1, "rejected": 0}
    assert stats.images == 3 and stats.rated == 1
    assert stats.sources == [{"id": sample.source_id, "name": "good-source", "license": "CC BY 4.0", "samples": 3}]


# --- the approval policy ----------------------------------------------------------------------------------


def test_an_unreviewed_subset_is_refused_and_told_how_many_samples_are_reviewed(unreviewed_subset, curator):
    with pytest.raises(SubsetNotApprovable) as caught:
        subset_approve(subset=unreviewed_subset, by=curator)
    assert "0 of 3 samples reviewed" in str(caught.value)
    assert [state.result.key for state in caught.value.failing] == ["spot_check"]
    assert Subset.objects.get(pk=unreviewed_subset.pk).status == Subset.Status.DRAFT


def test_a_spot_check_needs_max_two_percent_and_fifty_samples():
    policy = ApprovalPolicy()
    assert spot_check_needed(samples=2_000, policy=policy) == 50
    assert spot_check_needed(samples=10_000, policy=policy) == 200
    assert spot_check_needed(samples=20, policy=policy) == 20


def test_a_spot_check_accepted_below_the_threshold_fails(unreviewed_subset, reviewer):
    queue = review_queue_create(kind="sample", subset=unreviewed_subset, by=None)
    review_queue_fill(queue=queue, seed=0)
    verdicts = iter([{"verdict": "accept"}, {"verdict": "reject", "reason": "wrong_answer"}, {"verdict": "accept"}])
    while (item := review_claim_next(queue=queue, user=reviewer)) is not None:
        review_decide(item_id=item.pk, user=reviewer, data=next(verdicts))
    spot = next(s.result for s in approval_evaluate(subset=unreviewed_subset) if s.result.key == "spot_check")
    assert not spot.passed and "67% of the reviewed samples were accepted" in spot.message
    assert "3 of 3 reviewed, 67% accepted (95% CI" in spot.figure


def test_a_source_without_a_licence_fails_unless_marked_unknown_on_purpose(ready_subset, curator):
    source = Source.objects.get(name="good-source")
    Source.objects.filter(pk=source.pk).update(license="")
    with pytest.raises(SubsetNotApprovable, match="No licence is set for good-source"):
        subset_approve(subset=ready_subset, by=curator)
    Source.objects.filter(pk=source.pk).update(license_unknown=True)
    assert subset_approve(subset=ready_subset, by=curator).status == Subset.Status.APPROVED


def test_a_team_policy_decides_which_checks_its_subsets_need(unreviewed_subset, curator):
    team = Group.objects.create(name="ocr-team")
    ApprovalPolicy.objects.create(team=team, required_checks=["licence", "open_items"])
    Subset.objects.filter(pk=unreviewed_subset.pk).update(team=team)
    subset = subset_approve(subset=Subset.objects.get(pk=unreviewed_subset.pk), by=curator)
    assert subset.status == Subset.Status.APPROVED


def test_an_admin_approves_over_a_failing_check_with_a_reason_a_curator_cannot(unreviewed_subset, curator, admin):
    with pytest.raises(SubsetNotApprovable, match="An admin may approve over them"):
        subset_approve(subset=unreviewed_subset, by=curator, override_reason="trust me")
    with pytest.raises(SubsetNotApprovable, match="Give a reason"):
        subset_approve(subset=unreviewed_subset, by=admin, override_reason="  ")

    subset = subset_approve(subset=unreviewed_subset, by=admin, override_reason="reviewed offline by the data owner")

    assert subset.status == Subset.Status.APPROVED
    decision = Decision.objects.get(verdict="approve_override")
    assert decision.actor == admin and decision.note == "reviewed offline by the data owner"
    assert decision.after["overridden_checks"] == ["spot_check"]
