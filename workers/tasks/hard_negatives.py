"""Celery task of hard negatives: run the subset's Generation -> Verification -> Correction job."""
from celery import shared_task

from curation.services.hard_negatives import hard_negatives_generate as generate
from workers.jobrun import running_job


@shared_task(name="workers.tasks.hard_negatives.hard_negatives_generate")
def hard_negatives_generate(job_id: int) -> None:
    with running_job(job_id) as job:
        if job is None:
            return
        job.result = generate(job=job)
