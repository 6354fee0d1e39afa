"""The built-in column providers: quality ratings (part of the FineVision layout) and provenance."""
from typing import Any

from django.db import connection
from django.db.models import Count, QuerySet

from curation.bulk_copy import id_array
from curation.exporters.registry import Column, ColumnProvider, register_column
from curation.models import Rating, Sample, SampleRating
from curation.models.ratings import RATING_AXES

_UNRATED: dict[str, Any] = {f"{axis}_{kind}": None for axis in RATING_AXES for kind in ("ratings", "min")}


def _judged_rows(sample_ids: list[int]) -> dict[tuple[int, str], tuple[int | None, dict[int, int | None]]]:
    """(sample id, axis) -> (minimum, {turn: score}) from the samples' current judge (the SampleRating cache names
    it; a judge's Rating rows of another engine or version are not its)."""
    if connection.vendor != "postgresql":
        current = {(sample_id, axis): (minimum, engine, version) for sample_id, axis, minimum, engine, version in
                   SampleRating.objects.filter(sample_id__in=sample_ids).values_list(
                       "sample_id", "axis", "minimum", "engine", "engine_version")}
        judged: dict[tuple[int, str], tuple[int | None, dict[int, int | None]]] = {
            key: (minimum, {}) for key, (minimum, _, _) in current.items()}
        if current:
            for sample_id, axis, turn, score, engine, version in Rating.objects.filter(
                    sample_id__in=sample_ids, rater__isnull=True).values_list(
                    "sample_id", "axis", "turn", "score", "engine", "engine_version"):
                cached = current.get((sample_id, axis))
                if cached is not None and cached[1] == engine and cached[2] == version:
                    judged[(sample_id, axis)][1][turn] = score
        return judged
    # One query for the batch: the ids as one array literal, the judge's scores aggregated per sample and axis.
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT m.sample_id, m.axis, m.minimum, array_agg(r.turn) FILTER (WHERE r.turn IS NOT NULL), "  # noqa: S608
            f"array_agg(r.score) FILTER (WHERE r.turn IS NOT NULL) FROM {SampleRating._meta.db_table} m "
            f"LEFT JOIN {Rating._meta.db_table} r ON r.sample_id = m.sample_id AND r.axis = m.axis "
            "AND r.engine = m.engine AND r.engine_version = m.engine_version AND r.rater_id IS NULL "
            "WHERE m.sample_id = ANY(%s::bigint[]) GROUP BY m.sample_id, m.axis, m.minimum",
            [id_array(sample_ids)],
        )
        return {(sample_id, axis): (minimum, dict(zip(turns or (), scores or (), strict=True)))
                for sample_id, axis, minimum, turns, scores in cursor.fetchall()}


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
        # (sample id, axis) -> (minimum, {turn: score}) of the sample's current judge (the SampleRating cache).
        judged = _judged_rows(ids)
        if not judged:  # no judge rated any sample of the batch: every column is null (one dict, read only)
            return dict.fromkeys(ids, _UNRATED)
        out: dict[int, dict[str, Any]] = {}
        for sample in samples:
            row: dict[str, Any] = {}
            turns = len(sample["turns"] or [])
            for axis in RATING_AXES:
                found = judged.get((sample["pk"], axis))
                if found is None:
                    row[f"{axis}_ratings"], row[f"{axis}_min"] = None, None
                    continue
                minimum, by_turn = found
                row[f"{axis}_ratings"] = [by_turn.get(i) for i in range(turns)]
                row[f"{axis}_min"] = minimum
            out[sample["pk"]] = row
        return out

    def summary(self, samples: QuerySet[Sample]) -> dict[str, Any]:
        # Two reads of the minima of the exported samples (grouped, then the rated samples counted): each read
        # joins the samples to a table of several rows per sample, so one per axis cost seconds at 100k samples.
        minima = SampleRating.objects.filter(sample__in=samples.order_by().values("pk"))
        histograms: dict[str, dict[int, int]] = {axis: {} for axis in RATING_AXES}
        engines: set[str] = set()
        grouped = minima.values_list("axis", "minimum", "engine", "engine_version").annotate(n=Count("id")).order_by()
        for axis, minimum, engine, version, n in grouped:
            engines.add(f"{engine} {version}".strip())
            if minimum is not None and axis in histograms:
                histograms[axis][minimum] = histograms[axis].get(minimum, 0) + n
        axes = {}
        for axis, counts in histograms.items():
            histogram = {str(value): n for value, n in sorted(counts.items())}
            axes[axis] = {"rated": sum(histogram.values()), "min_histogram": histogram}
        rated = minima.filter(minimum__isnull=False).values("sample_id").distinct().count()
        return {"rated": rated, "axes": axes, "engines": sorted(engines)}


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
