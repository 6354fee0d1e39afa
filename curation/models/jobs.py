"""Jobs: every long step is a Celery task recorded here, so pages show progress and failures."""
from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.utils import timezone


class Job(models.Model):
    class State(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"

    FINISHED_STATES = (State.SUCCEEDED, State.FAILED, State.CANCELLED)

    # A key of the job kinds registry (curation/services/job_kinds.py), which holds its label, task and queue.
    kind = models.CharField(max_length=32)
    state = models.CharField(max_length=16, choices=State.choices, default=State.QUEUED)
    target_type = models.ForeignKey(ContentType, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    target_id = models.CharField(max_length=64, blank=True)
    target = GenericForeignKey("target_type", "target_id")
    params = models.JSONField(default=dict, blank=True)
    done = models.PositiveBigIntegerField(default=0)
    total = models.PositiveBigIntegerField(null=True, blank=True, help_text="Null while the total is not known yet.")
    error_count = models.PositiveBigIntegerField(default=0, help_text="Rows rejected; the first ones are kept as JobError.")
    message = models.TextField(blank=True, help_text="Why the job failed, in words for the page.")
    result = models.JSONField(default=dict, blank=True)
    celery_id = models.CharField(max_length=64, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    # A long job fans out into children (one per batch); their progress adds up on the parent's bar.
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.CASCADE, related_name="children")
    # Written by the worker while it runs the job; a running job whose heartbeat is stale has lost its worker.
    heartbeat_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["target_type", "target_id", "-created_at"], name="job_target_recent"),
            models.Index(fields=["created_at"], condition=models.Q(state__in=["queued", "running"]), name="job_unfinished"),
            models.Index(fields=["parent", "state"], condition=models.Q(parent__isnull=False), name="job_children"),
        ]

    def __str__(self) -> str:
        return f"{self.kind} #{self.pk} ({self.state})"  # pages show the registered label (annotate's kind_label)

    @property
    def is_finished(self) -> bool:
        return self.state in self.FINISHED_STATES

    @property
    def is_stalled(self) -> bool:
        """Running, but silent for longer than FINECURATE_JOB_STALL_SECONDS: its worker died.

        A parent whose task only fanned out is stalled when none of its unfinished children still moves.
        """
        if self.state != self.State.RUNNING or not self._silent():
            return False
        unfinished = list(self.children.exclude(state__in=self.FINISHED_STATES))
        return not any(c.state == self.State.QUEUED or not c._silent() for c in unfinished)

    @property
    def is_beating(self) -> bool:
        """Running, with a heartbeat fresher than FINECURATE_JOB_STALL_SECONDS: a live worker holds it."""
        return self.state == self.State.RUNNING and not self._silent()

    def _silent(self) -> bool:
        last = self.heartbeat_at or self.started_at
        return last is None or (timezone.now() - last).total_seconds() > settings.FINECURATE_JOB_STALL_SECONDS

    @property
    def percent(self) -> int | None:
        if self.state == self.State.SUCCEEDED:
            return 100
        if not self.total:
            return None
        return min(100, int(100 * self.done / self.total))

    @property
    def duration_seconds(self) -> float | None:
        if self.started_at is None:
            return None
        end = self.finished_at or timezone.now()
        return (end - self.started_at).total_seconds()


class JobError(models.Model):
    """A row a job rejected (with where and why), or a non-fatal problem it met."""

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="errors")
    row_number = models.PositiveBigIntegerField(null=True, blank=True, help_text="0-based record number, if any.")
    location = models.CharField(max_length=500, blank=True, help_text="e.g. 'line 17' or 'images/cat.jpg'.")
    message = models.TextField()
    # A warning is a row the job kept but not whole (e.g. a sample built without an image its row stored);
    # it is listed with the rejected rows but not counted in error_count.
    is_warning = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.location}: {self.message}"


class JobAttempt(models.Model):
    """One run of a job by a worker: when it started and ended and how it ended (a redelivery is a new attempt)."""

    class Outcome(models.TextChoices):
        RUNNING = "running", "Running"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled"
        LOST = "lost", "Worker lost"
        RETRIED = "retried", "Stopped for a retry"

    job = models.ForeignKey(Job, on_delete=models.CASCADE, related_name="attempt_rows")
    number = models.PositiveSmallIntegerField()
    worker = models.CharField(max_length=255, blank=True, help_text="host and process that ran it")
    started_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)
    last_heartbeat_at = models.DateTimeField(null=True, blank=True)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, default=Outcome.RUNNING)
    message = models.TextField(blank=True)

    class Meta:
        ordering = ["job", "number"]
        constraints = [models.UniqueConstraint(fields=["job", "number"], name="job_attempt_number_unique")]

    def __str__(self) -> str:
        return f"attempt {self.number} of job {self.job_id} ({self.outcome})"

    @property
    def duration_seconds(self) -> float | None:
        end = self.ended_at or timezone.now()
        return (end - self.started_at).total_seconds()
