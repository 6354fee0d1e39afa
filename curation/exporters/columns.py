"""The built-in column providers: quality ratings (part of the FineVision layout) and provenance."""
from typing import Any

from django.db.models import Count, Q, QuerySet

from curation.exporters.registry import Column, ColumnProvider, register_column
from curation.models import Sample
from curation.models.samples import RATING_AXES


def _int_list(value: Any) -> list[int] | None:
    if value is None:
        return None
    return [int(v) for v in value]


@register_column
class RatingColumns(ColumnProvider):
    name = "ratings"
    label = "Quality ratings"
    description = "Per-turn ratings (1-5) on each axis and their minimum; null until a judge has rated the sample."
    default = True
    columns = tuple(
        column
        for axis in RATING_AXES
        for column in (
            Column(f"{axis}_ratings", "list<int64>", f"{axis} rating of each turn"),
            Column(f"{axis}_min", "int64", f"lowest {axis} rating over the turns"),
        )
    )
    sample_fields = tuple(column.name for column in columns)

    def values(self, sample: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for axis in RATING_AXES:
            out[f"{axis}_ratings"] = _int_list(sample[f"{axis}_ratings"])
            out[f"{axis}_min"] = sample[f"{axis}_min"]
        return out

    def summary(self, samples: QuerySet[Sample]) -> dict[str, Any]:
        rated_any = Q()
        for axis in RATING_AXES:
            rated_any |= Q(**{f"{axis}_min__isnull": False})
        axes = {}
        for axis in RATING_AXES:
            field = f"{axis}_min"
            rows = samples.order_by().filter(**{f"{field}__isnull": False}).values_list(field).annotate(n=Count("id"))
            histogram = {str(value): n for value, n in sorted(rows)}
            axes[axis] = {"rated": sum(histogram.values()), "min_histogram": histogram}
        engines = sorted(
            set(samples.order_by().exclude(rating_engine="").values_list("rating_engine", flat=True).distinct())
        )
        return {"rated": samples.filter(rated_any).count(), "axes": axes, "engines": engines}


@register_column
class ProvenanceColumns(ColumnProvider):
    name = "provenance"
    label = "Provenance"
    description = "Where each sample came from: its subset, its row in the source, and its FineCurate id."
    columns = (
        Column("subset", "string", "the FineCurate subset"),
        Column("source_row", "int64", "0-based row of the sample in its source"),
        Column("sample_id", "int64", "the FineCurate sample id"),
    )
    sample_fields = ("subset__name", "row_number")

    def values(self, sample: dict[str, Any]) -> dict[str, Any]:
        return {"subset": sample["subset__name"], "source_row": sample["row_number"], "sample_id": sample["pk"]}
