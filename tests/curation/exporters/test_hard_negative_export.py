"""Hard-negative sets through the export registry: Parquet columns (parallel lists) and the dedicated JSONL format
with negatives [{text, attribute, level}]; only human-valid negatives unless the unreviewed columns are asked for."""
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from curation.models import HardNegative, Subset
from tests.curation.services.test_hard_negatives import caption_subset
from tests.factories import export_build_now

pytestmark = pytest.mark.django_db


def _reviewed_subset():
    subset, samples = caption_subset(4)
    call_command("generate_hard_negatives", subset.name, "--ratio", "3", "--attributes", "colour,count,object")
    negatives = list(HardNegative.objects.filter(subset=subset, agent_verdict="passed").order_by("pk"))
    for i, negative in enumerate(negatives):
        if i % 3 == 0:
            negative.review, negative.review_reason = "invalid", "paraphrase"
        elif i % 3 == 1:
            negative.review = "valid"
        negative.save()
    Subset.objects.filter(pk=subset.pk).update(status="approved", approved_at=timezone.now())
    subset.refresh_from_db()
    return subset, samples, negatives


def test_parquet_carries_the_valid_negatives_of_each_positive(curator):
    subset, samples, negatives = _reviewed_subset()
    export = export_build_now(subsets=[subset], format="parquet", by=curator, columns=["hard_negatives"],
                              filters={"hard_negatives": {"minimum": 1}})
    assert export.state == "succeeded", export.manifest
    root = Path(settings.MEDIA_ROOT) / "exports" / str(export.pk)
    table = pq.read_table(next(root.glob("data/*/*.parquet"))).to_pylist()
    valid = {n.text for n in negatives if n.review == "valid"}
    exported = {t for row in table for t in row["hn_negatives"]}
    assert exported == valid
    for row in table:
        assert row["hn_positive"] and len(row["hn_negatives"]) == len(row["hn_negative_levels"]) >= 1
        assert row["images"][0]["bytes"]


def test_the_dedicated_jsonl_format_writes_negatives_as_objects(curator):
    subset, samples, negatives = _reviewed_subset()
    export = export_build_now(subsets=[subset], format="hardneg_jsonl", by=curator)
    assert export.state == "succeeded", export.manifest
    root = Path(settings.MEDIA_ROOT) / "exports" / str(export.pk)
    lines = [json.loads(line) for line in (root / "hard_negatives.jsonl").read_text().splitlines()]
    assert len(lines) == len(samples)
    by_text = {n.text: n for n in negatives}
    for line in lines:
        assert (root / line["image"]).is_file() and line["positive"]
        for negative in line["negatives"]:
            stored = by_text[negative["text"]]
            assert stored.review == "valid" and negative == {"text": stored.text, "attribute": stored.attribute, "level": stored.level}
    unreviewed = export_build_now(subsets=[subset], format="hardneg_jsonl", by=curator, columns=["hard_negatives_unreviewed"])
    lines = [json.loads(line) for line in (Path(settings.MEDIA_ROOT) / "exports" / str(unreviewed.pk) / "hard_negatives.jsonl").read_text().splitlines()]
    texts = {n["text"] for line in lines for n in line["negatives"]}
    assert texts == {n.text for n in negatives if n.review in ("valid", "pending")}
