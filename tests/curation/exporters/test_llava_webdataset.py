"""LLaVA JSONL and WebDataset exports round-trip through json and the `webdataset` library."""
import json
from pathlib import Path

import pytest
import webdataset as wds
from django.conf import settings
from PIL import Image as PILImage

from curation.exporters.llava import llava_conversations
from curation.exporters.records import ExportRecord, ImageRef
from curation.exporters.registry import SubsetPart
from curation.models import Export, ExportFile, Sample
from tests.factories import approved_subset_make, export_build_now, image_make, sample_make

pytestmark = pytest.mark.django_db


def _root(export: Export) -> Path:
    return Path(settings.MEDIA_ROOT) / "exports" / str(export.pk)


@pytest.fixture
def mixed_subset():
    """Three one-image samples, one with two images (one shared with another sample), one text-only."""
    subset = approved_subset_make(samples=3, name="LLaVA mix")
    source = subset.samples.first().source
    shared = subset.samples.order_by("pk").first().images.first()
    sample_make(subset=subset, source=source, images=[shared, image_make(fmt="JPEG")],
                turns=[{"user": "Both?", "assistant": "Yes."}, {"user": "Sure?", "assistant": "Sure."}], status="accepted")
    sample_make(subset=subset, source=source, images=[], turns=[{"user": "2+2?", "assistant": "4"}], status="accepted")
    return subset


def test_llava_jsonl_lines_point_at_image_files_with_their_sha256(curator, mixed_subset):
    export = export_build_now(subsets=[mixed_subset], format="llava_jsonl", by=curator)

    assert export.state == Export.State.SUCCEEDED, export.job.message
    root = _root(export)
    lines = [json.loads(line) for line in (root / "data.jsonl").read_text().splitlines()]
    assert len(lines) == 5
    first = lines[0]
    assert first["conversations"] == [
        {"from": "human", "value": "<image>\nQuestion 0?"},
        {"from": "gpt", "value": "Answer 0."},
    ]
    assert first["subset"] == "LLaVA mix" and first["formatting_min"] is None
    two = lines[3]
    assert isinstance(two["image"], list) and len(two["image"]) == 2
    assert two["conversations"][0]["value"].startswith("<image>\n<image>\nBoth?")
    assert "image" not in lines[4] and lines[4]["conversations"][0]["value"] == "2+2?"
    for line in lines[:4]:
        for name in [line["image"]] if isinstance(line["image"], str) else line["image"]:
            with PILImage.open(root / name) as img:
                img.load()
    images = ExportFile.objects.filter(export=export, kind="image")
    assert images.count() == 4  # the shared image is stored once
    for row in images:
        assert row.name.endswith(f"{row.sha256}.{'jpg' if row.name.endswith('jpg') else 'png'}")
    assert export.manifest["images"]["count"] == 4


def test_webdataset_shards_decode_with_the_webdataset_library(curator, mixed_subset):
    export = export_build_now(subsets=[mixed_subset], format="webdataset", by=curator)

    assert export.state == Export.State.SUCCEEDED, export.job.message
    shards = sorted(str(p) for p in (_root(export) / "shards").glob("*.tar"))
    assert [Path(s).name for s in shards] == ["llava-mix-000000.tar"]
    samples = list(wds.WebDataset(shards, shardshuffle=False, empty_check=False).decode("pil"))
    assert len(samples) == 5
    two = samples[3]
    assert isinstance(two["0.png"], PILImage.Image) and isinstance(two["1.jpg"], PILImage.Image)
    meta = two["json"]
    assert meta["texts"][1] == {"user": "Sure?", "assistant": "Sure."}
    assert [i["name"] for i in meta["images"]] == ["0.png", "1.jpg"]
    assert meta["source"] == Sample.objects.get(pk=int(two["__key__"])).source.name
    text_only = samples[4]
    assert [k for k in text_only if not k.startswith("__")] == ["json"]


def test_llava_adds_only_the_image_tokens_a_conversation_lacks():
    part = SubsetPart(id=1, name="s", slug="s", category="ocr")
    image = ImageRef(sha256="a" * 64, format="PNG", size=1, path=Path("/nonexistent"))
    record = ExportRecord(sample_id=1, subset=part, source="x", turns=[{"user": "<image> What?", "assistant": "A."}],
                          images=[image, image], columns={})
    assert llava_conversations(record)[0]["value"] == "<image>\n<image> What?"


def test_an_export_with_a_missing_image_file_fails_with_a_clear_message_and_leaves_no_files(curator):
    subset = approved_subset_make(samples=2, name="Broken")
    image = subset.samples.first().images.first()
    (Path(settings.MEDIA_ROOT) / image.storage_name).unlink()

    export = export_build_now(subsets=[subset], format="webdataset", by=curator)

    assert export.state == Export.State.FAILED
    assert f"image {image.sha256} is missing" in export.job.message
    assert not _root(export).exists() and not export.files.exists()


def test_llava_lines_are_compact_utf8_json_whatever_the_text_holds(curator):
    """The lines are what json.dumps(ensure_ascii=False, separators=(",", ":")) writes, for any text."""
    subset = approved_subset_make(samples=1, name="Awkward text")
    awkward = 'Café « naïve » 東京 \u2028 tab\t quote" back\\ bell\x01\x07 del\x7f emoji \U0001F600'
    sample_make(subset=subset, source=subset.samples.first().source, images=[],
                turns=[{"user": awkward, "assistant": awkward[::-1]}], status="accepted")
    export = export_build_now(subsets=[subset], format="llava_jsonl", by=curator)

    raw = (_root(export) / "data.jsonl").read_bytes()
    lines = raw.decode("utf-8").split("\n")[:-1]  # not splitlines(): U+2028 inside a line is no line end
    assert len(lines) == 2 and raw.endswith(b"\n")
    for line in lines:
        assert line == json.dumps(json.loads(line), ensure_ascii=False, separators=(",", ":"))
    assert json.loads(lines[1])["conversations"][0]["value"] == awkward
