"""Real Celery worker processes for the crash tests: start two on a job kind's queue, catch a job midway, kill the
worker that claimed it (named by its JobAttempt) with SIGKILL, wait for the job to show as stalled, stop the rest.

The workers beat every HEARTBEAT_SECONDS and a job silent for STALL_SECONDS is stalled, so a crash shows within
seconds instead of the production minute and a half.
"""
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings as django_settings
from django.db import connection

from curation.models import Job, JobAttempt
from tests.jobs import broker_purge

HEARTBEAT_SECONDS = 0.3
STALL_SECONDS = 2
POLL_SECONDS = 0.02


def worker_start(tmp_path: Path, name: str, queues: Sequence[str]) -> subprocess.Popen:
    """A celery worker process (solo pool) on these queues, against this test's database, media and data roots."""
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "CELERY_BROKER_URL": django_settings.CELERY_BROKER_URL,
        "FINECURATE_DATA_ROOTS": str(tmp_path),
        "FINECURATE_MEDIA_ROOT": str(django_settings.MEDIA_ROOT),
        "FINECURATE_JOB_HEARTBEAT_SECONDS": str(HEARTBEAT_SECONDS),
        "FINECURATE_JOB_STALL_SECONDS": str(STALL_SECONDS),
        "FINECURATE_ONNX_THREADS": "1",  # two workers share two cores
        "PYTHONPATH": str(Path(__file__).resolve().parent.parent),
    }
    log = (tmp_path / f"{name}.log").open("w")
    return subprocess.Popen(  # noqa: S603 (our own interpreter running celery)
        [sys.executable, "-m", "celery", "-A", "config", "worker", "--pool=solo", "-Q", ",".join(queues),
         "-n", f"{name}@%h", "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "WARNING"],
        env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
    )


def worker_stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        os.killpg(worker.pid, signal.SIGKILL)
    worker.wait(timeout=10)


@dataclass
class Crash:
    """Two workers on the queues, and what the test measured: how far the job had got, how long the stall took
    to show, how long the whole run took."""

    workers: list[subprocess.Popen]
    started: float = field(default_factory=time.monotonic)
    killed_at: float = 0.0
    done_at_kill: int = 0
    total_at_kill: int = 0
    stall_seconds: float = 0.0

    def catch_midway(self, find: Callable[[], Job | None], seconds: float = 30, total: int | None = None) -> Job:
        """Poll until `find` returns a running job with 0 < done < total (the one to kill under); `total` stands in
        for a job that does not know its own (an ingest streams its file)."""
        deadline = time.monotonic() + seconds
        job = None
        while time.monotonic() < deadline:
            job = find()
            if job is not None and job.state == Job.State.RUNNING and 0 < job.done < (job.total or total or 0):
                self.total_at_kill = job.total or total or 0
                return job
            time.sleep(POLL_SECONDS)
        raise AssertionError(f"the job was not caught midway: {job and (job.state, job.done, job.total)}")

    def kill_claimer(self, job: Job) -> subprocess.Popen:
        """SIGKILL the worker whose running attempt holds `job` (no cleanup, no ack); its job must still be midway."""
        attempt = JobAttempt.objects.filter(job=job, outcome=JobAttempt.Outcome.RUNNING).order_by("-number").first()
        assert attempt is not None, f"job {job.pk} has no running attempt"
        pid = int(attempt.worker.rsplit(" ", 1)[1])
        dying = next(w for w in self.workers if w.pid == pid)
        os.killpg(dying.pid, signal.SIGKILL)
        dying.wait(timeout=10)
        self.killed_at = time.monotonic()
        job.refresh_from_db()
        self.total_at_kill = job.total or self.total_at_kill
        assert job.state == Job.State.RUNNING and 0 < job.done < self.total_at_kill, (job.state, job.done, job.total)
        self.done_at_kill = job.done
        return dying

    def wait_stalled(self, job: Job, seconds: float = 10) -> Job:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            job.refresh_from_db()
            if job.is_stalled:
                self.stall_seconds = time.monotonic() - self.killed_at
                return job
            time.sleep(0.05)
        raise AssertionError(f"job {job.pk} is not stalled {seconds} s after its worker died ({job.state})")

    def report(self, what: str) -> str:
        line = (f"crash {what}: killed at {self.done_at_kill:,}/{self.total_at_kill:,}, stalled after "
                f"{self.stall_seconds:.1f} s, finished {time.monotonic() - self.started:.1f} s after the start")
        print(line)  # noqa: T201 (the figures of the crash tests, read with -s)
        return line


@contextmanager
def crash_workers(tmp_path: Path, settings: object, queues: Sequence[str]) -> Iterator[Crash]:
    """Two workers on `queues` started at once (a worker's start is the slow part; either may claim the job),
    both stopped at the end whatever happened. The test process reads stalls with the workers' STALL_SECONDS."""

    settings.FINECURATE_JOB_STALL_SECONDS = STALL_SECONDS  # type: ignore[attr-defined]
    workers = [worker_start(tmp_path, "first", queues), worker_start(tmp_path, "second", queues)]
    try:
        yield Crash(workers=workers)
    finally:
        for worker in workers:
            worker_stop(worker)
        broker_purge()


def wait_until(check: Callable[[], bool], seconds: float = 30, what: str = "the job to finish") -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"gave up waiting for {what} after {seconds} s")
