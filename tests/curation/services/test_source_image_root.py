"""A source's image folder: relative image paths in its rows are found there instead of beside the data file."""
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.management import call_command

from curation.models import JobError, Source, SourceRow
from curation.services import job_kinds, mapping_build
from curation.services.ingest import source_ingest
from curation.services.jobs import JobFailed, job_create
from curation.services.sources import source_register
from tests.curation.ingest.makers import write_image, write_json, write_jsonl

pytestmark = pytest.mark.django_db


def _ingest(source):
    job = job_create(kind=job_kinds.INGEST.key, target=source)
    source_ingest(source=source, job=job)
    source.refresh_from_db()
    return job


def _llava_150k(tmp_path):
    """llava_instruct_150k.json names bare COCO files; the images live in a COCO folder of their own."""
    write_image(tmp_path / "coco" / "train2017" / "000000033471.jpg", (10, 20, 30))
    write_image(tmp_path / "coco" / "train2017" / "000000052846.jpg", (90, 20, 30))
    turns = [{"from": "human", "value": "<image>\nWhat is this?"}, {"from": "gpt", "value": "A bus."}]
    records = [
        {"id": "000000033471", "image": "000000033471.jpg", "conversations": turns},
        {"id": "000000052846", "image": "000000052846.jpg", "conversations": turns},
    ]
    return write_json(tmp_path / "llava" / "llava_instruct_150k.json", records), tmp_path / "coco" / "train2017"


def test_registration_stores_the_resolved_image_folder(tmp_path):
    data, images = _llava_150k(tmp_path)
    source = source_register(name="llava", location=str(data), image_root=str(images / ".." / "train2017"))
    assert source.image_root == str(images.resolve())
    assert source_register(name="plain", location=str(data)).image_root == ""


@pytest.mark.parametrize(
    ("image_root", "message"),
    [
        ("/etc", "outside the allowed data roots"),
        ("{tmp}/nowhere", "does not exist"),
        ("{tmp}/llava/llava_instruct_150k.json", "is a file; the image folder must be a folder"),
    ],
)
def test_registration_refuses_an_image_folder_outside_the_roots_missing_or_not_a_folder(tmp_path, image_root, message):
    data, _ = _llava_150k(tmp_path)
    with pytest.raises(ValidationError) as exc:
        source_register(name="llava", location=str(data), image_root=image_root.format(tmp=tmp_path))
    assert message in exc.value.message_dict["image_root"][0]
    assert not Source.objects.exists()


def test_an_image_folder_source_takes_no_separate_image_folder(tmp_path):
    write_image(tmp_path / "pics" / "a.png")
    with pytest.raises(ValidationError) as exc:
        source_register(name="pics", location=str(tmp_path / "pics"), image_root=str(tmp_path))
    assert "holds its images itself" in exc.value.message_dict["image_root"][0]


def test_llava_150k_bare_names_ingest_from_the_image_folder(tmp_path):
    data, images = _llava_150k(tmp_path)
    source = source_register(name="llava", location=str(data), image_root=str(images))
    _ingest(source)
    assert source.status == Source.Status.READY and source.row_count == 2 and source.rejected_count == 0
    assert source.image_count == 2 and source.layout == "llava"
    row = SourceRow.objects.get(source=source, row_number=0)
    assert list(row.data["image"]) == ["$image"] and row.image_shas == [row.data["image"]["$image"]]


def test_without_the_image_folder_every_row_is_rejected_saying_where_it_looked(tmp_path):
    data, _ = _llava_150k(tmp_path)
    source = source_register(name="llava", location=str(data))
    job = job_create(kind=job_kinds.INGEST.key, target=source)
    with pytest.raises(JobFailed, match="all 2 records were rejected"):
        source_ingest(source=source, job=job)
    message = JobError.objects.filter(job=job).order_by("row_number").first().message
    assert "image file not found: 000000033471.jpg" in message
    assert f"looked for {(tmp_path / 'llava' / '000000033471.jpg').resolve()}" in message
    assert "set the source's image folder" in message


def test_karpathy_filepath_and_filename_are_found_under_the_image_folder(tmp_path):
    coco = tmp_path / "coco"
    write_image(coco / "val2014" / "COCO_val2014_000000391895.jpg", (1, 2, 3))
    write_image(coco / "train2014" / "COCO_train2014_000000057870.jpg", (4, 5, 6))
    sentences = [{"raw": "A man riding a bike.", "tokens": ["a", "man"]}]
    images = [
        {"filepath": "val2014", "filename": "COCO_val2014_000000391895.jpg", "split": "test", "sentences": sentences},
        {"filepath": "train2014", "filename": "COCO_train2014_000000057870.jpg", "split": "train", "sentences": []},
        {"filepath": "val2014", "filename": "COCO_val2014_000000000001.jpg", "split": "val", "sentences": []},
    ]
    data = write_json(tmp_path / "karpathy" / "dataset_coco.json", {"images": images, "dataset": "coco"})
    source = source_register(name="karpathy", location=str(data), image_root=str(coco))
    job = _ingest(source)
    assert source.row_count == 2 and source.rejected_count == 1 and source.image_count == 2
    row = SourceRow.objects.get(source=source, row_number=0)
    assert row.data["filepath"] == "val2014" and list(row.data["filename"]) == ["$image"]
    message = JobError.objects.get(job=job).message
    missing = "COCO_val2014_000000000001.jpg"
    assert f"looked for {coco.resolve() / missing} or {coco.resolve() / 'val2014' / missing}" in message
    assert "check that the source's image folder" in message


def test_the_ingest_command_takes_an_image_root(tmp_path):
    data, images = _llava_150k(tmp_path)
    out = io.StringIO()
    call_command("ingest", str(data), "--source", "llava", "--image-root", str(images), stdout=out)
    source = Source.objects.get(name="llava")
    assert source.image_root == str(images.resolve()) and "llava: 2 rows, 0 rejected, 2 images" in out.getvalue()


def test_a_relative_path_beside_the_data_file_is_still_found_without_an_image_folder(tmp_path):
    write_image(tmp_path / "img" / "a.png")
    source = source_register(name="vqa", location=str(write_jsonl(tmp_path / "vqa.jsonl", [{"image": "img/a.png"}])))
    _ingest(source)
    assert source.row_count == 1 and source.image_count == 1


def test_mapping_path_images_are_taken_from_the_image_folder_too(tmp_path):
    data, images = _llava_150k(tmp_path)
    with_folder = source_register(name="llava", location=str(data), image_root=str(images))
    without = source_register(name="plain", location=str(data))
    assert mapping_build.source_folder(source=with_folder) == images.resolve()
    assert mapping_build.source_folder(source=without) == data.parent.resolve()
