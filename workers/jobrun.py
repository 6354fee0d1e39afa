"""The one way a task runs a Job: claim it, run the service, record success or a readable failure."""
import logging
from collections.abc import Iterator
from contextlib import contextmanager

from curation.models import Job
from curation.services.jobs import JobFailed, job_claim, job_fail, job_succeed

__all__ = ["JobFailed", "running_job"]

logger = logging.getLogger(__name__)


@contextmanager
def running_job(job_id: int) -> Iterator[Job | None]:
    """Yields the claimed Job, or None when it already finished (a redelivered message).

    The body may set job.result; it is stored on success. JobFailed and any other exception fail the job
    with a message; other exceptions are re-raised after being recorded, so Celery logs them too.
    """
    job = job_claim(job_id=job_id)
    if job is None:
        logger.info("job %s already finished; nothing to do", job_id)
        yield None
        return
    try:
        yield job
    except JobFailed as exc:
        job_fail(job=job, message=str(exc))
        return
    except Exception as exc:
        logger.exception("job %s failed", job_id)
        job_fail(job=job, message=f"{type(exc).__name__}: {exc}")
        raise
    job.refresh_from_db(fields=["state"])
    if job.state == Job.State.RUNNING:
        job_succeed(job=job, result=job.result)
