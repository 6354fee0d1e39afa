"""Celery tasks of the review machinery: fill a queue, decide in bulk, return lapsed claims."""
import logging

from celery import shared_task

from curation.models import ReviewQueue
from curation.services.review_bulk import review_bulk_run
from curation.services.review_claims import review_release_expired
from curation.services.review_fill import review_queue_fill as fill_queue
from workers.jobrun import JobFailed, running_job

logger = logging.getLogger(__name__)


@shared_task(name="workers.tasks.review.review_queue_fill")
def review_queue_fill(job_id: int) -> None:
    with running_job(job_id) as job:
        if job is None:
            return
        queue = ReviewQueue.objects.filter(pk=job.target_id).first()
        if queue is None:
            raise JobFailed("the review queue was deleted before it could be filled")
        job.result = fill_queue(queue=queue, fraction=job.params.get("fraction", 1.0), seed=job.params.get("seed", 0), job=job)


@shared_task(name="workers.tasks.review.review_bulk_decide")
def review_bulk_decide(job_id: int) -> None:
    with running_job(job_id) as job:
        if job is None:
            return
        review_bulk_run(job=job)


@shared_task(name="workers.tasks.review.review_release_expired")
def review_release_expired_task() -> int:
    released = review_release_expired()
    if released:
        logger.info("returned %d lapsed review claims to their queues", released)
    return released
