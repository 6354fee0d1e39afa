"""The mapping tasks on a real Celery worker and the real broker: suggest, then accept queues apply."""

import pytest

from curation.models import Job, Mapping, Sample
from curation.services.mapping import mapping_accept, mapping_suggest_start
from tests.curation.mapping import layouts
from tests.jobs import job_wait_finished


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_suggests_then_applies_the_accepted_mapping(celery_worker_real, curator):
    source = layouts.source_with_rows("LLaVA-Instruct", layouts.llava_records())
    suggest_job = job_wait_finished(mapping_suggest_start(source=source, by=curator, engine="rules"))
    assert suggest_job.state == Job.State.SUCCEEDED, suggest_job.message
    mapping = Mapping.objects.get(pk=suggest_job.result["mapping_id"])
    apply_job = job_wait_finished(mapping_accept(mapping=mapping, by=curator))
    assert apply_job.state == Job.State.SUCCEEDED, apply_job.message
    assert apply_job.result["samples"] == 2 and apply_job.done == apply_job.total == 2
    assert set(Sample.objects.filter(source=source).values_list("mapping_id", flat=True)) == {mapping.pk}
