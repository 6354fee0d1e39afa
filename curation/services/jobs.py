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
from django.utils.module_loading import import_string

from curation.errors import ApplicationError
from curation.models import Job, JobAttempt, JobError
from curation.services.actors import Actor, actor_user
from curation.services.job_kinds import job_kind_get
from curation.services.roles import ROLE_ADMIN, ROLE_CURATOR

# Beyond this many rejected rows a job keeps counting but stops storing each one.
MAX_STORED_ERRORS = 10_000


class JobFailed(ApplicationError):
    """A failure whose message is meant for the curator (e.g. 'the file is not valid Parquet')."""

    code = "job_failed"


class JobCancelled(ApplicationError):
    """The job was cancelled while it ran; the worker stops between batches."""

    code = "job_cancelled"
    status = 409


class JobNotRetryable(ApplicationError):
    """The job is not in a state a retry can help (it is beating, or it succeeded)."""

    code = "job_not_retryable"
    status = 409


class JobNotYours(ApplicationError):
    """Only curators, admins and the job's creator may retry or cancel a job."""

    code = "job_forbidden"
    status = 403


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


def job_run_here(*, job: Job) -> Job:
    """Run the job's task body in this process, as a command without --queue does: the same claim, heartbeat and
    bookkeeping as on a worker. The task is found by its registered name, so the domain imports no task module."""
    kind = job_kind_get(job.kind)
    current_app.loader.import_default_modules()  # the task modules CELERY_IMPORTS names
    current_app.tasks[kind.task].run(job.pk)
    job.refresh_from_db()
    return job


def job_stall_after() -> timedelta:
    return timedelta(seconds=settings.FINECURATE_JOB_STALL_SECONDS)


def job_is_stalled(job: Job) -> bool:
    """Running, but its worker has not beaten for longer than FINECURATE_JOB_STALL_SECONDS (Job.is_stalled)."""
    return job.is_stalled


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


@dataclass(frozen=True)
class ChildrenProgress:
    """A parent's children added up: their work done and to do, and how many are in each state."""

    count: int
    done: int
    total: int | None
    by_state: dict[str, int]

    @property
    def finished(self) -> int:
        return sum(n for state, n in self.by_state.items() if state in Job.FINISHED_STATES)

    @property
    def unfinished(self) -> int:
        return self.count - self.finished

    @property
    def percent(self) -> int | None:
        return min(100, int(100 * self.done / self.total)) if self.total else None


def job_children_progress(*, parent: Job) -> ChildrenProgress | None:
    """The children's done and total summed (a running child counts what it has done so far); None without children."""
    by_state = job_children_summary(parent=parent)
    if not by_state:
        return None
    sums = Job.objects.filter(parent=parent).aggregate(done=models.Sum("done"), total=models.Sum("total"))
    return ChildrenProgress(count=sum(by_state.values()), done=sums["done"] or 0, total=sums["total"], by_state=by_state)


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
        # A batch cancelled on its own leaves the parent's work incomplete: the parent fails (and a retry of it
        # runs that batch again) instead of succeeding without it.
        failed = children.filter(state__in=[Job.State.FAILED, Job.State.CANCELLED]).count()
        unfinished = children.exclude(state__in=Job.FINISHED_STATES).count()
        fields: dict[str, Any] = {"done": done, "heartbeat_at": timezone.now()}
        if weighted and not children.filter(total__isnull=True).exists():
            # A child may learn its real size only when it runs (a search batch counts its candidates, not its
            # queries): the parent's total follows, so its done never passes it.
            fields["total"] = children.aggregate(n=models.Sum("total"))["n"]
        if unfinished == 0 and parent.state == Job.State.RUNNING:
            fields["finished_at"] = timezone.now()
            if failed:
                fields["state"] = Job.State.FAILED
                first = children.filter(state=Job.State.FAILED).order_by("pk").values_list("message", flat=True).first()
                if first is None:
                    fields["message"] = f"{failed} of {children.count()} batches were cancelled; retry to run them"
                else:
                    fields["message"] = f"{failed} of {children.count()} batches failed or were cancelled; the first failure said: {first}"[:5000]
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


def job_warn_rows(*, job: Job, warnings: Iterable[RowError]) -> int:
    """Record rows the job kept but not whole (listed with the rejected rows, not counted as rejected)."""
    batch = list(warnings)
    if not batch:
        return 0
    room = max(0, MAX_STORED_ERRORS - JobError.objects.filter(job=job, is_warning=True).count())
    JobError.objects.bulk_create(
        [
            JobError(job=job, row_number=e.row_number, location=e.location[:500], message=e.message, is_warning=True)
            for e in batch[:room]
        ]
    )
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


def job_cancel(*, job: Job, by: Actor = None) -> bool:
    """Cancel a queued or running job and its unfinished children; a running worker stops between batches.

    With `by`, only curators, admins and the job's creator may (JobNotYours). False if it had finished.
    """
    if by is not None:
        job_manage_check(job=job, by=by)
    now = timezone.now()
    unfinished = [Job.State.QUEUED, Job.State.RUNNING]
    with transaction.atomic():
        job.refresh_from_db()
        children = list(Job.objects.filter(parent=job, state__in=unfinished))
        # A live worker sees the cancel at its next beat and settles its job itself; nobody will for these.
        unattended = [c for c in [job, *children] if c.state in unfinished and not c.is_beating]
        Job.objects.filter(pk__in=[c.pk for c in children]).update(state=Job.State.CANCELLED, finished_at=now)
        cancelled = bool(Job.objects.filter(pk=job.pk, state__in=unfinished).update(state=Job.State.CANCELLED, finished_at=now))
        # A live worker closes its own attempt when it sees the cancel; a dead one never will.
        for stalled in [c for c in [job, *children] if c.is_stalled]:
            _attempt_lost(stalled, now=now)
    for left in unattended:
        left.refresh_from_db()
        if left.parent_id is not None and left.parent_id != job.pk:
            job_child_finished(child=left)  # what running_job does when a batch ends: the parent learns of it
        _settle(left)
    job.refresh_from_db()
    return cancelled


def _settle(job: Job) -> None:
    kind = job_kind_get(job.kind)
    if kind.settle:
        import_string(kind.settle)(job=job)


def job_can_manage(*, job: Job, by: Actor) -> bool:
    """Curators, admins (and superusers) may retry or cancel any job; anyone else only the jobs they started."""
    user = actor_user(by)
    if user is None or not user.is_active:
        return False
    if user.is_superuser or (job.created_by_id is not None and job.created_by_id == user.pk):
        return True
    return user.groups.filter(name__in=[ROLE_CURATOR, ROLE_ADMIN]).exists()


def job_manage_check(*, job: Job, by: Actor) -> None:
    if not job_can_manage(job=job, by=by):
        raise JobNotYours(f"only curators, admins and the one who started job #{job.pk} may retry or cancel it")


def job_can_retry(job: Job) -> bool:
    """A stalled running job, a failed or cancelled one; never one that still beats or that succeeded."""
    return job.state in (Job.State.FAILED, Job.State.CANCELLED) or job.is_stalled


def job_retry(*, job: Job, by: Actor = None) -> Job:
    """Queue the same job again (same id; its task resumes idempotently and the claim counts the attempt).

    A stalled attempt is closed as lost; a parent retries its children that failed, stalled or were cancelled.
    With `by`, only curators, admins and the job's creator may (JobNotYours).
    """
    if by is not None:
        job_manage_check(job=job, by=by)
    now = timezone.now()
    with transaction.atomic():
        job = Job.objects.select_for_update().get(pk=job.pk)
        if not job_can_retry(job):
            raise JobNotRetryable(f"job #{job.pk} cannot be retried: {job_status_text(job)}")
        children = [c for c in Job.objects.filter(parent=job).order_by("pk") if job_can_retry(c)]
        if job.children.exists():
            if not children and job.state == Job.State.RUNNING:
                raise JobNotRetryable(f"job #{job.pk} has no failed, stalled or cancelled batch to retry")
            for child in children:
                _requeue(child, now=now)
            Job.objects.filter(pk=job.pk).update(
                state=Job.State.RUNNING, finished_at=None, message="", heartbeat_at=now
            )
        else:
            _requeue(job, now=now)
    job.refresh_from_db()
    return job


def _requeue(job: Job, *, now: Any) -> None:
    if job.state == Job.State.RUNNING:
        _attempt_lost(job, now=now)
    Job.objects.filter(pk=job.pk).update(state=Job.State.QUEUED, heartbeat_at=None, finished_at=None, message="")
    job_enqueue(job=job)


def _attempt_lost(job: Job, *, now: Any) -> None:
    last = job.heartbeat_at or job.started_at
    JobAttempt.objects.filter(job=job, outcome=JobAttempt.Outcome.RUNNING).update(
        outcome=JobAttempt.Outcome.LOST,
        ended_at=now,
        last_heartbeat_at=last,
        message=f"its worker stopped beating{' at ' + last.isoformat(timespec='seconds') if last else ''}",
    )


# --- attempts (written by workers/jobrun.running_job) ---

def job_attempt_begin(*, job: Job, worker: str = "") -> JobAttempt:
    """Record the attempt a claim just started; an earlier attempt still open lost its worker."""
    _attempt_lost(job, now=timezone.now())
    attempt, _ = JobAttempt.objects.update_or_create(
        job=job,
        number=job.attempts,
        defaults={"worker": worker[:255], "started_at": job.started_at or timezone.now(), "outcome": JobAttempt.Outcome.RUNNING},
    )
    return attempt


def job_attempt_end(*, attempt: JobAttempt, outcome: str, message: str = "") -> None:
    now = timezone.now()
    JobAttempt.objects.filter(pk=attempt.pk, outcome=JobAttempt.Outcome.RUNNING).update(
        outcome=outcome, ended_at=now, last_heartbeat_at=now, message=message[:5000]
    )


# --- words for pages and commands ---

def _ago(moment: Any) -> str:
    seconds = max(0, int((timezone.now() - moment).total_seconds()))
    if seconds < 90:
        return f"{seconds} s"
    if seconds < 90 * 60:
        return f"{round(seconds / 60)} min"
    return f"{seconds / 3600:.1f} h"


def job_status_text(job: Job) -> str:
    """What the job is doing, in words that hold: 'running as job #82, started 12 min ago, no heartbeat for
    10 min: its worker seems to have stopped; retry or cancel it'."""
    if job.state == Job.State.QUEUED:
        text = f"queued as job #{job.pk} {_ago(job.created_at)} ago, not taken by a worker yet"
        if job.attempts:
            text += f" (attempt {job.attempts + 1})"
        return text
    if job.state == Job.State.RUNNING:
        started = f"started {_ago(job.started_at)} ago" if job.started_at else "not started"
        last = job.heartbeat_at or job.started_at
        if job.is_stalled:
            silent = f"no heartbeat for {_ago(last)}" if last else "no heartbeat yet"
            return f"running as job #{job.pk}, {started}, {silent}: its worker seems to have stopped; retry or cancel it"
        beat = f", last heartbeat {_ago(last)} ago" if last else ""
        return f"running as job #{job.pk}, {started}{beat}"
    ended = f" {_ago(job.finished_at)} ago" if job.finished_at else ""
    text = f"{job.get_state_display().lower()}{ended} (job #{job.pk})"
    return f"{text}: {job.message}" if job.state == Job.State.FAILED and job.message else text


def job_already_text(job: Job, *, what: str) -> str:
    """'an ingest is already running as job #82, ...': the answer to a start that found its job under way."""
    return f"{what} is already {job_status_text(job)}"
