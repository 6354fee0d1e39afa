"""Celery tasks: ingest. Thin: load the job's source, run the ingest service."""
from celery import shared_task

from curation.models import Source
from curation.services.ingest import source_ingest
from workers.jobrun import JobFailed, running_job


@shared_task
def ingest_source(job_id: int) -> None:
    with running_job(job_id) as job:
        if job is None:
            return
        source = Source.objects.filter(pk=job.target_id).first()
        if source is None:
            raise JobFailed("the source was deleted before it could be ingested")
        source_ingest(source=source, job=job)
