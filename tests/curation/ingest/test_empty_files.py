"""An empty file says plainly it is empty, whatever its format (issue 17 point 6)."""
import gzip

import pytest
from django.core.exceptions import ValidationError

from curation.ingest.readers import SourceUnreadable, format_detect, reader_open
from curation.models import Job
from curation.services.sources import source_ingest_prepare, source_register
from workers.tasks.ingest import ingest_source


@pytest.mark.parametrize("name", ["empty.json", "empty.jsonl", "empty.csv", "empty.tsv", "empty.parquet"])
@pytest.mark.parametrize("content", [b"", b"  \n\n\t\n"])
def test_an_empty_file_is_called_empty_for_every_format(tmp_path, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(SourceUnreadable, match=f"^{name} is empty$"):
        format_detect(path)
    with pytest.raises(SourceUnreadable, match=f"^{name} is empty$"):
        reader_open(path, name.rsplit(".", 1)[1])


def test_an_empty_gzipped_file_is_empty_too(tmp_path):
    path = tmp_path / "rows.jsonl.gz"
    path.write_bytes(gzip.compress(b""))
    with pytest.raises(SourceUnreadable, match="is empty"):
        reader_open(path, "jsonl")


@pytest.mark.django_db
def test_registering_an_empty_json_file_says_it_is_empty_not_a_parse_error(tmp_path):
    path = tmp_path / "rows.json"
    path.write_bytes(b"")
    with pytest.raises(ValidationError) as caught:
        source_register(name="e", location=str(path))
    assert caught.value.message_dict == {"format": ["rows.json is empty"]}


@pytest.mark.django_db
def test_ingesting_an_empty_json_file_fails_saying_it_is_empty(tmp_path):
    path = tmp_path / "rows.json"
    path.write_bytes(b"")
    source = source_register(name="e", location=str(path), format="json")
    job, _ = source_ingest_prepare(source=source)
    ingest_source(job.pk)
    job.refresh_from_db()
    assert job.state == Job.State.FAILED and job.message == "rows.json is empty"
