"""Readers: each format as a stream of records, bad records rejected with where and why."""
import gzip
import json
import tracemalloc

import pyarrow as pa
import pytest

from curation.ingest.readers import SourceUnreadable, format_detect, reader_open
from tests.curation.ingest.makers import (
    HF_IMAGE,
    image_bytes,
    write_image,
    write_json,
    write_jsonl,
    write_parquet,
)


def _read(path, fmt="auto"):
    reader = reader_open(path, fmt)
    return reader, list(reader.records())


def test_jsonl_rejects_a_malformed_line_with_its_number_and_reads_the_rest(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [{"q": "one"}, "{not json", "", "[1, 2]", {"q": "four"}, '{"x": NaN}'])
    reader, records = _read(path)
    assert reader.format == "jsonl" and reader.count() == 6
    good = [r for r in records if r.error is None]
    bad = [r for r in records if r.error]
    assert [r.data["q"] for r in good] == ["one", "four"]
    assert [r.row_number for r in good] == [0, 3]
    assert [(r.location, r.row_number) for r in bad] == [("line 2", 1), ("line 4", 2), ("line 6", 4)]
    assert "not valid JSON" in bad[0].error and "found list" in bad[1].error and "not valid JSON" in bad[2].error


def test_jsonl_reads_gzip(tmp_path):
    path = tmp_path / "a.jsonl.gz"
    path.write_bytes(gzip.compress(b'{"a": 1}\n{"a": 2}\n'))
    reader, records = _read(path)
    assert reader.format == "jsonl" and [r.data["a"] for r in records] == [1, 2]


def test_json_array_is_streamed_item_by_item(tmp_path):
    path = write_json(tmp_path / "a.json", [{"id": i, "score": 0.5} for i in range(5)] + ["oops"])
    reader, records = _read(path)
    assert reader.format == "json" and reader.count() == 6
    assert [r.data["id"] for r in records[:5]] == [0, 1, 2, 3, 4]
    assert isinstance(records[0].data["score"], float)
    assert records[5].error == "a JSON object was expected, found str" and records[5].location == "item 6"


def test_json_object_holding_an_array_of_records(tmp_path):
    path = write_json(tmp_path / "a.json", {"info": {"tags": [1]}, "data": [{"id": 1}, {"id": 2}]})
    _, records = _read(path)
    assert [r.data["id"] for r in records] == [1, 2]


def test_json_syntax_error_midway_keeps_the_records_before_it(tmp_path):
    path = tmp_path / "a.json"
    path.write_text('[{"id": 1}, {"id": 2}, {"id": oops}, {"id": 4}]')
    _, records = _read(path, "json")
    assert [r.data["id"] for r in records if r.data] == [1, 2]
    assert records[-1].row_number is None and "the rest of the file was not read" in records[-1].error


def test_a_file_that_is_not_json_cannot_be_read(tmp_path):
    path = tmp_path / "a.json"
    path.write_text("hello")
    with pytest.raises(SourceUnreadable, match="a.json"):
        reader_open(path, "json")


def test_json_records_are_read_in_constant_memory(tmp_path):
    def peak_bytes(count):
        path = write_json(tmp_path / f"big{count}.json", [{"id": i, "text": "x" * 200} for i in range(count)])
        tracemalloc.start()
        for _ in reader_open(path, "json").records():
            pass
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        return peak, path.stat().st_size

    small, _ = peak_bytes(2_000)
    large, size = peak_bytes(20_000)
    assert large < size / 10 and large < small * 2


def test_jsonl_records_are_read_in_constant_memory(tmp_path):
    path = write_jsonl(tmp_path / "big.jsonl", [{"id": i, "text": "y" * 300} for i in range(20_000)])
    tracemalloc.start()
    for _ in reader_open(path).records():
        pass
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < path.stat().st_size / 20


def test_parquet_reads_hf_image_structs_in_batches(tmp_path):
    png = image_bytes()
    schema = pa.schema([("image", HF_IMAGE), ("images", pa.list_(HF_IMAGE)), ("caption", pa.string()), ("n", pa.int64())])
    path = write_parquet(
        tmp_path / "train.parquet",
        {
            "image": [{"bytes": png, "path": "a.png"}] * 7,
            "images": [[{"bytes": png, "path": None}]] * 7,
            "caption": [f"c{i}" for i in range(7)],
            "n": list(range(7)),
        },
        schema,
    )
    reader, records = _read(path)
    assert reader.format == "parquet" and reader.count() == 7
    assert [r.row_number for r in records] == list(range(7))
    assert records[6].data["image"] == {"bytes": png, "path": "a.png"}
    assert records[6].data["images"][0]["bytes"] == png and records[6].data["n"] == 6


def test_a_file_that_is_not_parquet_cannot_be_read(tmp_path):
    path = tmp_path / "x.parquet"
    path.write_bytes(b"PAR1 but not really")
    with pytest.raises(SourceUnreadable, match="not a valid Parquet file"):
        reader_open(path)


def test_csv_rejects_rows_with_the_wrong_number_of_fields_and_bad_utf8(tmp_path):
    path = tmp_path / "a.csv"
    path.write_bytes(
        b'\xef\xbb\xbfimage,caption\n'
        b'a.png,"a red square, small"\n'
        b"b.png,too,many\n"
        b'c.png,"two\nlines"\n'
        b"d.png,caf\xe9\n"
        b"\n"
        b"e.png,ok\n"
    )
    reader, records = _read(path)
    assert reader.format == "csv"
    good = {r.data["image"]: (r.row_number, r.location) for r in records if r.data}
    assert good == {"a.png": (0, "line 2"), "c.png": (2, "line 4"), "e.png": (4, "line 8")}
    assert records[1].error == "3 fields where the header has 2" and records[1].location == "line 3"
    assert records[3].error == "not valid UTF-8" and records[3].location == "line 6"
    assert records[2].data["caption"] == "two\nlines"


def test_tsv_is_read_with_tabs(tmp_path):
    path = tmp_path / "a.tsv"
    path.write_text("question\tanswer\nwhat?\tthat, and more\n")
    reader, records = _read(path)
    assert reader.format == "tsv" and records[0].data == {"question": "what?", "answer": "that, and more"}


def test_format_detected_from_extension_and_content(tmp_path):
    write_jsonl(tmp_path / "lines.json", [{"a": 1}, {"a": 2}])
    write_json(tmp_path / "array.data", [{"a": 1}])
    (tmp_path / "table.parquet.bin").write_bytes((write_parquet(tmp_path / "t.parquet", {"a": [1]})).read_bytes())
    (tmp_path / "notes.xyz").write_text("just words")
    assert format_detect(tmp_path / "lines.json") == "jsonl"
    assert format_detect(tmp_path / "array.data") == "json"
    assert format_detect(tmp_path / "table.parquet.bin") == "parquet"
    with pytest.raises(SourceUnreadable, match="cannot tell the format of notes.xyz"):
        format_detect(tmp_path / "notes.xyz")
    with pytest.raises(SourceUnreadable, match="unknown format"):
        reader_open(tmp_path / "lines.json", "xml")


def test_image_folder_without_metadata_labels_images_by_subfolder(tmp_path):
    root = tmp_path / "pets"
    write_image(root / "cat" / "1.png")
    write_image(root / "dog" / "2.jpg", (0, 0, 255))
    write_image(root / "top.png")
    (root / "notes.docx").write_bytes(b"PK")
    (root / "README.md").write_text("about")
    reader, records = _read(root)
    assert reader.format == "imagefolder" and reader.count() == 3
    rows = [r for r in records if r.data]
    assert [(r.data["file_name"], r.data.get("label")) for r in rows] == [
        ("top.png", None),
        ("cat/1.png", "cat"),
        ("dog/2.jpg", "dog"),
    ]
    assert rows[0].data["image"] == {"bytes": None, "path": "top.png"} and rows[0].text_keys == {"file_name"}
    [unknown] = [r for r in records if r.error]
    assert unknown.location == "notes.docx" and "unknown format" in unknown.error and unknown.row_number is None


def test_image_folder_with_hf_metadata_jsonl(tmp_path):
    root = tmp_path / "imgs"
    write_image(root / "a.png")
    write_jsonl(root / "metadata.jsonl", [{"file_name": "a.png", "text": "red"}, {"caption": "no file"}])
    _, records = _read(root, "imagefolder")
    assert records[0].data == {"image": {"bytes": None, "path": "a.png"}, "file_name": "a.png", "text": "red"}
    assert records[1].location == "metadata.jsonl line 2" and "no image file name" in records[1].error


def test_image_folder_with_metadata_csv_and_labels_csv(tmp_path):
    root = tmp_path / "imgs"
    write_image(root / "a.png")
    (root / "labels.csv").write_text("filename,label\na.png,red\n")
    _, records = _read(root)
    assert records[0].data == {"image": {"bytes": None, "path": "a.png"}, "file_name": "a.png", "label": "red"}


def test_image_folder_with_flickr_style_captions_txt(tmp_path):
    root = tmp_path / "flickr"
    write_image(root / "a.jpg")
    (root / "captions.txt").write_text("image,caption\na.jpg,A red square.\na.jpg#1\tStill red.\nnonsense\n")
    _, records = _read(root)
    assert [r.data["caption"] for r in records if r.data] == ["A red square.", "Still red."]
    assert records[0].data["file_name"] == "a.jpg" and records[1].data["file_name"] == "a.jpg"
    assert records[2].location == "captions.txt line 4" and "expected" in records[2].error


def test_folder_of_shards_is_one_source_numbered_across_files(tmp_path):
    root = tmp_path / "ds"
    write_jsonl(root / "data" / "train-00000.jsonl", [{"i": 0}, {"i": 1}])
    write_jsonl(root / "data" / "train-00001.jsonl", [{"i": 2}, "broken"])
    (root / "data" / "extra.bin").write_bytes(b"\x00\x01")
    (root / ".gitattributes").write_text("*")
    reader, records = _read(root)
    assert reader.format == "jsonl" and reader.count() == 4
    assert [(r.row_number, r.data["i"]) for r in records if r.data] == [(0, 0), (1, 1), (2, 2)]
    errors = {r.location: r.error for r in records if r.error}
    assert errors["data/extra.bin"].startswith("unknown format")
    assert "not valid JSON" in errors["train-00001.jsonl line 2"]


def test_a_missing_path_cannot_be_read(tmp_path):
    with pytest.raises(SourceUnreadable, match="does not exist"):
        reader_open(tmp_path / "nope.jsonl")


def test_records_stay_json_after_reading(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [{"nested": {"list": [1, {"x": None}]}}])
    _, [record] = _read(path)
    assert json.loads(json.dumps(record.data)) == {"nested": {"list": [1, {"x": None}]}}


def test_a_byte_order_mark_does_not_hide_the_first_record(tmp_path):
    path = tmp_path / "bom.data"
    path.write_bytes(b'\xef\xbb\xbf{"a": 1}\n{"a": 2}\n')
    reader, records = _read(path)
    assert reader.format == "jsonl" and [r.data["a"] for r in records] == [1, 2]
