"""The hard-negative job on a real Celery worker: started like the page starts it, progress recorded, then done."""
import pytest

from curation.models import HardNegative
from curation.services.hard_negatives import hard_negatives_start
from tests.curation.services.test_hard_negatives import caption_subset
from tests.jobs import job_wait_finished


@pytest.mark.worker
@pytest.mark.django_db(transaction=True)
def test_a_worker_runs_the_job_and_records_its_progress(celery_worker_real, curator):
    subset, samples = caption_subset(6)
    job = hard_negatives_start(subset=subset, by=curator, ratio=4, attributes=["colour", "count", "object", "action"])
    job = job_wait_finished(job, seconds=120)
    assert job.state == "succeeded", job.message
    assert (job.done, job.total) == (len(samples), len(samples))
    assert job.result["created"] == HardNegative.objects.filter(subset=subset).count() > 0
    assert set(job.result["by_attribute"]) <= {"colour", "count", "object", "action"}
