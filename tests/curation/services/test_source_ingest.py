"""source_ingest: rows written in bulk, bad records rejected with where and why, re-runs idempotent."""
import pyarrow as pa
import pytest

from curation.ingest.records import RecordPreparer
from curation.models import Image, Job, JobError, Source, SourceRow
from curation.services import job_kinds
from curation.services.ingest import source_ingest
from curation.services.jobs import JobFailed, job_cancel, job_create
from curation.services.sources import source_register
from tests.curation.ingest.makers import (
    HF_IMAGE,
    image_bytes,
    write_image,
    write_json,
    write_jsonl,
    write_parquet,
)

pytestmark = pytest.mark.django_db


def _ingest(source):
    job = job_create(kind=job_kinds.INGEST.key, target=source)
    source_ingest(source=source, job=job)
    source.refresh_from_db()
    job.refresh_from_db()
    return job


def _rows(source):
    return list(SourceRow.objects.filter(source=source).order_by("row_number").values_list("row_number", "data"))


def test_ingests_jsonl_rows_and_rejects_bad_lines_with_their_numbers(tmp_path):
    write_image(tmp_path / "img" / "a.png")
    path = write_jsonl(
        tmp_path / "vqa.jsonl",
        [
            {"image": "img/a.png", "question": "colour?", "answer": "red"},
            "{broken",
            {"image": "img/missing.png", "question": "?", "answer": "?"},
            {"image": "img/a.png", "question": "shape?", "answer": "square"},
        ],
    )
    source = source_register(name="vqa", location=str(path))
    job = _ingest(source)
    assert [n for n, _ in _rows(source)] == [0, 3]
    assert source.status == Source.Status.READY and source.row_count == 2 and source.rejected_count == 2
    assert source.image_count == 1 and source.detected_format == "jsonl" and source.layout == "table"
    assert source.columns == {"image": "image", "question": "string", "answer": "string"}
    assert source.ingested_at is not None
    errors = list(JobError.objects.filter(job=job).values_list("row_number", "location"))
    assert errors == [(1, "line 2"), (2, "line 3")]
    assert job.done == 4 and job.total == 4 and job.error_count == 2
    assert job.result == {"rows": 2, "rejected": 2, "images": 1, "format": "jsonl", "layout": "table"}


def test_ingests_a_parquet_file_of_hf_image_structs_in_the_cauldron_layout(tmp_path):
    pngs = [image_bytes((i * 40, 0, 0)) for i in range(4)]
    texts = pa.list_(pa.struct([("user", pa.string()), ("assistant", pa.string())]))
    path = write_parquet(
        tmp_path / "c.parquet",
        {"images": [[{"bytes": p, "path": None}] for p in pngs], "texts": [[{"user": "q", "assistant": "a"}]] * 4},
        pa.schema([("images", pa.list_(HF_IMAGE)), ("texts", texts)]),
    )
    source = source_register(name="cauldron", location=str(path))
    _ingest(source)
    assert source.layout == "cauldron" and source.row_count == 4 and source.image_count == 4
    assert Image.objects.count() == 4
    row = SourceRow.objects.get(source=source, row_number=2)
    assert row.data["images"] == [{"$image": row.image_shas[0]}]


def test_ingests_an_image_folder_and_rejects_what_is_not_an_image(tmp_path, settings):
    settings.FINECURATE_MAX_IMAGE_PIXELS = 5000
    root = tmp_path / "pics"
    write_image(root / "cat" / "a.png")
    write_image(root / "dog" / "b.png", (0, 200, 0))
    write_image(root / "dog" / "huge.png", size=(100, 100))
    (root / "dog" / "broken.jpg").write_bytes(b"\xff\xd8\xff not a jpeg")
    (root / "list.bin").write_bytes(b"?")
    source = source_register(name="pics", location=str(root))
    job = _ingest(source)
    assert source.layout == "imagefolder" and source.detected_format == "imagefolder"
    assert source.row_count == 2 and source.image_count == 2 and source.rejected_count == 3
    reasons = dict(JobError.objects.filter(job=job).values_list("location", "message"))
    assert "decompression bomb" in reasons["dog/huge.png"]
    assert "dog/broken.jpg" in reasons and "unknown format" in reasons["list.bin"]
    assert {d["label"] for _, d in _rows(source)} == {"cat", "dog"}


def test_running_an_ingest_twice_leaves_the_same_rows(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [{"i": i} for i in range(10)])
    source = source_register(name="twice", location=str(path))
    _ingest(source)
    first = _rows(source)
    job = _ingest(source)
    assert _rows(source) == first and source.row_count == 10 and job.state == Job.State.QUEUED
    assert SourceRow.objects.filter(source=source).count() == 10


def test_reingest_after_the_file_changed_drops_rows_that_are_gone_or_now_rejected(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [{"i": i} for i in range(6)])
    source = source_register(name="changing", location=str(path))
    _ingest(source)
    write_jsonl(path, [{"i": 0}, "{bad", {"i": 20}])
    _ingest(source)
    assert _rows(source) == [(0, {"i": 0}), (2, {"i": 20})]
    assert source.row_count == 2 and source.rejected_count == 1


def test_a_file_that_cannot_be_read_fails_the_job_with_a_clear_message(tmp_path):
    path = tmp_path / "a.parquet"
    path.write_bytes(b"PAR1 and then nothing a Parquet reader can use")  # the magic passes registration; the rest is broken
    source = source_register(name="broken", location=str(path), format="parquet")
    with pytest.raises(JobFailed, match="not a valid Parquet file"):
        _ingest(source)
    source.refresh_from_db()
    assert source.status == Source.Status.FAILED


def test_a_source_whose_every_record_is_rejected_fails(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", ["{x", "[1]"])
    source = source_register(name="allbad", location=str(path))
    job = job_create(kind=job_kinds.INGEST.key, target=source)
    with pytest.raises(JobFailed, match="all 2 records were rejected"):
        source_ingest(source=source, job=job)
    source.refresh_from_db()
    assert source.status == Source.Status.FAILED and source.rejected_count == 2
    assert JobError.objects.filter(job=job).count() == 2


def test_a_source_moved_outside_the_roots_fails(tmp_path, settings):
    path = write_json(tmp_path / "a.json", [{"a": 1}])
    source = source_register(name="moved", location=str(path))
    settings.FINECURATE_DATA_ROOTS = [tmp_path / "elsewhere"]
    with pytest.raises(JobFailed, match="outside the allowed data roots"):
        _ingest(source)


def test_a_retried_job_reports_each_rejected_row_once(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [{"a": 1}, "{bad"])
    source = source_register(name="retry", location=str(path))
    job = job_create(kind=job_kinds.INGEST.key, target=source)
    source_ingest(source=source, job=job)
    source_ingest(source=source, job=job)
    job.refresh_from_db()
    assert job.error_count == 1 and JobError.objects.filter(job=job).count() == 1


def test_rows_are_flushed_in_batches_with_progress(tmp_path, monkeypatch, django_assert_max_num_queries):
    monkeypatch.setattr("curation.services.ingest.FLUSH_ROWS", 100)
    path = write_jsonl(tmp_path / "a.jsonl", [{"i": i} for i in range(1000)])
    source = source_register(name="batches", location=str(path))
    job = job_create(kind=job_kinds.INGEST.key, target=source)
    # About ten COPY batches and their progress updates, never one INSERT per row.
    with django_assert_max_num_queries(120):
        source_ingest(source=source, job=job)
    assert SourceRow.objects.filter(source=source).count() == 1000


def test_rows_with_images_between_streamed_text_rows_are_all_written(tmp_path, monkeypatch):
    monkeypatch.setattr("curation.ingest.writer.STREAM_CHUNK_ROWS", 10)
    write_image(tmp_path / "a.png")
    records = [{"t": i} for i in range(50)] + [{"t": 50, "image": "a.png"}] + [{"t": i} for i in range(51, 100)]
    source = source_register(name="mixed", location=str(write_jsonl(tmp_path / "m.jsonl", records)))
    _ingest(source)
    assert source.row_count == 100 and source.image_count == 1
    assert [d["t"] for _, d in _rows(source)] == list(range(100))
    assert SourceRow.objects.get(source=source, row_number=50).image_shas == [Image.objects.get().pk]


def test_an_unexpected_error_mid_stream_fails_the_source_and_keeps_the_connection_usable(tmp_path, monkeypatch):
    monkeypatch.setattr("curation.ingest.writer.STREAM_CHUNK_ROWS", 10)
    real = RecordPreparer.prepare_quick

    def explode(self, data, *, json_text):
        if data["i"] == 40:
            raise RuntimeError("disk on fire")
        return real(self, data, json_text=json_text)

    monkeypatch.setattr(RecordPreparer, "prepare_quick", explode)
    source = source_register(name="boom", location=str(write_jsonl(tmp_path / "a.jsonl", [{"i": i} for i in range(60)])))
    job = job_create(kind=job_kinds.INGEST.key, target=source)
    with pytest.raises(RuntimeError, match="disk on fire"):
        source_ingest(source=source, job=job)
    source.refresh_from_db()
    assert source.status == Source.Status.FAILED and not SourceRow.objects.filter(source=source).exists()


def test_a_cancelled_job_stops_at_the_next_batch(tmp_path, monkeypatch):
    monkeypatch.setattr("curation.services.ingest.FLUSH_ROWS", 10)
    source = source_register(name="stop", location=str(write_jsonl(tmp_path / "a.jsonl", [{"i": i} for i in range(100)])))
    job = job_create(kind=job_kinds.INGEST.key, target=source)
    job_cancel(job=job)
    source_ingest(source=source, job=job)
    source.refresh_from_db()
    job.refresh_from_db()
    assert job.state == Job.State.CANCELLED and source.status == Source.Status.FAILED
    assert source.row_count == SourceRow.objects.filter(source=source).count() == 10


def test_a_folder_of_parquet_shards_is_one_source(tmp_path):
    for shard in range(2):
        write_parquet(tmp_path / "ds" / "data" / f"train-{shard:05d}-of-00002.parquet", {"q": [f"q{shard}{i}" for i in range(4)]})
    (tmp_path / "ds" / "README.md").write_text("# card")
    source = source_register(name="shards", location=str(tmp_path / "ds"))
    _ingest(source)
    assert source.row_count == 8 and source.rejected_count == 0 and source.detected_format == "parquet"
    assert [d["q"] for _, d in _rows(source)][3:5] == ["q03", "q10"]


def test_the_source_counts_move_with_each_batch(tmp_path, monkeypatch):
    monkeypatch.setattr("curation.services.ingest.FLUSH_ROWS", 10)
    seen = []
    real = Source.objects.filter

    def spy(*args, **kwargs):
        queryset = real(*args, **kwargs)
        seen.append(Source.objects.values_list("row_count", flat=True).get(name="steps"))
        return queryset

    source = source_register(name="steps", location=str(write_jsonl(tmp_path / "a.jsonl", [{"i": i} for i in range(35)])))
    monkeypatch.setattr(Source.objects, "filter", spy)
    _ingest(source)
    assert {10, 20, 30} <= set(seen) and source.row_count == 35
