"""manage.py ingest: the same service, run here with progress and a summary, or enqueued with --async."""
import io

import pytest
from django.core.management import CommandError, call_command

from curation.models import Job, Source, SourceRow
from curation.services import job_kinds
from tests.curation.ingest.makers import write_jsonl

pytestmark = pytest.mark.django_db


def _run(*args):
    out = io.StringIO()
    call_command("ingest", *args, stdout=out)
    return out.getvalue()


def test_registers_and_ingests_a_file_printing_progress_and_a_summary(tmp_path):
    path = write_jsonl(tmp_path / "chat.jsonl", [{"messages": [{"role": "user", "content": "hi"}]}] * 3 + ["{bad"])
    out = _run(str(path), "--source", "chat", "--license", "MIT", "--origin", "https://example.org/chat")
    source = Source.objects.get(name="chat")
    assert source.license == "MIT" and source.origin == "https://example.org/chat" and source.layout == "sharegpt"
    assert "4 records read" in out and "chat: 3 rows, 1 rejected" in out and "rejected line 4" in out
    assert SourceRow.objects.filter(source=source).count() == 3


def test_reuses_an_existing_source_of_that_name(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [{"a": 1}])
    _run(str(path), "--source", "a")
    write_jsonl(path, [{"a": 1}, {"a": 2}])
    assert "a: 2 rows" in _run(str(path), "--source", "a", "--format", "jsonl")
    assert Source.objects.count() == 1
    assert Job.objects.filter(kind=job_kinds.INGEST.key).count() == 2
    # Only the first ingest queues a mapping suggestion.
    assert Job.objects.filter(kind=job_kinds.SUGGEST_MAPPING.key).count() == 1


def test_fails_with_a_nonzero_exit_when_the_file_cannot_be_read(tmp_path):
    path = tmp_path / "a.parquet"
    path.write_bytes(b"PAR1 and then nothing a Parquet reader can use")
    with pytest.raises(CommandError, match="Ingest failed: .*not a valid Parquet file"):
        _run(str(path), "--source", "p", "--format", "parquet")
    assert Source.objects.get(name="p").status == Source.Status.FAILED


def test_refuses_a_path_outside_the_allowed_roots():
    with pytest.raises(CommandError, match="outside the allowed data roots"):
        _run("/etc/hostname", "--source", "etc", "--format", "csv")


def test_async_enqueues_instead_of_running(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [{"a": 1}])
    out = _run(str(path), "--source", "later", "--async")
    job = Job.objects.get()
    assert f"job #{job.pk}" in out and job.state == Job.State.QUEUED
    assert not SourceRow.objects.exists()
