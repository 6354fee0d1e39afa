"""The built-in column providers: quality ratings (part of the FineVision layout) and provenance."""
from collections import defaultdict
from typing import Any

from django.db import connection
from django.db.models import Count, QuerySet

from curation.exporters.records import id_array
from curation.exporters.registry import Column, ColumnProvider, register_column
from curation.models import Rating, Sample, SampleRating
from curation.models.ratings import RATING_AXES

_UNRATED: dict[str, Any] = {f"{axis}_{kind}": None for axis in RATING_AXES for kind in ("ratings", "min")}


def _minima_rows(sample_ids: list[int]) -> list[tuple[int, str, int | None, str, str]]:
    """(sample id, axis, minimum, engine, engine version) of the samples' current judge (the SampleRating cache)."""
    if connection.vendor != "postgresql":
        return list(SampleRating.objects.filter(sample_id__in=sample_ids).values_list(
            "sample_id", "axis", "minimum", "engine", "engine_version"))
    # The ids as one array literal: thousands of placeholders cost more to build than the query to run.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT sample_id, axis, minimum, engine, engine_version FROM {SampleRating._meta.db_table} "  # noqa: S608
            "WHERE sample_id = ANY(%s::bigint[])",
            [id_array(sample_ids)],
        )
        return cursor.fetchall()


@register_column
class RatingColumns(ColumnProvider):
    """FineVision's rating columns from the Rating rows of each sample's current judge (the SampleRating cache)."""

    name = "ratings"
    label = "Quality ratings"
    description = (
        "Per-turn ratings (1-5) on each axis from the sample's current judge, and their minimum; "
        "null until a judge has rated the sample (a turn's entry is null where the judge had no evidence)."
    )
    default = True
    columns = tuple(
        column
        for axis in RATING_AXES
        for column in (
            Column(f"{axis}_ratings", "list<int64>", f"{axis} rating of each turn"),
            Column(f"{axis}_min", "int64", f"lowest {axis} rating over the turns"),
        )
    )
    sample_fields = ()  # the records always read "turns", whose length the per-turn lists follow

    def batch_values(self, samples: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
        ids = [sample["pk"] for sample in samples]
        current = {(sample_id, axis): (minimum, engine, version)
                   for sample_id, axis, minimum, engine, version in _minima_rows(ids)}
        if not current:  # no judge rated any sample of the batch: every column is null (one dict, read only)
            return dict.fromkeys(ids, _UNRATED)
        scores: dict[tuple[int, str], dict[int, int | None]] = defaultdict(dict)
        judged = Rating.objects.filter(sample_id__in=ids, rater__isnull=True).values_list(
            "sample_id", "axis", "turn", "score", "engine", "engine_version"
        )
        for sample_id, axis, turn, score, engine, version in judged:
            cached = current.get((sample_id, axis))
            if cached is not None and cached[1] == engine and cached[2] == version:
                scores[(sample_id, axis)][turn] = score
        out: dict[int, dict[str, Any]] = {}
        for sample in samples:
            row: dict[str, Any] = {}
            turns = len(sample["turns"] or [])
            for axis in RATING_AXES:
                cached = current.get((sample["pk"], axis))
                if cached is None:
                    row[f"{axis}_ratings"], row[f"{axis}_min"] = None, None
                    continue
                by_turn = scores[(sample["pk"], axis)]
                row[f"{axis}_ratings"] = [by_turn.get(i) for i in range(turns)]
                row[f"{axis}_min"] = cached[0]
            out[sample["pk"]] = row
        return out

    def summary(self, samples: QuerySet[Sample]) -> dict[str, Any]:
        minima = SampleRating.objects.filter(sample__in=samples.order_by().values("pk"))
        axes = {}
        for axis in RATING_AXES:
            rows = minima.filter(axis=axis, minimum__isnull=False).values_list("minimum").annotate(n=Count("id")).order_by()
            histogram = {str(value): n for value, n in sorted(rows)}
            axes[axis] = {"rated": sum(histogram.values()), "min_histogram": histogram}
        engines = sorted(
            f"{engine} {version}".strip()
            for engine, version in minima.values_list("engine", "engine_version").distinct().order_by()
        )
        rated = minima.filter(minimum__isnull=False).values("sample_id").distinct().count()
        return {"rated": rated, "axes": axes, "engines": sorted(set(engines))}


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
