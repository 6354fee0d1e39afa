"""Celery tasks: exports. Thin: run the export service for a job, expire old exports (beat)."""
from celery import shared_task

from curation.services.exports import export_cleanup, export_run
from workers.jobrun import running_job


@shared_task
def export_build(job_id: int) -> None:
    with running_job(job_id) as job:
        if job is None:
            return
        export_run(export_id=int(job.target_id), job=job)  # ExportFailed is an ApplicationError: the job fails with it


@shared_task
def exports_cleanup() -> int:
    return export_cleanup()
