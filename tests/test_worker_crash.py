"""A worker killed with SIGKILL mid-ingest: its job shows as stalled, is retried (same id) on another worker and
finishes with every row once (issue 13 item 6, issue 8's jobs bullet). Real worker processes, real broker."""
import json

import pytest

from curation.models import Job, JobAttempt, SourceRow
from curation.services.jobs import job_retry, job_status_text
from curation.services.sources import source_ingest_start, source_register
from tests.jobs import job_wait_finished
from tests.workers import crash_workers

ROWS = 100_000


@pytest.mark.worker
def test_a_worker_killed_mid_ingest_leaves_a_stalled_job_that_a_retry_finishes_with_every_row_once(
    transactional_db, tmp_path, settings, broker
):
    # broker: the app's queues are empty before the workers start and purged after they are gone.
    path = tmp_path / "big.jsonl"
    with path.open("w") as handle:
        for n in range(ROWS):
            handle.write(json.dumps({"id": n, "question": f"What is {n}?", "answer": str(n)}) + "\n")
    source = source_register(name="big", location=str(path))
    job = source_ingest_start(source=source)

    with crash_workers(tmp_path, settings, queues=["io"]) as crash:
        crash.catch_midway(lambda: Job.objects.get(pk=job.pk), seconds=25, total=ROWS)
        crash.kill_claimer(job)
        written_before_crash = SourceRow.objects.filter(source=source).count()
        assert written_before_crash < ROWS

        crash.wait_stalled(job)
        assert "no heartbeat for" in job_status_text(job) and job_status_text(job).endswith("retry or cancel it")

        job_retry(job=job)  # the other worker takes it
        job_wait_finished(job, 25)
        crash.report("ingest")
    assert job.state == Job.State.SUCCEEDED, (job.state, job.done, job.message, job.attempts)
    assert job.attempts == 2 and job.done == ROWS
    rows = SourceRow.objects.filter(source=source)
    assert rows.count() == ROWS and rows.values("row_number").distinct().count() == ROWS
    assert rows.get(row_number=ROWS - 1).data == {"id": ROWS - 1, "question": f"What is {ROWS - 1}?", "answer": str(ROWS - 1)}
    outcomes = list(JobAttempt.objects.filter(job=job).order_by("number").values_list("outcome", flat=True))
    assert outcomes == ["lost", "succeeded"]
