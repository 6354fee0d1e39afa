"""Waiting for a Job that a real worker runs: poll its row until it finishes."""
import time

from curation.models import Job


def job_wait_finished(job: Job, seconds: float = 30) -> Job:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_finished:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job.pk} still {job.state} after {seconds}s")
