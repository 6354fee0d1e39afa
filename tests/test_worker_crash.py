"""A worker killed with SIGKILL mid-ingest: its job shows as stalled, is retried (same id) on another worker and
finishes with every row once (issue 13 item 6, issue 8's jobs bullet). Real worker processes, real broker."""
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from curation.models import Job, JobAttempt, SourceRow
from curation.services.jobs import job_retry, job_status_text
from curation.services.sources import source_ingest_start, source_register

ROWS = 100_000


def _worker(tmp_path: Path, name: str) -> subprocess.Popen:
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
        "FINECURATE_DATA_ROOTS": str(tmp_path),
        "FINECURATE_MEDIA_ROOT": str(tmp_path / "media"),
        "FINECURATE_JOB_HEARTBEAT_SECONDS": "0.3",
        "FINECURATE_JOB_STALL_SECONDS": "2",
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
    }
    log = (tmp_path / f"{name}.log").open("w")
    return subprocess.Popen(  # noqa: S603 (our own interpreter running celery)
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-Q", "io", "-n", f"{name}@%h",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )


def _stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)


@pytest.mark.worker
def test_a_worker_killed_mid_ingest_leaves_a_stalled_job_that_a_retry_finishes_with_every_row_once(
    transactional_db, tmp_path, settings, broker
):
    # broker: the app's queues are empty before the workers start and purged after they are gone.
    settings.FINECURATE_JOB_STALL_SECONDS = 2
    path = tmp_path / "big.jsonl"
    with path.open("w") as handle:
        for n in range(ROWS):
            handle.write(json.dumps({"id": n, "question": f"What is {n}?", "answer": str(n)}) + "\n")
    source = source_register(name="big", location=str(path))
    job = source_ingest_start(source=source)

    # Two workers start at once (a worker's start is the slow part); whichever claims the ingest is killed.
    workers = [_worker(tmp_path, "first"), _worker(tmp_path, "second")]
    try:
        deadline = time.monotonic() + 25
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.state == Job.State.RUNNING and 0 < job.done < ROWS:
                break
            time.sleep(0.02)
        assert job.state == Job.State.RUNNING and job.done < ROWS, f"the ingest was not caught midway ({job.done})"
        pid = int(JobAttempt.objects.get(job=job, number=1).worker.rsplit(" ", 1)[1])
        dying = next(w for w in workers if w.pid == pid)
        os.killpg(dying.pid, signal.SIGKILL)  # kill -9: no cleanup, no ack
        dying.wait(timeout=10)
        written_before_crash = SourceRow.objects.filter(source=source).count()
        assert written_before_crash < ROWS

        time.sleep(2.2)
        job.refresh_from_db()
        assert job.state == Job.State.RUNNING and job.is_stalled
        assert "no heartbeat for" in job_status_text(job) and job_status_text(job).endswith("retry or cancel it")

        job_retry(job=job)  # the other worker takes it
        deadline = time.monotonic() + 25
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.is_finished:
                break
            time.sleep(0.1)
    finally:
        for worker in workers:
            _stop(worker)
    assert job.state == Job.State.SUCCEEDED, (job.state, job.done, job.message, job.attempts)
    assert job.attempts == 2 and job.done == ROWS
    rows = SourceRow.objects.filter(source=source)
    assert rows.count() == ROWS and rows.values("row_number").distinct().count() == ROWS
    assert rows.get(row_number=ROWS - 1).data == {"id": ROWS - 1, "question": f"What is {ROWS - 1}?", "answer": str(ROWS - 1)}
    outcomes = list(JobAttempt.objects.filter(job=job).order_by("number").values_list("outcome", flat=True))
    assert outcomes == ["lost", "succeeded"]
