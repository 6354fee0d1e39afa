"""The one way a task runs a Job: claim it, beat while it runs, record success or a readable failure.

A thread beats the job's heartbeat every FINECURATE_JOB_HEARTBEAT_SECONDS while the body runs, so a job
whose worker died shows as stalled (services/jobs.py job_is_stalled) and a redelivered copy of a job that
still beats is refused by job_claim. A child job's end is added to its parent. Each claim is one
JobAttempt (worker, start, end, outcome), so the job page shows a retry or a redelivery for what it was.
"""
import logging
import os
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.conf import settings
from django.db import close_old_connections, connection

from curation.errors import ApplicationError
from curation.models import Job, JobAttempt
from curation.services.jobs import (
    JobCancelled,
    JobFailed,
    job_attempt_begin,
    job_attempt_end,
    job_child_finished,
    job_claim,
    job_fail,
    job_heartbeat,
    job_succeed,
)

__all__ = ["JobFailed", "running_job"]

logger = logging.getLogger(__name__)


class _Heartbeat(threading.Thread):
    def __init__(self, job: Job):
        super().__init__(name=f"heartbeat-job-{job.pk}", daemon=True)
        self.job = job
        self.stopped = threading.Event()

    def run(self) -> None:
        try:
            while not self.stopped.wait(settings.FINECURATE_JOB_HEARTBEAT_SECONDS):
                try:
                    job_heartbeat(job=self.job)
                except JobCancelled:
                    return  # the body sees the cancel at its next job_progress
                except Exception:  # a lost database connection must not kill the job; the next beat retries
                    logger.warning("heartbeat of job %s failed", self.job.pk, exc_info=True)
                    close_old_connections()
        finally:
            connection.close()


@contextmanager
def running_job(job_id: int) -> Iterator[Job | None]:
    """Yields the claimed Job, or None when it finished or another worker runs it (a redelivered message).

    The body may set job.result; it is stored on success. An ApplicationError (JobFailed among them) fails
    the job with its message; JobCancelled leaves the job cancelled; other exceptions are recorded and
    re-raised, so Celery logs them too.
    """
    job = job_claim(job_id=job_id)
    if job is None:
        logger.info("job %s finished or is running elsewhere; nothing to do", job_id)
        yield None
        return
    attempt = job_attempt_begin(job=job, worker=f"{socket.gethostname()} pid {os.getpid()}")
    outcome, message = JobAttempt.Outcome.SUCCEEDED, ""
    beat = _Heartbeat(job)
    beat.start()
    try:
        yield job
    except JobCancelled:
        logger.info("job %s was cancelled; stopped", job_id)
        outcome, message = JobAttempt.Outcome.CANCELLED, "stopped between batches: the job was cancelled"
    except ApplicationError as exc:
        job_fail(job=job, message=str(exc))
        outcome, message = JobAttempt.Outcome.FAILED, str(exc)
    except Exception as exc:
        logger.exception("job %s failed", job_id)
        outcome, message = JobAttempt.Outcome.FAILED, f"{type(exc).__name__}: {exc}"
        job_fail(job=job, message=message)
        raise
    else:
        # A job that fanned out stays running: its last child finishes it (services/jobs.py job_child_finished).
        if not Job.objects.filter(parent=job).exclude(state__in=Job.FINISHED_STATES).exists():
            job_succeed(job=job, result=job.result)
        elif job.result:
            Job.objects.filter(pk=job.pk).update(result=job.result)
    finally:
        beat.stopped.set()
        beat.join(timeout=5)
        job.refresh_from_db()
        if outcome == JobAttempt.Outcome.SUCCEEDED and job.state == Job.State.CANCELLED:
            outcome, message = JobAttempt.Outcome.CANCELLED, "cancelled while its last batch ran"
        job_attempt_end(attempt=attempt, outcome=outcome, message=message)
        if job.parent_id is not None and job.is_finished:
            job_child_finished(child=job)
