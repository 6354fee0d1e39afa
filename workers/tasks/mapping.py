"""Celery tasks: mapping. Thin: load the job's target, run the mapping service; running_job records a failure
(SuggestionFailed, MappingApplyFailed: ApplicationErrors) with its message."""
from celery import shared_task

from curation.models import Mapping, Source
from curation.services.mapping_build import mapping_apply, mapping_suggest
from workers.jobrun import JobFailed, running_job


@shared_task
def suggest_mapping(job_id: int) -> None:
    with running_job(job_id) as job:
        if job is None:
            return
        source = Source.objects.filter(pk=job.target_id).first()
        if source is None:
            raise JobFailed("the source was deleted before a mapping could be suggested")
        mapping_suggest(source=source, job=job, engine=job.params.get("engine", "auto"))


@shared_task
def apply_mapping(job_id: int) -> None:
    with running_job(job_id) as job:
        if job is None:
            return
        mapping = Mapping.objects.filter(pk=job.target_id).first()
        if mapping is None:
            raise JobFailed("the mapping was deleted before it could be applied")
        mapping_apply(mapping=mapping, job=job)
