"""The same inputs give the same bytes: every file but the manifest (which records when) is identical."""
import pytest

from curation.exporters import parquet, webdataset
from tests.factories import approved_subset_make, export_build_now, image_make, sample_make

pytestmark = pytest.mark.django_db


def _checksums(export):
    return {f.name: f.sha256 for f in export.files.exclude(name="manifest.json")}


@pytest.mark.parametrize("fmt", ["parquet", "llava_jsonl", "webdataset"])
def test_two_exports_of_the_same_subsets_have_equal_checksums(curator, fmt, monkeypatch):
    monkeypatch.setattr(parquet, "SHARD_MAX_ROWS", 3)
    monkeypatch.setattr(webdataset, "SHARD_MAX_SAMPLES", 3)
    first = approved_subset_make(samples=4, name="Alpha")
    second = approved_subset_make(samples=2, name="Beta")
    sample_make(subset=second, source=second.samples.first().source, images=[image_make(), image_make(fmt="JPEG")])

    one = export_build_now(subsets=[first, second], format=fmt, by=curator)
    two = export_build_now(subsets=[second, first], format=fmt, by=curator)

    assert one.state == two.state == "succeeded"
    assert _checksums(one) == _checksums(two)
    assert len(_checksums(one)) >= 3
    assert one.manifest["files"] == two.manifest["files"]
    assert one.manifest["export"]["id"] != two.manifest["export"]["id"]
