"""source_ingest_start: one ingest job per source at a time, enqueued only after commit."""
import pytest

from curation.models import Source
from curation.services import job_kinds
from curation.services.sources import source_ingest_start, source_register
from tests.broker import SentTask
from tests.curation.ingest.makers import write_jsonl

pytestmark = pytest.mark.django_db


def test_creates_an_ingest_job_and_enqueues_it_after_commit(tmp_path, curator, django_capture_on_commit_callbacks, broker):
    source = source_register(name="a", location=str(write_jsonl(tmp_path / "a.jsonl", [{"a": 1}])))
    with django_capture_on_commit_callbacks(execute=True):
        job = source_ingest_start(source=source, by=curator)
        assert broker.sent() == []
    assert job.kind == job_kinds.INGEST.key and job.target == source and job.created_by == curator
    assert broker.sent() == [
        SentTask(name="workers.tasks.ingest.ingest_source", args=[job.pk], kwargs={}, id=job.celery_id, queue="io")
    ]
    source.refresh_from_db()
    assert source.status == Source.Status.INGESTING


def test_an_ingest_already_under_way_is_returned_not_doubled(tmp_path, django_capture_on_commit_callbacks, broker):
    source = source_register(name="a", location=str(write_jsonl(tmp_path / "a.jsonl", [{"a": 1}])))
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = source_ingest_start(source=source)
        second = source_ingest_start(source=source)
    assert first == second and len(callbacks) == 1
    assert [(task.name, task.args) for task in broker.sent()] == [(job_kinds.INGEST.task, [first.pk])]
