"""The record stream: keyset batches in id order, images in position order, stored paths as the model names them."""
from pathlib import Path

import pytest
from django.conf import settings

from curation.exporters.records import (
    ExportDataError,
    image_storage_name,
    record_batches,
    sample_batches,
    turns_normalise,
)
from curation.exporters.registry import SubsetPart, columns_for
from curation.models import Image, Sample
from tests.curation.ratings.makers import ratings_make
from tests.factories import approved_subset_make, image_make, sample_make

pytestmark = pytest.mark.django_db


def test_the_image_path_shortcut_matches_the_model():
    image = Image(sha256="ab" * 32, format="JPEG")
    assert image_storage_name(image.sha256, image.format) == image.storage_name


def test_batches_cover_every_sample_once_in_id_order():
    subset = approved_subset_make(samples=7)
    batches = list(sample_batches(Sample.objects.filter(subset=subset), fields=("row_number",), batch_size=3))
    assert [len(b) for b in batches] == [3, 3, 1]
    ids = [row["pk"] for batch in batches for row in batch]
    assert ids == sorted(ids) == list(subset.samples.order_by("pk").values_list("pk", flat=True))


def test_records_carry_images_in_position_order_and_provider_columns():
    subset = approved_subset_make(samples=1)
    first, second = image_make(fmt="JPEG"), image_make()
    sample = sample_make(subset=subset, source=subset.samples.first().source, images=[first, second])
    ratings_make(sample, relevance=[2])
    part = SubsetPart(id=subset.pk, name=subset.name, slug="s", category=subset.category)

    records = [r for batch in record_batches(Sample.objects.filter(pk=sample.pk), part=part, sources={sample.source_id: "src"},
                                             providers=columns_for(["provenance"]), media_root=Path(settings.MEDIA_ROOT))
               for r in batch]

    assert [ref.sha256 for ref in records[0].images] == [first.sha256, second.sha256]
    assert records[0].images[0].filename == f"{first.sha256}.jpg" and records[0].images[0].read()[:2] == b"\xff\xd8"
    assert records[0].columns["relevance_min"] == 2 and records[0].columns["sample_id"] == sample.pk
    assert records[0].source == "src"


@pytest.mark.parametrize("turns", [{"user": "x"}, ["not a turn"]])
def test_malformed_turns_are_an_export_error(turns):
    with pytest.raises(ExportDataError):
        turns_normalise(turns)


def test_none_in_a_turn_becomes_an_empty_string():
    assert turns_normalise([{"user": None, "assistant": "A."}]) == [{"user": "", "assistant": "A."}]


def test_turns_are_read_exactly_even_with_integers_beyond_64_bits():
    """orjson reads such integers as floats: the record reader takes the standard library's parse for them."""
    subset = approved_subset_make(samples=1)
    sample = subset.samples.get()
    Sample.objects.filter(pk=sample.pk).update(turns=[{"user": 123456789012345678901234567890, "assistant": "é"}])
    batches = list(sample_batches(Sample.objects.filter(pk=sample.pk), fields=("turns",)))
    assert batches[0][0]["turns"] == [{"user": 123456789012345678901234567890, "assistant": "é"}]
