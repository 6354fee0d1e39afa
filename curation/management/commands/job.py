"""manage.py job show|retry|cancel JOB_ID: what a job is doing (heartbeat, attempts), and the page's Retry and Cancel;
manage.py job stalled: the running jobs whose worker stopped beating, with the ids to retry or cancel."""
from django.core.management.base import BaseCommand, CommandError, CommandParser

from curation.models import Job
from curation.selectors import jobs_stalled
from curation.services.job_kinds import job_kind_label
from curation.services.jobs import JobNotRetryable, job_cancel, job_retry, job_status_text


class Command(BaseCommand):
    help = ("Show a job's state and attempts, retry a stalled or failed job (same id), cancel a queued or running one, "
            "or list the stalled jobs.")

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("action", choices=["show", "retry", "cancel", "stalled"])
        parser.add_argument("job_id", type=int, nargs="?", help="the job (every action but stalled)")

    def handle(self, *args: object, **options: object) -> None:
        if options["action"] == "stalled":
            self._stalled()
            return
        if options["job_id"] is None:
            raise CommandError(f"say which job to {options['action']}: manage.py job {options['action']} JOB_ID")
        job_id = int(str(options["job_id"]))
        job = Job.objects.filter(pk=job_id).first()
        if job is None:
            raise CommandError(f"no job #{job_id}")
        action = options["action"]
        if action == "retry":
            try:
                job = job_retry(job=job)
            except JobNotRetryable as exc:
                raise CommandError(str(exc)) from exc
            self.stdout.write(f"job #{job.pk} queued again (attempt {job.attempts + 1}); a worker resumes it")
        elif action == "cancel":
            was_beating = job.state == Job.State.RUNNING and not job.is_stalled
            if not job_cancel(job=job):
                raise CommandError(f"job #{job.pk} was not cancelled: it had already {job.get_state_display().lower()}")
            tail = "; its worker stops after the batch it is on" if was_beating else ""
            self.stdout.write(f"job #{job.pk} cancelled{tail}")
        else:
            self.stdout.write(f"{job_kind_label(job.kind)} #{job.pk}: {job_status_text(job)}")
            for attempt in job.attempt_rows.all():
                ended = attempt.ended_at.isoformat(timespec="seconds") if attempt.ended_at else "-"
                self.stdout.write(
                    f"  attempt {attempt.number} on {attempt.worker or '?'}: {attempt.started_at.isoformat(timespec='seconds')}"
                    f" to {ended}, {attempt.get_outcome_display().lower()} {attempt.message}".rstrip()
                )

    def _stalled(self) -> None:
        stalled = jobs_stalled()
        if not stalled:
            self.stdout.write("no stalled job: every running job's worker is beating")
            return
        for job in stalled:
            progress = f"{job.done:,}/{job.total:,}" if job.total else f"{job.done:,}"
            parent = f", batch of job #{job.parent_id}" if job.parent_id else ""
            self.stdout.write(f"{job_kind_label(job.kind)} #{job.pk} at {progress}{parent}: {job_status_text(job)}")
        self.stdout.write(f"{len(stalled)} stalled; resume one with manage.py job retry JOB_ID (a parent retries its "
                          "stalled batches), or stop it with manage.py job cancel JOB_ID")
