"""A real worker for a test, and waiting for a Job it runs: poll its row until it finishes."""
import time
from collections.abc import Iterator
from contextlib import contextmanager

from curation.models import Job


def job_wait_finished(job: Job, seconds: float = 30) -> Job:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_finished:
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job.pk} still {job.state} after {seconds}s")


@contextmanager
def real_worker(*, purge: bool = True) -> Iterator[object]:
    """A real Celery worker (threads of this process) on every queue of the real broker, for as long as the block runs.

    The celery_worker_real fixture is this for a whole test. A test that must see a job queued first starts it
    later with purge=False (the queued task is the one it waits for) after broker_purge() at its start.
    Tests using it need committed data (transactional_db).
    """
    from celery.contrib.testing.worker import start_worker

    from config.celery import app

    if purge:
        app.control.purge()
    with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False, loglevel="WARNING",
                      queues=["cpu", "gpu", "io"], shutdown_timeout=30) as worker:
        yield worker


def broker_purge() -> None:
    """Drop tasks other tests left on the broker, before this test queues its own."""
    from config.celery import app

    app.control.purge()
