"""The extension point: filters narrow and explain, column providers add fields, bad params are refused."""
import pytest

from curation.exporters.registry import (
    COLUMNS,
    FILTERS,
    FORMATS,
    Column,
    ColumnProvider,
    ExportConfigError,
    ExportFilter,
    Param,
    columns_clean,
    columns_for,
    filters_clean,
    register_column,
    register_filter,
)
from curation.exporters.runner import filters_apply
from curation.models import Export, Sample, Subset
from tests.factories import approved_subset_make, export_build_now, source_make

pytestmark = pytest.mark.django_db


def test_the_format_field_keeps_no_copy_of_the_registry():
    assert not Export._meta.get_field("format").choices  # the registry is the one list of formats
    assert {"parquet", "llava_jsonl", "webdataset"} <= set(FORMATS)


def test_rejected_samples_are_left_out_by_default_and_the_manifest_says_why(curator):
    subset = approved_subset_make(samples=5, name="Decided")
    ids = list(subset.samples.order_by("pk").values_list("pk", flat=True))
    Sample.objects.filter(pk__in=ids[:2]).update(status=Sample.Status.REJECTED)
    Sample.objects.filter(pk=ids[2]).update(status=Sample.Status.ACCEPTED)

    export = export_build_now(subsets=[subset], format="llava_jsonl", by=curator)

    assert export.sample_count == 3
    decision = export.manifest["filters"][0]
    assert decision["name"] == "decision" and decision["excluded"] == 2
    assert decision["reasons"] == {"decision state rejected": 2}
    assert export.manifest["counts"] == {"in": 5, "out": 3, "excluded": 2, "excluded_by": {"decision": 2}}


def test_filters_by_category_and_source_count_their_exclusions_in_order():
    ocr = approved_subset_make(samples=3, name="Words", category=Subset.Category.OCR)
    keep, drop = source_make(name="keep-me"), source_make(name="drop-me")
    math = approved_subset_make(samples=2, name="Sums", category=Subset.Category.MATH, source=keep)
    approved_subset_make(samples=4, name="More sums", category=Subset.Category.MATH, source=drop)
    filters = filters_clean({"categories": {"categories": ["math"]}, "sources": {"ids": [keep.pk]}})

    samples, results = filters_apply(Sample.objects.all(), filters)

    assert set(samples.values_list("subset_id", flat=True)) == {math.pk}
    assert [(r["name"], r["excluded"]) for r in results] == [("decision", 0), ("categories", 3), ("sources", 4)]
    assert results[1]["reasons"] == {"category ocr not chosen": 3}
    assert results[2]["reasons"] == {"source drop-me not chosen": 4}
    assert ocr.pk not in samples.values_list("subset_id", flat=True)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"nope": {}}, "unknown filter"),
        ({"decision": {"statuses": ["maybe"]}}, "not one of the allowed values"),
        ({"decision": {"statuses": []}}, "non-empty list"),
        ({"decision": {}}, "is required"),
        ({"decision": {"statuses": ["accepted"], "extra": 1}}, "unknown parameter"),
        ({"decision": "accepted"}, "must be an object"),
        ({"sources": {"ids": [987654]}}, "not one of the allowed values"),
    ],
)
def test_invalid_filter_params_are_refused_with_a_reason(raw, message):
    with pytest.raises(ExportConfigError, match=message):
        filters_clean(raw)


def test_unknown_columns_are_refused_and_default_providers_always_come_first():
    with pytest.raises(ExportConfigError, match="unknown column provider"):
        columns_clean(["nope"])
    assert columns_clean(["provenance", "ratings"]) == ["provenance"]
    assert [p.name for p in columns_for(["provenance"])] == ["ratings", "provenance"]


@pytest.fixture
def scratch_registries():
    """Registrations made by a test are removed afterwards."""
    saved = dict(FILTERS), dict(COLUMNS)
    yield
    for registry, before in zip((FILTERS, COLUMNS), saved, strict=True):
        registry.clear()
        registry.update(before)


def test_a_registered_filter_and_column_provider_take_part_in_an_export(curator, scratch_registries):
    @register_filter
    class MinRows(ExportFilter):
        name = "min_row"
        label = "Minimum row"
        params = (Param("row", "Row", "int", minimum=0),)

        def apply(self, samples, params):
            return samples.filter(row_number__gte=params["row"])

    @register_column
    class TurnCount(ColumnProvider):
        name = "turn_count"
        label = "Turn count"
        columns = (Column("turn_count", "int64"),)
        sample_fields = ("turns",)

        def values(self, sample):
            return {"turn_count": len(sample["turns"])}

    subset = approved_subset_make(samples=4, name="Extensible")
    with pytest.raises(ExportConfigError, match="at least 0"):
        filters_clean({"min_row": {"row": -1}})

    export = export_build_now(subsets=[subset], format="llava_jsonl", by=curator,
                              filters={"min_row": {"row": 2}}, columns=["turn_count"])

    assert export.sample_count == 2
    assert export.manifest["filters"][-1]["reasons"] == {"Minimum row (row: 2)": 2}
    assert export.manifest["columns"][-1] == {"provider": "turn_count", "columns": ["turn_count"]}
