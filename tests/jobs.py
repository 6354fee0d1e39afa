"""A real worker for a test, and waiting for a Job it runs: poll its row until it finishes."""
import time
from collections.abc import Iterator
from contextlib import contextmanager

from curation.models import Job, JobAttempt
from tests.broker import app_queues, queues_purge

# After its job is finished, how long a worker may take to record the end of its attempt (running_job ends the
# attempt just after it finishes the job); a job cancelled with no worker on it has an attempt nobody ends.
ATTEMPT_END_SECONDS = 5


def job_wait_finished(job: Job, seconds: float = 30) -> Job:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        job.refresh_from_db()
        if job.is_finished:
            _attempt_end_wait(job)
            return job
        time.sleep(0.1)
    raise AssertionError(f"job {job.pk} still {job.state} after {seconds}s")


def _attempt_end_wait(job: Job) -> None:
    deadline = time.monotonic() + ATTEMPT_END_SECONDS
    while JobAttempt.objects.filter(job=job, outcome=JobAttempt.Outcome.RUNNING).exists() and time.monotonic() < deadline:
        time.sleep(0.05)


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
        broker_purge()
    with start_worker(app, pool="threads", concurrency=2, perform_ping_check=False, loglevel="WARNING",
                      queues=list(app_queues()), shutdown_timeout=30) as worker:
        yield worker
    broker_purge()  # tasks restored when the worker stopped must not reach the next test's worker


def broker_purge() -> None:
    """Drop tasks other tests left on every queue of the app (app.control.purge() empties only the default queue),
    and the broker's record of tasks handed to a worker that never acknowledged them."""
    from config.celery import app

    with app.connection_for_write() as connection:
        queues_purge(connection)
