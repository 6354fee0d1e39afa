"""Deciding review items: one audit row per decision, revisions as new rows, rounds, leases."""
from datetime import timedelta

import pytest
from django.utils import timezone

from curation.models import Decision, ReviewItem, Sample
from curation.services.review import AlreadyDecided, InvalidDecision, ItemNotYours, review_decide
from curation.services.review_claims import review_claim_next, review_release_expired
from tests.curation.review.builders import item_of, sample_queue_make

pytestmark = pytest.mark.django_db


def test_accept_closes_the_item_sets_the_sample_and_writes_one_audit_row(reviewer):
    queue, _ = sample_queue_make(count=2)
    item = review_claim_next(queue=queue, user=reviewer)
    review_decide(item_id=item.pk, user=reviewer, data={"verdict": "accept", "note": "clear"})
    item.refresh_from_db()
    assert (item.state, item.verdict, item.decided_by) == ("decided", "accept", reviewer)
    assert item.lease_expires_at is None
    assert Sample.objects.get(pk=item.target_id).status == "accepted"
    row = Decision.objects.get(item=item)
    assert (row.actor, row.verdict, row.note) == (reviewer, "accept", "clear")
    assert row.before == {"status": "pending", "reject_reason": ""}
    assert row.after == {"status": "accepted", "reject_reason": ""}


def test_reject_without_a_reason_changes_nothing(reviewer):
    queue, _ = sample_queue_make(count=1)
    item = review_claim_next(queue=queue, user=reviewer)
    with pytest.raises(InvalidDecision) as error:
        review_decide(item_id=item.pk, user=reviewer, data={"verdict": "reject"})
    assert "reason" in error.value.errors
    item.refresh_from_db()
    assert item.state == "claimed" and not Decision.objects.filter(item=item).exists()


def test_changing_a_decision_appends_a_row_and_never_overwrites(reviewer):
    queue, _ = sample_queue_make(count=1)
    item = review_claim_next(queue=queue, user=reviewer)
    review_decide(item_id=item.pk, user=reviewer, data={"verdict": "accept"})
    first_decided_at = ReviewItem.objects.get(pk=item.pk).decided_at
    with pytest.raises(AlreadyDecided):
        review_decide(item_id=item.pk, user=reviewer, data={"verdict": "accept"})
    review_decide(item_id=item.pk, user=reviewer, data={"verdict": "reject", "reason": "wrong_answer"}, mode="revise")
    rows = list(Decision.objects.filter(item=item).order_by("id"))
    assert [r.verdict for r in rows] == ["accept", "reject"]
    assert rows[1].before == {"status": "accepted", "reject_reason": ""}
    item.refresh_from_db()
    assert item.verdict == "reject" and item.decided_at == first_decided_at
    assert Sample.objects.get(pk=item.target_id).reject_reason == "wrong_answer"


def test_only_the_reviewer_who_decided_can_revise(reviewer, second_reviewer):
    queue, _ = sample_queue_make(count=1)
    item = review_claim_next(queue=queue, user=reviewer)
    review_decide(item_id=item.pk, user=reviewer, data={"verdict": "accept"})
    with pytest.raises(ItemNotYours):
        review_decide(item_id=item.pk, user=second_reviewer, data={"verdict": "accept"}, mode="revise")


def test_an_item_claimed_by_someone_else_cannot_be_decided(reviewer, second_reviewer):
    queue, _ = sample_queue_make(count=1)
    item = review_claim_next(queue=queue, user=reviewer)
    with pytest.raises(ItemNotYours):
        review_decide(item_id=item.pk, user=second_reviewer, data={"verdict": "accept"})
    assert not Decision.objects.filter(item=item).exists()


def test_a_lapsed_claim_nobody_took_can_still_be_decided(reviewer):
    queue, _ = sample_queue_make(count=1)
    item = review_claim_next(queue=queue, user=reviewer)
    ReviewItem.objects.filter(pk=item.pk).update(lease_expires_at=timezone.now() - timedelta(minutes=1))
    review_release_expired()
    review_decide(item_id=item.pk, user=reviewer, data={"verdict": "accept"})
    assert ReviewItem.objects.get(pk=item.pk).state == "decided"


def test_a_lapsed_claim_taken_by_another_reviewer_is_theirs(reviewer, second_reviewer):
    queue, _ = sample_queue_make(count=1)
    item = review_claim_next(queue=queue, user=reviewer)
    ReviewItem.objects.filter(pk=item.pk).update(lease_expires_at=timezone.now() - timedelta(minutes=1))
    assert review_claim_next(queue=queue, user=second_reviewer).pk == item.pk
    with pytest.raises(ItemNotYours, match="another reviewer"):
        review_decide(item_id=item.pk, user=reviewer, data={"verdict": "accept"})
    review_decide(item_id=item.pk, user=second_reviewer, data={"verdict": "accept"})


def test_edit_writes_a_row_per_edited_turn_then_the_decision(reviewer):
    queue, samples = sample_queue_make(count=1)
    item = review_claim_next(queue=queue, user=reviewer)
    mapped = samples[0].turns
    review_decide(
        item_id=item.pk,
        user=reviewer,
        data={"verdict": "edit", "turn_0_assistant": "A red square.", "turn_1_user": "What colour is it?"},
    )
    rows = list(Decision.objects.filter(item=item).order_by("id"))
    assert [r.verdict for r in rows] == ["edit_turn", "edit_turn", "edit"]
    assert rows[0].before["assistant"] == mapped[0]["assistant"] and rows[0].after["assistant"] == "A red square."
    sample = Sample.objects.get(pk=item.target_id)
    assert sample.original_turns == mapped and sample.status == "accepted"


def test_round_two_waits_for_round_one_and_never_goes_to_its_reviewer(reviewer, second_reviewer):
    queue, samples = sample_queue_make(count=1, overlap=1.0)
    first, second = item_of(samples[0], 1), item_of(samples[0], 2)
    assert second.state == "waiting"
    claimed = review_claim_next(queue=queue, user=reviewer)
    assert claimed.pk == first.pk
    assert review_claim_next(queue=queue, user=second_reviewer) is None  # round 2 still waits
    review_decide(item_id=first.pk, user=reviewer, data={"verdict": "accept"})
    second.refresh_from_db()
    assert second.state == "queued" and second.excluded_reviewer == reviewer
    assert review_claim_next(queue=queue, user=reviewer) is None
    assert review_claim_next(queue=queue, user=second_reviewer).pk == second.pk


def test_round_two_records_a_verdict_but_leaves_the_target_alone(reviewer, second_reviewer):
    queue, samples = sample_queue_make(count=1, overlap=1.0)
    first = review_claim_next(queue=queue, user=reviewer)
    review_decide(item_id=first.pk, user=reviewer, data={"verdict": "accept"})
    second = review_claim_next(queue=queue, user=second_reviewer)
    review_decide(item_id=second.pk, user=second_reviewer, data={"verdict": "reject", "reason": "harmful"})
    assert Sample.objects.get(pk=samples[0].pk).status == "accepted"
    row = Decision.objects.get(item=second)
    assert row.verdict == "reject" and row.reason == "harmful"
    assert row.after == {"round": 2, "verdict": "reject"}
    with pytest.raises(InvalidDecision):
        review_decide(item_id=second.pk, user=second_reviewer, data={"verdict": "edit", "turn_0_user": "x"}, mode="revise")
