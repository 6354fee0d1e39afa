"""Celery tasks: quality ratings. Thin: run a subset's rating job with its judge (services/ratings.py)."""
from celery import shared_task

from curation.services.ratings import ratings_run as ratings_run_service
from workers.jobrun import running_job


@shared_task
def ratings_run(job_id: int) -> None:
    with running_job(job_id) as job:
        if job is None:
            return
        ratings_run_service(job=job)
