"""Filling a subset's queue: all of it or a seeded share, idempotent, with its double-review share."""

import pytest
from django.core.management import CommandError, call_command

from curation.models import Job, ReviewItem, ReviewQueue
from curation.services import job_kinds
from curation.services.review import InvalidQueueSettings, review_queue_create
from curation.services.review_fill import review_fill_start, review_queue_fill
from tests.curation.ratings.makers import ratings_make
from tests.curation.review.builders import samples_make
from tests.jobs import job_wait_finished

pytestmark = pytest.mark.django_db


def _queue(count: int, overlap: float = 0.0) -> ReviewQueue:
    samples = samples_make(count=count, images=0)
    return review_queue_create(kind="sample", subset=samples[0].subset, overlap_rate=overlap, by=None)


def _targets(queue: ReviewQueue, round: int = 1) -> set[str]:
    return set(queue.items.filter(round=round).values_list("target_id", flat=True))


def test_a_whole_subset_fill_queues_every_sample_once_even_when_run_twice():
    queue = _queue(5)
    result = review_queue_fill(queue=queue)
    assert result == {"targets": 5, "picked": 5, "created": 5}
    assert review_queue_fill(queue=queue)["created"] == 0
    assert queue.items.count() == 5
    queue.refresh_from_db()
    assert queue.fill_fraction == 1.0


def test_a_spot_check_is_fixed_by_its_seed_and_grows_as_a_superset():
    queue = _queue(60)
    small = review_queue_fill(queue=queue, fraction=0.2, seed=7)
    picked = _targets(queue)
    assert 3 <= small["picked"] <= 25 and len(picked) == small["picked"]
    other = _queue(60)
    # The same seed picks the same samples again.
    review_queue_fill(queue=other, fraction=0.2, seed=7)
    again = ReviewItem.objects.filter(queue=other).count()
    ReviewItem.objects.filter(queue=other).delete()
    review_queue_fill(queue=other, fraction=0.2, seed=7)
    assert ReviewItem.objects.filter(queue=other).count() == again
    review_queue_fill(queue=queue, fraction=0.5, seed=7)
    assert picked < _targets(queue)


def test_the_double_review_share_gets_waiting_second_items():
    queue = _queue(40, overlap=0.25)
    review_queue_fill(queue=queue)
    seconds = queue.items.filter(round=2)
    assert 3 <= seconds.count() <= 20
    assert set(seconds.values_list("state", flat=True)) == {"waiting"}
    assert _targets(queue, 2) <= _targets(queue, 1)


def test_bad_fractions_are_refused_with_a_reason():
    queue = _queue(1)
    for bad in (0, 1.5, "lots"):
        with pytest.raises(InvalidQueueSettings, match="fraction"):
            review_queue_fill(queue=queue, fraction=bad)


def test_the_fill_sample_scores_and_attributes_for_filters():
    samples = samples_make(count=2, images=2)
    ratings_make(samples[0], formatting=[4, 5], relevance=[2, 3])
    queue = review_queue_create(kind="sample", subset=samples[0].subset, by=None)
    review_queue_fill(queue=queue)
    rated = queue.items.get(target_id=str(samples[0].pk))
    assert rated.score == 2.0
    assert rated.attributes == {"source": samples[0].source_id, "images": 2, "turns": 2}
    assert queue.items.get(target_id=str(samples[1].pk)).score is None


@pytest.mark.django_db(transaction=True)
def test_the_fill_job_runs_on_a_real_worker(celery_worker_real, curator):
    samples = samples_make(count=6, images=0)
    job = review_fill_start(kind="sample", subset=samples[0].subset, fraction=1.0, seed=3, overlap_rate=0.5, by=curator)
    job_wait_finished(job)
    job.refresh_from_db()
    assert job.state == Job.State.SUCCEEDED, job.message
    assert job.result["created"] >= 6 and job.done == 6
    queue = ReviewQueue.objects.get(subset=samples[0].subset, kind="sample")
    assert queue.overlap_rate == 0.5 and queue.items.filter(round=1).count() == 6




def test_the_command_fills_a_queue_as_a_recorded_job(capsys):
    samples = samples_make(count=10, images=0)
    call_command("review_queue", samples[0].subset.name, "--kind", "sample", "--fraction", "0.5", "--seed", "1", "--overlap", "0.2")
    out = capsys.readouterr().out
    assert "targets picked" in out
    queue = ReviewQueue.objects.get(subset=samples[0].subset)
    assert queue.overlap_rate == 0.2 and queue.fill_seed == 1
    job = Job.objects.get(kind=job_kinds.QUEUE_FILL.key)
    assert job.state == Job.State.SUCCEEDED and job.result["picked"] == queue.items.filter(round=1).count()


def test_the_command_names_a_missing_subset():
    with pytest.raises(CommandError, match="no subset"):
        call_command("review_queue", "nope")


def test_the_release_command_reports_what_it_returned(capsys):
    call_command("review_release_expired")
    assert "0 lapsed claims" in capsys.readouterr().out
