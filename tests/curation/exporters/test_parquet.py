"""Parquet exports in the FineVision layout load with `datasets`, images decoding as PIL, card included."""
import json
from pathlib import Path

import datasets
import pyarrow.parquet as pq
import pytest
from django.conf import settings
from huggingface_hub import DatasetCard
from PIL import Image as PILImage

from curation.exporters import parquet
from curation.models import Export, Sample
from curation.models.ratings import RATING_AXES
from tests.curation.ratings.makers import ratings_make
from tests.factories import approved_subset_make, export_build_now, image_make, sample_make, source_make

pytestmark = pytest.mark.django_db


def _root(export: Export) -> Path:
    return Path(settings.MEDIA_ROOT) / "exports" / str(export.pk)


def test_parquet_export_loads_with_datasets_and_decodes_images(curator):
    subset = approved_subset_make(samples=3, name="Chart QA")
    rated = Sample.objects.filter(subset=subset).order_by("pk").first()
    ratings_make(rated, engine="rules-judge", formatting=[4], relevance=[3])
    two_images = sample_make(
        subset=subset, source=rated.source, images=[image_make(fmt="JPEG", size=(16, 12)), image_make()],
        turns=[{"user": "Compare.", "assistant": "Left is red."}, {"user": "And?", "assistant": "Right too."}],
        status="accepted",
    )

    export = export_build_now(subsets=[subset], format="parquet", by=curator)

    assert export.state == Export.State.SUCCEEDED, export.job.message
    files = sorted(_root(export).rglob("*.parquet"))
    assert [f.name for f in files] == ["train-00000-of-00001.parquet"]
    ds = datasets.load_dataset("parquet", data_files=[str(f) for f in files], split="train")
    assert len(ds) == 4
    assert ds.features["images"] == datasets.List(datasets.Image())
    rows = list(ds)
    assert isinstance(rows[0]["images"][0], PILImage.Image)
    assert rows[0]["texts"] == [{"user": "Question 0?", "assistant": "Answer 0."}]
    assert rows[0]["source"] == rated.source.name
    assert rows[0]["formatting_ratings"] == [4] and rows[0]["formatting_min"] == 4
    assert rows[0]["visual_dependency_ratings"] is None and rows[0]["visual_dependency_min"] is None
    for axis in RATING_AXES:
        assert f"{axis}_ratings" in ds.column_names and f"{axis}_min" in ds.column_names
    last = rows[-1]
    assert [img.size for img in last["images"]] == [(16, 12), (8, 6)]
    assert len(last["texts"]) == 2 and two_images.pk


def test_parquet_card_describes_configs_that_load_from_the_folder(curator):
    first = approved_subset_make(samples=2, name="OCR words", source=source_make(license="MIT"))
    second = approved_subset_make(samples=3, name="Science diagrams", source=source_make(license="Apache 2.0"))

    export = export_build_now(subsets=[first, second], format="parquet", by=curator, name="Tiny mix")

    root = _root(export)
    card = (root / "README.md").read_text()
    assert card.startswith("---\n")
    header = DatasetCard(card).data.to_dict()
    assert sorted(c["config_name"] for c in header["configs"]) == ["ocr-words", "science-diagrams"]
    assert header["license"] == ["apache-2.0", "mit"]
    assert "## Sources" in card and "## Checks" in card and "Decision state" in card
    science = datasets.load_dataset(str(root), "science-diagrams", split="train")
    assert len(science) == 3
    assert isinstance(science[0]["images"][0], PILImage.Image)


def test_parquet_writes_several_shards_with_row_groups_when_a_subset_is_large(curator, monkeypatch):
    monkeypatch.setattr(parquet, "SHARD_MAX_ROWS", 4)
    monkeypatch.setattr(parquet, "ROW_GROUP_MAX_ROWS", 2)
    subset = approved_subset_make(samples=9, name="Many")

    export = export_build_now(subsets=[subset], format="parquet", by=curator)

    names = sorted(f.name for f in export.files.filter(kind="data"))
    assert names == [f"data/many/train-0000{i}-of-00003.parquet" for i in range(3)]
    first = pq.ParquetFile(_root(export) / names[0])
    assert first.metadata.num_rows == 4 and first.metadata.num_row_groups == 2
    assert json.loads(first.schema_arrow.metadata[b"huggingface"])["info"]["features"]["images"] == [{"_type": "Image"}]
    ds = datasets.load_dataset("parquet", data_files=[str(_root(export) / n) for n in names], split="train")
    assert [t[0]["user"] for t in ds["texts"]] == [f"Question {i}?" for i in range(9)]
