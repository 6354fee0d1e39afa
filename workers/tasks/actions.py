"""Celery tasks: GUI action mappings. Thin: load the job's target, run the actions service."""
from celery import shared_task

from curation.models import ActionMapping, Source
from curation.services.actions import action_mapping_apply, action_mapping_suggest
from workers.jobrun import JobFailed, running_job


@shared_task
def suggest_action_mapping(job_id: int) -> None:
    with running_job(job_id) as job:
        if job is None:
            return
        source = Source.objects.filter(pk=job.target_id).first()
        if source is None:
            raise JobFailed("the source was deleted before its action mapping could be suggested")
        action_mapping_suggest(source=source, engine=job.params.get("engine", "auto"), job=job, by=job.created_by)


@shared_task
def apply_action_mapping(job_id: int) -> None:
    with running_job(job_id) as job:
        if job is None:
            return
        mapping = ActionMapping.objects.filter(pk=job.target_id).first()
        if mapping is None:
            raise JobFailed("the action mapping was deleted before it could be applied")
        action_mapping_apply(mapping=mapping, job=job)
