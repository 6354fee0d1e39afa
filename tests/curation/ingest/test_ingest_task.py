"""The ingest task on a real Celery worker and the real Redis broker."""

import pytest

from curation.models import Job, Source, SourceRow
from curation.services.sources import source_ingest_start, source_register
from tests.curation.ingest.makers import write_image, write_json
from tests.jobs import job_wait_finished

pytestmark = [pytest.mark.worker, pytest.mark.django_db(transaction=True)]





def test_a_worker_ingests_a_llava_source_and_records_progress(celery_worker_real, tmp_path, curator):
    write_image(tmp_path / "images" / "a.jpg")
    path = write_json(
        tmp_path / "llava.json",
        [
            {"id": str(i), "image": "images/a.jpg", "conversations": [{"from": "human", "value": "<image>\nWhat?"}, {"from": "gpt", "value": "Red."}]}
            for i in range(5)
        ]
        + [{"id": "x", "image": "images/none.jpg", "conversations": []}],
    )
    source = source_register(name="llava", location=str(path), by=curator)
    job = job_wait_finished(source_ingest_start(source=source, by=curator))
    assert job.state == Job.State.SUCCEEDED and job.percent == 100 and job.done == 6 and job.error_count == 1
    assert job.result["layout"] == "llava"
    source.refresh_from_db()
    assert source.status == Source.Status.READY and source.layout == "llava" and source.row_count == 5
    assert SourceRow.objects.filter(source=source).count() == 5


def test_a_worker_fails_the_job_of_an_unreadable_file_with_its_message(celery_worker_real, tmp_path):
    path = tmp_path / "rows.parquet"
    path.write_bytes(b"PAR1 and then nothing a Parquet reader can use")
    source = source_register(name="bad", location=str(path), format="parquet")
    job = job_wait_finished(source_ingest_start(source=source))
    assert job.state == Job.State.FAILED and "not a valid Parquet file" in job.message
    source.refresh_from_db()
    assert source.status == Source.Status.FAILED
