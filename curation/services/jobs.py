"""Jobs: create, enqueue after commit, claim, beat, report progress and rejected rows, fan out, finish.

A running job's worker writes a heartbeat (job_progress and job_heartbeat do); job_claim starts a job
that is queued, or running with a stale heartbeat (its worker died), and never a second run of a job
whose heartbeat is fresh. A job may fan out into children, one per batch, which any worker runs; the
children's progress adds up on the parent, and the last child to finish finishes the parent.
"""
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from celery import current_app
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import F, Q
from django.utils import timezone

from curation.errors import ApplicationError
from curation.models import Job, JobError
from curation.services.actors import Actor, actor_user
from curation.services.job_kinds import job_kind_get

# Beyond this many rejected rows a job keeps counting but stops storing each one.
MAX_STORED_ERRORS = 10_000


class JobFailed(ApplicationError):
    """A failure whose message is meant for the curator (e.g. 'the file is not valid Parquet')."""

    code = "job_failed"


class JobCancelled(ApplicationError):
    """The job was cancelled while it ran; the worker stops between batches."""

    code = "job_cancelled"
    status = 409


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
    parent: Job | None = None,
) -> Job:
    job_kind_get(kind)  # an unregistered kind is a programming error, caught before anything is written
    return Job.objects.create(
        kind=kind,
        parent=parent,
        target_type=ContentType.objects.get_for_model(target) if target is not None else None,
        target_id=str(target.pk) if target is not None else "",
        params=params or {},
        created_by=actor_user(created_by),
        total=total,
        celery_id=str(uuid.uuid4()),
    )


def job_enqueue(*, job: Job, queue: str | None = None) -> Job:
    """Send the task of the job's kind, by name, once the surrounding transaction commits.

    The task receives only the job id. `queue` overrides the kind's queue (e.g. embeddings sent to cpu).
    """
    kind = job_kind_get(job.kind)
    options: dict[str, Any] = {"task_id": job.celery_id, "queue": queue or kind.queue}
    transaction.on_commit(lambda: current_app.send_task(kind.task, args=[job.pk], **options))
    return job


def job_stall_after() -> timedelta:
    return timedelta(seconds=settings.FINECURATE_JOB_STALL_SECONDS)


def job_is_stalled(job: Job) -> bool:
    """Running, but its worker has not beaten for longer than FINECURATE_JOB_STALL_SECONDS."""
    if job.state != Job.State.RUNNING:
        return False
    last = job.heartbeat_at or job.started_at
    return last is None or last < timezone.now() - job_stall_after()


def job_claim(*, job_id: int) -> Job | None:
    """Mark the job running, with a fresh heartbeat; None if someone else runs it or it finished.

    A queued job is claimed; a running job only when its heartbeat is stale (its worker died and the
    broker redelivered the task). A redelivered copy of a job that is still beating is refused.
    """
    now = timezone.now()
    stale = Q(heartbeat_at__lt=now - job_stall_after()) | Q(heartbeat_at__isnull=True, started_at__lt=now - job_stall_after())
    claimed = Job.objects.filter(Q(state=Job.State.QUEUED) | (Q(state=Job.State.RUNNING) & stale), pk=job_id).update(
        state=Job.State.RUNNING, started_at=now, heartbeat_at=now, attempts=F("attempts") + 1
    )
    if not claimed:
        return None
    return Job.objects.get(pk=job_id)


def job_heartbeat(*, job: Job) -> None:
    """Say the worker is alive; raises JobCancelled when the job was cancelled meanwhile."""
    beating = Job.objects.filter(pk=job.pk, state=Job.State.RUNNING).update(heartbeat_at=timezone.now())
    if not beating:
        raise JobCancelled(f"job {job.pk} was cancelled")


def job_progress(*, job: Job, done: int, total: int | None = None) -> None:
    """Record progress (and a heartbeat); raises JobCancelled when the job was cancelled, so work stops."""
    fields: dict[str, Any] = {"done": done, "heartbeat_at": timezone.now()}
    if total is not None:
        fields["total"] = total
        job.total = total
    job.done = done
    if not Job.objects.filter(pk=job.pk).exclude(state=Job.State.CANCELLED).update(**fields):
        raise JobCancelled(f"job {job.pk} was cancelled")


def job_fan_out(*, parent: Job, kind: str, params_list: list[dict[str, Any]], totals: list[int] | None = None) -> list[Job]:
    """Children of `parent`, one per params dict (a batch), each enqueued as its own task after commit.

    The parent's total becomes the sum of the children's totals (or their count); job_child_finished
    adds each child's work to the parent and finishes the parent with the last child.
    """
    children = []
    for index, params in enumerate(params_list):
        child = job_create(
            kind=kind,
            target=parent.target,
            params=params,
            created_by=parent.created_by,
            total=totals[index] if totals else None,
            parent=parent,
        )
        children.append(job_enqueue(job=child))
    total = sum(totals) if totals else len(children)
    Job.objects.filter(pk=parent.pk).update(total=total, done=0, heartbeat_at=timezone.now())
    parent.total = total
    return children


def job_children_summary(*, parent: Job) -> dict[str, int]:
    """How many children are in each state."""
    rows = Job.objects.filter(parent=parent).order_by().values_list("state").annotate(n=models.Count("id"))
    return {state: n for state, n in rows}


def job_child_finished(*, child: Job) -> Job | None:
    """Add a finished child's work to its parent; the last child finishes the parent. Returns the parent.

    Safe to call twice: the parent's done is recomputed from the children, not incremented.
    """
    if child.parent_id is None:
        return None
    with transaction.atomic():
        parent = Job.objects.select_for_update().get(pk=child.parent_id)
        children = Job.objects.filter(parent=parent)
        weighted = parent.total is not None and children.filter(total__isnull=False).exists()
        finished = children.filter(state__in=Job.FINISHED_STATES)
        if weighted:
            done = finished.aggregate(n=models.Sum("total"))["n"] or 0
        else:
            done = finished.count()
        failed = children.filter(state=Job.State.FAILED).count()
        unfinished = children.exclude(state__in=Job.FINISHED_STATES).count()
        fields: dict[str, Any] = {"done": done, "heartbeat_at": timezone.now()}
        if unfinished == 0 and parent.state == Job.State.RUNNING:
            fields["finished_at"] = timezone.now()
            if failed:
                fields["state"] = Job.State.FAILED
                first = children.filter(state=Job.State.FAILED).order_by("pk").values_list("message", flat=True).first()
                fields["message"] = f"{failed} of {children.count()} batches failed; the first said: {first}"[:5000]
            else:
                fields["state"] = Job.State.SUCCEEDED
        Job.objects.filter(pk=parent.pk).update(**fields)
    parent.refresh_from_db()
    return parent


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
    """Finish a job (a cancelled one stays cancelled)."""
    Job.objects.filter(pk=job.pk).exclude(state=Job.State.CANCELLED).update(
        state=Job.State.SUCCEEDED, finished_at=timezone.now(), result=result or {}, message=""
    )


def job_fail(*, job: Job, message: str) -> None:
    Job.objects.filter(pk=job.pk).exclude(state=Job.State.CANCELLED).update(
        state=Job.State.FAILED, finished_at=timezone.now(), message=message[:5000]
    )


def job_cancel(*, job: Job) -> bool:
    """Cancel a queued or running job and its unfinished children; a running worker stops between batches."""
    now = timezone.now()
    Job.objects.filter(parent=job, state__in=[Job.State.QUEUED, Job.State.RUNNING]).update(
        state=Job.State.CANCELLED, finished_at=now
    )
    return bool(
        Job.objects.filter(pk=job.pk, state__in=[Job.State.QUEUED, Job.State.RUNNING]).update(
            state=Job.State.CANCELLED, finished_at=now
        )
    )
