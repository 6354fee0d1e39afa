"""Image columns tell the truth (issue 17 points 1-2): a value in a column of images that is not a readable image
under the roots rejects its row with the reason (never becomes text), the suggester sees the image column even
when most rows were bad, and apply never drops a stored image without a warned or rejected row."""
import pytest

from curation.mapping.spec import spec_from_dict
from curation.models import Job, JobError, Mapping, Sample, Source, SourceRow
from curation.services.mapping import mapping_accept, mapping_create_version, mapping_suggest
from curation.services.mapping_build import PROFILE_FIRST_ROWS, source_profile
from curation.services.sources import source_ingest_prepare, source_register
from tests.curation.ingest.makers import write_image, write_jsonl
from tests.curation.mapping import layouts
from workers.tasks.ingest import ingest_source
from workers.tasks.mapping import apply_mapping

pytestmark = pytest.mark.django_db


def _ingest(tmp_path, name, records):
    source = source_register(name=name, location=str(write_jsonl(tmp_path / f"{name}.jsonl", records)))
    job, _ = source_ingest_prepare(source=source)
    ingest_source(job.pk)
    job.refresh_from_db()
    source.refresh_from_db()
    return source, job


def _errors(job):
    return {e.row_number: e.message for e in JobError.objects.filter(job=job, is_warning=False)}


def test_system_paths_in_an_image_column_are_rejected_with_their_reason_not_kept_as_text(tmp_path):
    source, job = _ingest(tmp_path, "hostile", [
        {"image": "../../../../../../etc/passwd", "question": "What?", "answer": "A"},
        {"image": "/etc/shadow", "question": "What?", "answer": "B"},
    ])
    assert job.state == Job.State.FAILED and source.row_count == 0 and source.rejected_count == 2
    errors = _errors(job)
    assert set(errors) == {0, 1}
    assert all(m.startswith("image: ") for m in errors.values())
    assert "/etc/shadow" in errors[1] and ("allowed" in errors[1] or "outside" in errors[1])
    assert not SourceRow.objects.filter(source=source).exists()


def test_values_without_an_extension_in_a_named_image_column_are_images_or_rejected(tmp_path):
    write_image(tmp_path / "pics" / "cat")  # an image file without an extension
    source, job = _ingest(tmp_path, "noext", [
        {"img_path": "pics/cat", "caption": "A cat."},
        {"img_path": "pics/missing", "caption": "Nothing."},
        {"img_path": "http://example.com/a", "caption": "Remote."},
        {"img_path": "", "caption": "No image given."},
    ])
    assert job.state == Job.State.SUCCEEDED and source.row_count == 2 and source.rejected_count == 2
    rows = {r.row_number: r for r in SourceRow.objects.filter(source=source)}
    assert rows[0].data["img_path"] == {"$image": rows[0].image_shas[0]}
    assert rows[3].data["img_path"] == ""
    errors = _errors(job)
    assert "image file not found: pics/missing" in errors[1]
    assert "is a URL; remote images are not fetched" in errors[2]


def test_a_column_that_held_images_in_other_rows_rejects_its_text_in_earlier_and_later_rows(tmp_path):
    write_image(tmp_path / "a.jpg")
    source, job = _ingest(tmp_path, "visual", [
        {"visual": "/etc/shadow", "text": "row 0"},
        {"visual": "../../../etc/passwd", "text": "row 1"},
        {"visual": "a.jpg", "text": "row 2"},
        {"visual": "/etc/hostname", "text": "row 3"},
    ])
    assert job.state == Job.State.SUCCEEDED
    assert list(SourceRow.objects.filter(source=source).values_list("row_number", flat=True)) == [2]
    assert set(_errors(job)) == {0, 1, 3}
    assert source.row_count == 1 and source.rejected_count == 3 and job.result["rows"] == 1


def test_the_one_real_image_among_bad_rows_is_seen_by_the_suggester_and_applied(tmp_path, curator):
    write_image(tmp_path / "good.png")
    records = [{"image": "good.png", "question": "Colour?", "answer": "Red."}]
    records += [{"image": bad, "question": "Colour?", "answer": "?"}
                for bad in ["/etc/shadow", "../../../../etc/passwd", "/etc/hostname", "missing.png", "/proc/self/environ"]]
    source, job = _ingest(tmp_path, "six", records)
    assert source.row_count == 1 and source.rejected_count == 5
    mapping = mapping_suggest(source=source)
    assert mapping.spec["images"] == [{"column": "image", "kind": "auto", "base": ""}]
    apply_job = mapping_accept(mapping=mapping, by=curator)
    apply_mapping.run(apply_job.pk)
    sample = Sample.objects.get(source=source)
    assert sample.image_count == 1


def test_the_profile_reaches_rows_with_images_beyond_the_first_and_random_rows():
    records = [{"question": f"q{n}", "answer": "a", "image": None} for n in range(400)]
    records[399]["image"] = layouts.IMG
    source = layouts.source_with_rows("late", records)
    profile = source_profile(source=source)
    assert any(isinstance(r.get("image"), dict) for r in profile.rows)
    small = layouts.source_with_rows("small", [{"question": f"q{n}", "answer": "a"} for n in range(PROFILE_FIRST_ROWS + 20)])
    assert len(source_profile(source=small).rows) == PROFILE_FIRST_ROWS + 20  # every row of a small source


def _apply(source, spec, curator):
    mapping = mapping_create_version(source=source, spec=spec_from_dict(spec, columns=source.columns), by=curator)
    job = mapping_accept(mapping=mapping, by=curator)
    apply_mapping.run(job.pk)
    job.refresh_from_db()
    return Mapping.objects.get(pk=mapping.pk), job


QA = {"mode": "template", "pairs": [{"user": "{question}", "assistant": "{answer}"}]}


def test_apply_rejects_text_left_in_a_mapped_image_column(curator):
    source = layouts.source_with_rows("old", [
        {"image": layouts.IMG, "question": "q0", "answer": "a"},
        {"image": "/etc/shadow", "question": "q1", "answer": "a"},  # stored as text by an older ingest
    ])
    spec = {"subset": {"name": "old", "category": "general_vqa"}, "images": [{"column": "image", "kind": "auto"}],
            "turns": QA, "filters": []}
    _, job = _apply(source, spec, curator)
    assert job.state == Job.State.SUCCEEDED and job.result["samples"] == 1 and job.result["rejected"] == 1
    assert "column 'image': '/etc/shadow' is not a stored image" in JobError.objects.get(job=job).message


def test_apply_warns_for_every_stored_image_the_mapping_leaves_out(curator, curator_client):
    source = layouts.source_with_rows("unmapped", [
        {"image": layouts.IMG, "question": "q0", "answer": "a"},
        {"image": None, "question": "q1", "answer": "a"},
    ])
    spec = {"subset": {"name": "unmapped", "category": "text_only"}, "images": [], "turns": QA, "filters": []}
    _, job = _apply(source, spec, curator)
    assert job.state == Job.State.SUCCEEDED and job.result["samples"] == 2 and job.result["warned"] == 1
    assert job.error_count == 0  # kept, not rejected
    warning = JobError.objects.get(job=job)
    assert warning.is_warning and warning.row_number == 0
    assert warning.message == "built without 1 stored image of column 'image': the mapping does not take it"
    page = curator_client.get(f"/jobs/{job.pk}/").content.decode()
    assert "warned" in page and "built without 1 stored image" in page
    assert Source.objects.get(pk=source.pk).samples.count() == 2
