"""Jobs: create, enqueue after commit, claim, report progress and rejected rows, finish."""
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import F
from django.utils import timezone

from curation.models import Job, JobError
from curation.services.actors import Actor, actor_user

# Beyond this many rejected rows a job keeps counting but stops storing each one.
MAX_STORED_ERRORS = 10_000


class JobFailed(Exception):
    """A failure whose message is meant for the curator (e.g. 'the file is not valid Parquet')."""


@dataclass(frozen=True)
class RowError:
    """A record a job rejected: where it was and why."""

    message: str
    row_number: int | None = None
    location: str = ""


def job_create(
    *,
    kind: str,
    target: models.Model | None = None,
    params: dict[str, Any] | None = None,
    created_by: Actor = None,
    total: int | None = None,
) -> Job:
    return Job.objects.create(
        kind=kind,
        target_type=ContentType.objects.get_for_model(target) if target is not None else None,
        target_id=str(target.pk) if target is not None else "",
        params=params or {},
        created_by=actor_user(created_by),
        total=total,
        celery_id=str(uuid.uuid4()),
    )


def job_enqueue(*, job: Job, task: Any, queue: str | None = None) -> Job:
    """Send the job's task once the surrounding transaction commits; the task receives only the job id."""
    options: dict[str, Any] = {"task_id": job.celery_id}
    if queue:
        options["queue"] = queue
    transaction.on_commit(lambda: task.apply_async(args=[job.pk], **options))
    return job


def job_claim(*, job_id: int) -> Job | None:
    """Mark the job running; None if it already finished (a redelivered task must not redo it)."""
    now = timezone.now()
    claimed = Job.objects.filter(pk=job_id, state__in=[Job.State.QUEUED, Job.State.RUNNING]).update(
        state=Job.State.RUNNING, started_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    return Job.objects.get(pk=job_id)


def job_progress(*, job: Job, done: int, total: int | None = None) -> None:
    fields: dict[str, Any] = {"done": done}
    if total is not None:
        fields["total"] = total
        job.total = total
    job.done = done
    Job.objects.filter(pk=job.pk).update(**fields)


def job_reject_rows(*, job: Job, errors: Iterable[RowError]) -> int:
    """Record rejected rows; stores the first MAX_STORED_ERRORS, counts them all. Returns how many."""
    batch = list(errors)
    if not batch:
        return 0
    stored = JobError.objects.filter(job=job).count() if job.error_count >= MAX_STORED_ERRORS else job.error_count
    room = max(0, MAX_STORED_ERRORS - stored)
    JobError.objects.bulk_create(
        [JobError(job=job, row_number=e.row_number, location=e.location[:500], message=e.message) for e in batch[:room]]
    )
    Job.objects.filter(pk=job.pk).update(error_count=F("error_count") + len(batch))
    job.error_count += len(batch)
    return len(batch)


def job_reset_errors(*, job: Job) -> None:
    """Forget rejected rows of an earlier attempt, so a re-run reports each once."""
    JobError.objects.filter(job=job).delete()
    Job.objects.filter(pk=job.pk).update(error_count=0)
    job.error_count = 0


def job_succeed(*, job: Job, result: dict[str, Any] | None = None) -> None:
    Job.objects.filter(pk=job.pk).update(
        state=Job.State.SUCCEEDED, finished_at=timezone.now(), result=result or {}, message=""
    )


def job_fail(*, job: Job, message: str) -> None:
    Job.objects.filter(pk=job.pk).update(state=Job.State.FAILED, finished_at=timezone.now(), message=message[:5000])


def job_cancel(*, job: Job) -> bool:
    return bool(
        Job.objects.filter(pk=job.pk, state__in=[Job.State.QUEUED, Job.State.RUNNING]).update(
            state=Job.State.CANCELLED, finished_at=timezone.now()
        )
    )
