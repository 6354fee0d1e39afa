"""Claiming review items: one holder per item, leases that lapse, releases, assignments, closed queues."""
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from curation.models import ReviewItem
from curation.services.review import QueueClosed, review_queue_configure
from curation.services.review_claims import (
    review_claim_next,
    review_release,
    review_release_expired,
    review_release_mine,
)
from tests.curation.review.builders import sample_queue_make

pytestmark = pytest.mark.django_db


def test_claims_follow_priority_then_age_and_set_a_lease(reviewer, settings):
    settings.FINECURATE_REVIEW_LEASE_SECONDS = 120
    queue, samples = sample_queue_make(count=3)
    ReviewItem.objects.filter(target_id=str(samples[2].pk)).update(priority=5)
    item = review_claim_next(queue=queue, user=reviewer)
    assert item.target_id == str(samples[2].pk)
    item.refresh_from_db()
    assert item.state == "claimed" and item.assignee == reviewer
    remaining = (item.lease_expires_at - timezone.now()).total_seconds()
    assert 100 < remaining <= 120


def test_two_reviewers_never_get_the_same_item(reviewer, second_reviewer):
    queue, _ = sample_queue_make(count=2)
    first = review_claim_next(queue=queue, user=reviewer)
    second = review_claim_next(queue=queue, user=second_reviewer)
    assert first.pk != second.pk
    assert review_claim_next(queue=queue, user=ReviewItem.objects.get(pk=first.pk).assignee, exclude_ids=[first.pk]) is None


def test_a_held_claim_is_returned_again_with_a_fresh_lease(reviewer):
    queue, _ = sample_queue_make(count=3)
    first = review_claim_next(queue=queue, user=reviewer)
    ReviewItem.objects.filter(pk=first.pk).update(lease_expires_at=timezone.now() + timedelta(seconds=5))
    again = review_claim_next(queue=queue, user=reviewer)
    assert again.pk == first.pk
    assert (again.lease_expires_at - timezone.now()).total_seconds() > 60
    ahead = review_claim_next(queue=queue, user=reviewer, exclude_ids=[first.pk])
    assert ahead.pk != first.pk
    assert ReviewItem.objects.filter(assignee=reviewer, state="claimed").count() == 2


def test_a_lapsed_claim_goes_to_the_next_reviewer_even_before_the_release_runs(reviewer, second_reviewer):
    queue, _ = sample_queue_make(count=1)
    item = review_claim_next(queue=queue, user=reviewer)
    assert review_claim_next(queue=queue, user=second_reviewer) is None
    ReviewItem.objects.filter(pk=item.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    taken = review_claim_next(queue=queue, user=second_reviewer)
    assert taken.pk == item.pk and taken.assignee == second_reviewer


def test_release_expired_returns_only_lapsed_claims(reviewer, second_reviewer):
    queue, _ = sample_queue_make(count=2)
    lapsed = review_claim_next(queue=queue, user=reviewer)
    live = review_claim_next(queue=queue, user=second_reviewer)
    ReviewItem.objects.filter(pk=lapsed.pk).update(lease_expires_at=timezone.now() - timedelta(minutes=1))
    assert review_release_expired() == 1
    lapsed.refresh_from_db()
    live.refresh_from_db()
    assert (lapsed.state, lapsed.assignee, lapsed.lease_expires_at) == ("queued", None, None)
    assert live.state == "claimed"


def test_release_gives_back_only_your_own_claim_and_a_skip_goes_last(reviewer, second_reviewer):
    queue, _ = sample_queue_make(count=3)
    item = review_claim_next(queue=queue, user=reviewer)
    assert not review_release(item_id=item.pk, user=second_reviewer)
    assert review_release(item_id=item.pk, user=reviewer, deprioritize=True)
    item.refresh_from_db()
    assert item.state == "queued" and item.priority == -1
    assert review_claim_next(queue=queue, user=reviewer).pk != item.pk
    assert review_release_mine(queue=queue, user=reviewer) == 1


def test_an_assigned_queue_is_closed_to_other_reviewers(reviewer, second_reviewer, curator):
    queue, _ = sample_queue_make(count=2)
    review_queue_configure(queue=queue, by=curator, assignees=[reviewer])
    assert review_claim_next(queue=queue, user=reviewer) is not None
    with pytest.raises(QueueClosed, match="assigned to other reviewers"):
        review_claim_next(queue=queue, user=second_reviewer)
    # Curators configure queues and may always look inside.
    assert review_claim_next(queue=queue, user=curator) is not None


def test_a_closed_queue_gives_nothing_to_reviewers(reviewer, curator):
    queue, _ = sample_queue_make(count=1)
    review_queue_configure(queue=queue, by=curator, active=False)
    with pytest.raises(QueueClosed, match="closed"):
        review_claim_next(queue=queue, user=reviewer)


def test_users_without_the_review_permission_cannot_claim(nobody):
    queue, _ = sample_queue_make(count=1)
    with pytest.raises(QueueClosed):
        review_claim_next(queue=queue, user=nobody)


def test_compare_and_set_claims_without_skip_locked(reviewer, second_reviewer, monkeypatch):
    """The path SQLite takes: no SELECT ... FOR UPDATE SKIP LOCKED, a guarded UPDATE instead."""
    monkeypatch.setattr(connection.features, "has_select_for_update_skip_locked", False)
    queue, _ = sample_queue_make(count=2)
    first = review_claim_next(queue=queue, user=reviewer)
    second = review_claim_next(queue=queue, user=second_reviewer)
    assert {first.assignee_id, second.assignee_id} == {reviewer.pk, second_reviewer.pk}
    assert first.pk != second.pk
    assert review_claim_next(queue=queue, user=second_reviewer, exclude_ids=[second.pk]) is None
