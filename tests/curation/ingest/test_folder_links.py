"""A folder source cannot read files outside the data roots through links: every walked file is checked resolved."""
import json

import pytest

from curation.ingest.readers import reader_open
from curation.models import SourceRow
from curation.services import job_kinds
from curation.services.ingest import source_ingest
from curation.services.jobs import job_create
from curation.services.sources import source_register
from tests.curation.ingest.makers import write_image

pytestmark = pytest.mark.django_db


@pytest.fixture
def outside(tmp_path_factory):
    """A folder that is no data root, holding rows nobody may ingest."""
    folder = tmp_path_factory.mktemp("outside-the-roots")
    secret = folder / "secret.jsonl"
    secret.write_text(json.dumps({"text": "the secret row"}) + "\n")
    return folder


def _ingest(folder, curator):
    source = source_register(name=folder.name, location=str(folder), by=curator)
    job = job_create(kind=job_kinds.INGEST.key, target=source, created_by=curator)
    source_ingest(source=source, job=job)
    job.refresh_from_db()
    return source, job


def test_a_linked_shard_outside_the_roots_is_rejected_and_the_others_are_ingested(tmp_path, outside, curator):
    folder = tmp_path / "folder_src"
    folder.mkdir()
    (folder / "good.jsonl").write_text(json.dumps({"text": "an honest row"}) + "\n")
    (folder / "evil.jsonl").symlink_to(outside / "secret.jsonl")
    source, job = _ingest(folder, curator)
    texts = [row.data["text"] for row in SourceRow.objects.filter(source=source)]
    assert texts == ["an honest row"]
    source.refresh_from_db()
    assert source.row_count == 1 and source.rejected_count == 1
    error = job.errors.get()
    assert error.location == "evil.jsonl" and "outside the allowed data roots" in error.message


def test_a_linked_image_or_metadata_file_in_an_image_folder_is_not_read(tmp_path, outside):
    write_image(outside / "private.jpg")
    folder = tmp_path / "images"
    folder.mkdir()
    write_image(folder / "mine.jpg")
    (folder / "theirs.jpg").symlink_to(outside / "private.jpg")
    reader = reader_open(folder)
    records = list(reader.records())
    assert [r.data["file_name"] for r in records if r.data] == ["mine.jpg"]
    assert [(r.location, r.error) for r in records if r.error] == [
        ("theirs.jpg", "a link to a file outside the allowed data roots: not read")
    ]
    assert reader.count() == 1
    (folder / "metadata.jsonl").symlink_to(outside / "secret.jsonl")
    with pytest.raises(Exception, match="outside the allowed data roots"):
        reader_open(folder, "imagefolder")


def test_a_linked_file_inside_the_roots_is_still_read(tmp_path, curator):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "rows.jsonl").write_text(json.dumps({"text": "linked within the roots"}) + "\n")
    folder = tmp_path / "folder_src"
    folder.mkdir()
    (folder / "rows.jsonl").symlink_to(elsewhere / "rows.jsonl")
    source, job = _ingest(folder, curator)
    assert [row.data["text"] for row in SourceRow.objects.filter(source=source)] == ["linked within the roots"]
