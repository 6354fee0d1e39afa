"""Selectors: every read the pages, the API and the workers share."""
from django.contrib.contenttypes.models import ContentType
from django.db import models

from curation.models import Job


def job_latest_for(*, target: models.Model, kind: str | None = None) -> Job | None:
    jobs = Job.objects.filter(target_type=ContentType.objects.get_for_model(target), target_id=str(target.pk))
    if kind:
        jobs = jobs.filter(kind=kind)
    return jobs.order_by("-created_at", "-id").first()


def jobs_for(*, target: models.Model, limit: int = 20) -> list[Job]:
    return list(
        Job.objects.filter(target_type=ContentType.objects.get_for_model(target), target_id=str(target.pk)).order_by(
            "-created_at", "-id"
        )[:limit]
    )
