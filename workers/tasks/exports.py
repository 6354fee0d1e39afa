"""Celery tasks: exports. Thin: run the export service for a job, expire old exports (beat)."""
from celery import shared_task

from curation.services.exports import ExportFailed, export_cleanup, export_run
from workers.jobrun import JobFailed, running_job


@shared_task
def export_build(job_id: int) -> None:
    with running_job(job_id) as job:
        if job is None:
            return
        try:
            export_run(export_id=int(job.target_id), job=job)
        except ExportFailed as exc:
            raise JobFailed(str(exc)) from exc


@shared_task
def exports_cleanup() -> int:
    return export_cleanup()
