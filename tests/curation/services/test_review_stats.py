"""Review figures: a subset's acceptance rate and interval, throughput per annotator, agreement."""
from datetime import timedelta

import pytest
from django.utils import timezone

from curation.models import ReviewItem
from curation.review.selectors import (
    agreement,
    queues_for_user,
    review_previous,
    subset_review_summary,
    throughput,
)
from curation.services.jobs import job_create
from curation.services.review import review_decide, review_queue_configure
from curation.services.review_claims import review_claim_next
from tests.curation.review.builders import sample_queue_make, samples_make

pytestmark = pytest.mark.django_db


def _work(queue, user, verdicts):
    for verdict in verdicts:
        item = review_claim_next(queue=queue, user=user)
        data = {"verdict": verdict, "reason": "formatting"} if verdict == "reject" else {"verdict": verdict}
        if verdict == "edit":
            data["turn_0_assistant"] = "Edited."
        review_decide(item_id=item.pk, user=user, data=data)


def test_subset_summary_reports_the_acceptance_rate_with_its_wilson_interval(reviewer):
    queue, samples = sample_queue_make(count=5)
    _work(queue, reviewer, ["accept", "edit", "reject", "accept"])
    summary = subset_review_summary(subset=samples[0].subset)
    assert summary.queue == queue
    assert summary.acceptance.successes == 3 and summary.acceptance.n == 4
    assert summary.acceptance.low == pytest.approx(0.3006, abs=1e-3)
    assert summary.acceptance.high == pytest.approx(0.9544, abs=1e-3)
    assert summary.verdicts == {"accept": 2, "edit": 1, "reject": 1}
    assert summary.reject_reasons == [("formatting", 1)]
    assert summary.progress.decided == 4 and summary.progress.total == 5


def test_subset_summary_of_a_subset_never_queued_is_empty():
    samples = samples_make(count=1, images=0)
    summary = subset_review_summary(subset=samples[0].subset)
    assert summary.queue is None and summary.acceptance.n == 0 and summary.estimated_accepted is None


def test_throughput_counts_items_per_active_hour_and_ignores_bulk(reviewer, second_reviewer, curator):
    queue, _ = sample_queue_make(count=6)
    _work(queue, reviewer, ["accept", "accept", "accept"])
    _work(queue, second_reviewer, ["accept"])
    now = timezone.now()
    # One of the reviewer's items was decided two hours earlier: two active hours.
    earliest = ReviewItem.objects.filter(decided_by=reviewer).order_by("id").first()
    ReviewItem.objects.filter(pk=earliest.pk).update(decided_at=now - timedelta(hours=2))
    job = job_create(kind="bulk_decide", created_by=curator)
    ReviewItem.objects.filter(state="queued").update(state="decided", verdict="accept", decided_by=curator, decided_at=now, bulk_job=job)
    result = throughput(since=now - timedelta(hours=24), until=now + timedelta(minutes=1))
    by_name = {a.username: a for a in result.annotators}
    assert set(by_name) == {"remy", "rita"}
    assert (by_name["remy"].decided, by_name["remy"].active_hours) == (3, 2)
    assert by_name["remy"].per_hour == 1.5
    assert sum(n for _, n in result.hourly) == 4


def test_agreement_compares_outcomes_of_both_rounds(reviewer, second_reviewer):
    queue, _ = sample_queue_make(count=4, overlap=1.0)
    _work(queue, reviewer, ["accept", "edit", "reject", "accept"])
    _work(queue, second_reviewer, ["accept", "accept", "reject", "reject"])
    report = agreement(queues=[queue])
    result = report.by_queue[queue.pk]
    # Pairs (a,a) (a,a) (r,r) (a,r): po = 3/4, pe = (3*2 + 1*2)/16 = 1/2, kappa = 0.5.
    assert result.pairs == 4 and result.observed == 0.75 and result.kappa == pytest.approx(0.5)
    assert report.by_annotator["remy"].pairs == 4 and report.overall.pairs == 4


def test_previous_walks_back_through_your_own_decisions(reviewer, second_reviewer):
    queue, _ = sample_queue_make(count=3)
    _work(queue, reviewer, ["accept", "accept"])
    _work(queue, second_reviewer, ["accept"])
    last = review_previous(queue=queue, user=reviewer)
    earlier = review_previous(queue=queue, user=reviewer, before=last)
    assert last.decided_by == reviewer and earlier.decided_by == reviewer and earlier.pk != last.pk
    assert review_previous(queue=queue, user=reviewer, before=earlier) is None


def test_queues_listed_are_those_the_user_may_work(reviewer, second_reviewer, curator):
    open_queue, _ = sample_queue_make(count=1)
    assigned, _ = sample_queue_make(count=1)
    closed, _ = sample_queue_make(count=1)
    review_queue_configure(queue=assigned, by=curator, assignees=[second_reviewer])
    review_queue_configure(queue=closed, by=curator, active=False)
    assert queues_for_user(user=reviewer) == [open_queue]
    assert set(queues_for_user(user=second_reviewer)) == {open_queue, assigned}
    assert set(queues_for_user(user=curator)) == {open_queue, assigned, closed}
