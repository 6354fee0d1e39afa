"""Celery tasks of copy detection: thin. Each loads its job, calls the dedup service, and lets the scan advance.

The parent tasks (embed_images, dedup_search) fan out into batches and stay running until their last batch
finishes; every task ends by asking the scan to advance (a compare-and-set, safe from any number of workers).
"""
from celery import shared_task

from curation.models import Job
from curation.services.benchmarks import benchmark_register_run
from curation.services.dedup import (
    dedup_embed_batch,
    dedup_embed_plan,
    dedup_scan_advance,
    dedup_search_batch,
    dedup_search_plan,
)
from workers.jobrun import running_job


def _advance(job_id: int) -> None:
    job = Job.objects.filter(pk=job_id).only("params").first()
    if job is not None and "scan" in job.params:
        dedup_scan_advance(scan_id=int(job.params["scan"]))


@shared_task(name="workers.tasks.dedup.embed_images")
def embed_images(job_id: int) -> None:
    with running_job(job_id) as job:
        if job is not None:
            dedup_embed_plan(job=job)
    _advance(job_id)


@shared_task(name="workers.tasks.dedup.embed_batch")
def embed_batch(job_id: int) -> None:
    with running_job(job_id) as job:
        if job is not None:
            dedup_embed_batch(job=job)
    _advance(job_id)


@shared_task(name="workers.tasks.dedup.dedup_search")
def dedup_search(job_id: int) -> None:
    with running_job(job_id) as job:
        if job is not None:
            dedup_search_plan(job=job)
    _advance(job_id)


@shared_task(name="workers.tasks.dedup.dedup_search_batch")
def dedup_search_batch_task(job_id: int) -> None:
    with running_job(job_id) as job:
        if job is not None:
            dedup_search_batch(job=job)
    _advance(job_id)


@shared_task(name="workers.tasks.dedup.benchmark_register")
def benchmark_register(job_id: int) -> None:
    with running_job(job_id) as job:
        if job is not None:
            benchmark_register_run(job=job)
