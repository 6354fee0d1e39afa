"""Preparing records: images found in every shape, stored by sha256 and replaced by {"$image": sha}."""
import base64
import datetime as dt
import hashlib
import json
from decimal import Decimal

import numpy as np
import pytest

from curation.ingest.records import RecordPreparer, RowRejected
from curation.models import Image
from curation.services.images import image_file_path
from tests.curation.ingest.makers import image_bytes, write_image

pytestmark = pytest.mark.django_db


def _prepare(data, base_dir, **kwargs):
    return RecordPreparer().prepare(data, base_dir=base_dir, **kwargs)


def test_hf_image_structs_are_stored_and_replaced_by_references(tmp_path):
    png = image_bytes()
    sha = hashlib.sha256(png).hexdigest()
    row = _prepare({"image": {"bytes": png, "path": "x.png"}, "images": [{"bytes": png, "path": None}], "q": "?"}, tmp_path)
    assert row.data == {"image": {"$image": sha}, "images": [{"$image": sha}], "q": "?"}
    assert row.image_shas == [sha, sha]
    image = Image.objects.get(pk=sha)
    assert (image.width, image.height, image.format) == (16, 12, "PNG")
    assert image_file_path(image=image).read_bytes() == png


def test_a_struct_with_only_a_path_loads_the_file_relative_to_the_source(tmp_path):
    write_image(tmp_path / "imgs" / "a.jpg")
    row = _prepare({"image": {"bytes": None, "path": "imgs/a.jpg"}}, tmp_path)
    assert Image.objects.get(pk=row.image_shas[0]).format == "JPEG"


def test_an_empty_struct_is_a_missing_image_not_an_error(tmp_path):
    assert _prepare({"image": {"bytes": None, "path": None}}, tmp_path).data == {"image": None}


def test_string_paths_to_images_are_stored(tmp_path):
    write_image(tmp_path / "images" / "cat.png")
    row = _prepare({"image": "images/cat.png", "images": ["images/cat.png"]}, tmp_path)
    assert row.data["image"] == {"$image": row.image_shas[0]} and len(row.image_shas) == 2


def test_data_urls_in_openai_image_url_parts_are_stored(tmp_path):
    png = image_bytes()
    url = "data:image/png;base64," + base64.b64encode(png).decode()
    part = {"type": "image_url", "image_url": {"url": url}}
    preparer = RecordPreparer()
    assert preparer.prepare_quick({"content": [part]}, json_text=json.dumps({"content": [part]})) is None
    row = preparer.prepare({"content": [part, {"type": "text", "text": "data: image/png is a MIME type"}]},
                           base_dir=tmp_path)
    sha = hashlib.sha256(png).hexdigest()
    assert row.data["content"][0] == {"type": "image_url", "image_url": {"url": {"$image": sha}}}
    assert row.data["content"][1]["text"] == "data: image/png is a MIME type" and row.image_shas == [sha]
    with pytest.raises(RowRejected, match=r"content\[0\]\.image_url\.url: a data URL whose base64 cannot be decoded"):
        preparer.prepare({"content": [{"type": "image_url", "image_url": {"url": "data:image/png;base64,%%%"}}]},
                         base_dir=tmp_path)


def test_a_missing_image_file_rejects_the_row(tmp_path):
    with pytest.raises(RowRejected, match="image: image file not found: images/gone.png"):
        _prepare({"image": "images/gone.png"}, tmp_path)


def test_an_image_path_outside_the_allowed_roots_rejects_the_row(tmp_path):
    with pytest.raises(RowRejected, match="outside the allowed data roots"):
        _prepare({"image": "/etc/secret.png"}, tmp_path)
    with pytest.raises(RowRejected, match="outside the allowed data roots"):
        _prepare({"image": {"bytes": None, "path": "../../../../etc/x.jpg"}}, tmp_path)


def test_prose_ending_in_an_image_extension_stays_text(tmp_path):
    row = _prepare({"question": "What is shown in figure.png"}, tmp_path)
    assert row.data == {"question": "What is shown in figure.png"} and row.image_shas == []


def test_a_corrupt_image_rejects_the_row(tmp_path):
    truncated = image_bytes(size=(64, 64), fmt="JPEG")[:200]
    with pytest.raises(RowRejected, match="corrupt image|not an image"):
        _prepare({"image": {"bytes": truncated, "path": None}}, tmp_path)
    (tmp_path / "bad.png").write_bytes(b"\x89PNG not really")
    with pytest.raises(RowRejected, match="bad.png"):
        _prepare({"image": "bad.png"}, tmp_path)


def test_an_image_over_the_pixel_limit_is_refused_as_a_decompression_bomb(tmp_path, settings):
    settings.FINECURATE_MAX_IMAGE_PIXELS = 1000
    with pytest.raises(RowRejected, match="decompression bomb"):
        _prepare({"image": {"bytes": image_bytes(size=(64, 64)), "path": None}}, tmp_path)
    assert not Image.objects.exists()


def test_bytes_that_are_not_an_image_reject_the_row(tmp_path):
    with pytest.raises(RowRejected, match="blob: bytes that are not an image"):
        _prepare({"blob": b"\x00\x01\x02"}, tmp_path)


def test_numpy_arrow_and_python_values_become_json(tmp_path):
    row = _prepare(
        {
            "f": np.float32(0.5),
            "i": np.int64(3),
            "arr": np.array([1, 2]),
            "nan": float("nan"),
            "when": dt.datetime(2024, 1, 2, 3, 4, tzinfo=dt.UTC),
            "day": dt.date(2024, 1, 2),
            "price": Decimal("1.10"),
            "pairs": [("a", 1)],
            3: "int key",
        },
        tmp_path,
    )
    assert row.data == {
        "f": 0.5,
        "i": 3,
        "arr": [1, 2],
        "nan": None,
        "when": "2024-01-02T03:04:00+00:00",
        "day": "2024-01-02",
        "price": "1.10",
        "pairs": [["a", 1]],
        "3": "int key",
    }


def test_text_postgres_cannot_hold_rejects_the_row(tmp_path):
    with pytest.raises(RowRejected, match="NUL"):
        _prepare({"text": "a\x00b"}, tmp_path)
    with pytest.raises(RowRejected, match="reserved key"):
        _prepare({"x": {"$image": "0" * 64}}, tmp_path)


def test_text_keys_are_never_read_as_image_paths(tmp_path):
    row = _prepare({"file_name": "missing.png"}, tmp_path, text_keys=frozenset({"file_name"}))
    assert row.data == {"file_name": "missing.png"}


def test_an_image_named_by_many_rows_is_stored_once(tmp_path):
    write_image(tmp_path / "a.png")
    preparer = RecordPreparer()
    shas = {preparer.prepare({"image": "a.png"}, base_dir=tmp_path).image_shas[0] for _ in range(3)}
    assert len(shas) == 1 and Image.objects.count() == 1
