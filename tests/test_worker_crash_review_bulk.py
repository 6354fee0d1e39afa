"""A worker killed with SIGKILL in the middle of a bulk decision: the job shows as stalled, a retry on the other
worker decides every item once with one audit row each, and the result equals an uncrashed run (issue 13 item 6)."""
import pytest
from django.core.management import call_command

from curation.models import Decision, Job, JobAttempt, ReviewItem, Sample
from curation.services import job_kinds
from curation.services.jobs import job_create, job_run_here
from curation.services.review import review_queue_create
from curation.services.review_bulk import ItemFilter, review_bulk_start
from curation.services.review_fill import review_queue_fill
from tests.factories import mapping_make, source_make, subset_make
from tests.jobs import broker_purge, job_wait_finished
from tests.workers import crash_workers

ITEMS = 5_000


def _queue(name: str):  # type: ignore[no-untyped-def]
    """A subset of ITEMS text samples in a sample queue with every item also waiting for a second review."""
    subset = subset_make(name=name)
    source = source_make()
    mapping = mapping_make(source=source, subset=subset)
    Sample.objects.bulk_create(
        [Sample(subset=subset, source=source, mapping=mapping, row_number=n,
                turns=[{"user": f"Question {n}?", "assistant": f"Answer {n}."}]) for n in range(ITEMS)],
        batch_size=5_000,
    )
    queue = review_queue_create(kind="sample", subset=subset, overlap_rate=1.0, by=None)
    review_queue_fill(queue=queue)
    return queue


def _outcome(queue, job: Job) -> list[tuple]:  # type: ignore[no-untyped-def]
    """Per sample (by row): its status, its round-1 item's state and verdict, and its audit rows' contents."""
    decisions: dict[str, list[tuple]] = {}
    for target_id, verdict, reason, before, after in Decision.objects.filter(job=job).order_by("pk").values_list(
        "target_id", "verdict", "reason", "before", "after"
    ):
        decisions.setdefault(target_id, []).append((verdict, reason, before, after))
    items = {i.target_id: i for i in ReviewItem.objects.filter(queue=queue)}
    rows = []
    for sample in Sample.objects.filter(subset=queue.subset).order_by("row_number"):
        item = items[str(sample.pk)]
        rows.append((sample.row_number, sample.status, sample.reject_reason, item.round, item.state, item.verdict,
                     item.bulk_job_id == job.pk, decisions.get(str(sample.pk), [])))
    return rows


@pytest.mark.worker
def test_a_worker_killed_mid_bulk_decision_leaves_a_stalled_job_that_a_retry_finishes_deciding_each_item_once(
    transactional_db, tmp_path, settings, curator, capsys
):

    broker_purge()
    queue = _queue("crash-bulk")
    twin = _queue("crash-bulk-twin")
    job = review_bulk_start(item_filter=ItemFilter(kind="sample", queue_id=queue.pk), verdict="reject",
                            reason="formatting", note="crash test", confirmed_count=ITEMS, by=curator)

    with crash_workers(tmp_path, settings, queues=[job_kinds.BULK_DECIDE.queue]) as crash:
        crash.catch_midway(lambda: Job.objects.get(pk=job.pk))
        crash.kill_claimer(job)
        decided = Decision.objects.filter(job=job).count()
        assert 0 < decided < ITEMS and ReviewItem.objects.filter(bulk_job=job).count() == decided

        crash.wait_stalled(job)
        capsys.readouterr()
        call_command("job", "show", str(job.pk))
        assert "no heartbeat for" in capsys.readouterr().out
        call_command("job", "retry", str(job.pk))
        job_wait_finished(job, 40)
        crash.report("bulk_decide")
    assert job.state == Job.State.SUCCEEDED, (job.state, job.done, job.message, job.attempts)
    assert job.attempts == 2 and job.done == ITEMS
    outcomes = list(JobAttempt.objects.filter(job=job).order_by("number").values_list("outcome", flat=True))
    assert outcomes == ["lost", "succeeded"]
    assert Decision.objects.filter(job=job).count() == ITEMS
    assert Decision.objects.filter(job=job).values("target_id").distinct().count() == ITEMS

    # The same decision over the twin queue, uncrashed, in this process.
    uncrashed = job_create(kind=job_kinds.BULK_DECIDE.key, created_by=curator, total=ITEMS, params={
        **job.params, "filter": ItemFilter(kind="sample", queue_id=twin.pk).to_params()})
    uncrashed = job_run_here(job=uncrashed)
    assert uncrashed.state == Job.State.SUCCEEDED
    assert job.result == uncrashed.result == {"decided": ITEMS, "second_reviews_withdrawn": ITEMS}
    assert _outcome(queue, job) == _outcome(twin, uncrashed)
