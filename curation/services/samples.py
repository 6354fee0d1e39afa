"""Samples: the swap that makes a mapping version's built rows the live samples of its subset."""
import json
import time
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models
from django.db.models import Q

from curation.errors import ApplicationError
from curation.models import Mapping, MappingStagedRow, Sample, SampleImage, Subset
from curation.services.ratings import ratings_forget, ratings_forget_where

SWAP_BATCH_SIZE = 1000
# Fields a re-map resets: the turns changed, so earlier reviews and ratings no longer describe them.
RESET_ON_REMAP = {
    "status": Sample.Status.PENDING,
    "reject_reason": "",
    "original_turns": None,
}


class SubsetFrozen(ApplicationError, ValueError):
    """The subset is approved: its samples may not change until it is reopened."""

    code = "subset_frozen"
    status = 409


@dataclass(frozen=True)
class SwapResult:
    written: int
    removed: int
    # Seconds per step of the swap (the SQL path names its statements), for the job's result.
    timings: dict[str, float] = field(default_factory=dict)


def subset_recount(*, subset_ids: list[int]) -> None:
    """Set sample_count from the samples themselves (callers hold the subsets' row locks)."""
    for subset_id in subset_ids:
        Subset.objects.filter(pk=subset_id).update(sample_count=Sample.objects.filter(subset_id=subset_id).count())


def samples_swap_in(*, mapping: Mapping, subset: Subset) -> SwapResult:
    """In one transaction: write the mapping's staged rows as samples of the subset (upserts keyed on
    subset, source and row), drop the source's samples the version did not produce, recount, clear the stage.

    Runs inside the caller's transaction.atomic(), with the mapping row locked by the caller.
    """
    timings: dict[str, float] = {}
    clock = _Clock(timings)
    source_id = mapping.source_id
    stale = Sample.objects.filter(source_id=source_id).filter(Q(subset=subset) | Q(mapping__source_id=source_id))
    affected = sorted({subset.pk, *stale.exclude(mapping=mapping).values_list("subset_id", flat=True).distinct()})
    # Lock every subset whose samples change, in id order, so concurrent swaps into one subset queue up
    # and each recount sees the other's committed rows.
    locked = list(Subset.objects.select_for_update().filter(pk__in=affected).order_by("pk"))
    frozen = [s.name for s in locked if s.status == Subset.Status.APPROVED]
    if frozen:
        raise SubsetFrozen(f"subset {', '.join(frozen)} is approved; reopen it before its samples change")
    clock.lap("lock")
    if connection.vendor == "postgresql":
        written = _swap_in_sql(mapping=mapping, subset=subset, clock=clock)
    else:
        written = _swap_in_orm(mapping=mapping, subset=subset)
        clock.lap("write")
    _, deleted = stale.exclude(mapping=mapping).delete()
    clock.lap("stale")
    subset_recount(subset_ids=affected)
    clock.lap("recount")
    MappingStagedRow.objects.filter(mapping=mapping).delete()
    clock.lap("stage_clear")
    return SwapResult(written=written, removed=deleted.get(Sample._meta.label, 0), timings=timings)


class _Clock:
    """Adds the seconds since the last lap to timings[name]."""

    def __init__(self, timings: dict[str, float]):
        self.timings = timings
        self.last = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.timings[name] = round(self.timings.get(name, 0.0) + now - self.last, 3)
        self.last = now


def _swap_in_sql(*, mapping: Mapping, subset: Subset, clock: _Clock) -> int:
    """The swap as set-based statements, so the rows never travel through Python: upsert the samples from the
    stage, then bring their image links in line with the staged lists.

    A re-map rewrites only the links that differ (usually none: a new version mostly changes the text), so the
    unchanged ones cost no index writes and no foreign-key checks at commit."""
    sample, link, staged = Sample._meta.db_table, SampleImage._meta.db_table, MappingStagedRow._meta.db_table
    reset_fields = [_concrete_field(name) for name in RESET_ON_REMAP]
    reset_columns = [str(field.column) for field in reset_fields]
    reset_values: list[Any] = [_sql_value(field, RESET_ON_REMAP[field.name]) for field in reset_fields]
    insert_columns = ", ".join(["subset_id", "source_id", "row_number", "mapping_id", "turns", "image_count",
                                *reset_columns, "created_at", "updated_at"])
    placeholders = ", ".join(["%s"] * len(reset_columns))
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in ["mapping_id", "turns", "image_count", *reset_columns, "updated_at"])
    # The staged rows with the id of the sample each one became (after the upsert below).
    staged_samples = (f"{staged} st JOIN {sample} s ON s.subset_id = %s AND s.source_id = %s "
                      "AND s.row_number = st.row_number")
    keys = [subset.pk, mapping.source_id]
    # Table and column names come from the models; every value is a parameter.
    with connection.cursor() as cursor:
        # A first apply (no sample of this source in the subset yet) has no links to compare with.
        cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {sample} WHERE subset_id = %s AND source_id = %s)", keys)  # noqa: S608
        remap = cursor.fetchone()[0]
        cursor.execute(
            f"INSERT INTO {sample} ({insert_columns}) "  # noqa: S608
            f"SELECT %s, %s, st.row_number, st.mapping_id, st.turns, jsonb_array_length(st.image_shas), "
            f"{placeholders}{', ' if reset_columns else ''}now(), now() FROM {staged} st WHERE st.mapping_id = %s "
            f"ON CONFLICT (subset_id, source_id, row_number) DO UPDATE SET {updates}",
            [*keys, *reset_values, mapping.pk],
        )
        written = cursor.rowcount
        clock.lap("samples")
        if remap:
            # Links whose position the staged list no longer holds, or holds another image at.
            cursor.execute(
                f"DELETE FROM {link} l USING {staged_samples} "  # noqa: S608
                "WHERE st.mapping_id = %s AND l.sample_id = s.id "
                "AND (st.image_shas ->> l.position::int) IS DISTINCT FROM l.image_id",
                [*keys, mapping.pk],
            )
            clock.lap("links_delete")
        # In a re-map, only the positions the delete above emptied (or the list newly has) are written.
        missing = (f" AND NOT EXISTS (SELECT 1 FROM {link} l WHERE l.sample_id = s.id AND l.position = e.ord - 1)"  # noqa: S608
                   if remap else "")
        cursor.execute(
            f"INSERT INTO {link} (sample_id, position, image_id) "  # noqa: S608
            f"SELECT s.id, e.ord - 1, e.sha FROM {staged_samples} "
            "CROSS JOIN LATERAL jsonb_array_elements_text(st.image_shas) WITH ORDINALITY AS e(sha, ord) "
            f"WHERE st.mapping_id = %s{missing}",
            [*keys, mapping.pk],
        )
        clock.lap("links")
    if remap:
        ratings_forget_where(samples=Sample.objects.filter(subset=subset, source_id=mapping.source_id, mapping=mapping))
        clock.lap("ratings_forget")
    return written


def _concrete_field(name: str) -> models.Field:
    field = Sample._meta.get_field(name)
    assert isinstance(field, models.Field)
    return field


def _sql_value(field: models.Field, value: object) -> Any:
    """A RESET_ON_REMAP value as the database takes it (JSON columns get JSON text, or NULL)."""
    if value is None:
        return None
    if isinstance(field, models.JSONField):
        return json.dumps(value)
    return value


def _swap_in_orm(*, mapping: Mapping, subset: Subset) -> int:
    source_id = mapping.source_id
    written = 0
    last_id = 0
    while True:
        staged = list(MappingStagedRow.objects.filter(mapping=mapping, pk__gt=last_id).order_by("pk")[:SWAP_BATCH_SIZE])
        if not staged:
            break
        last_id = staged[-1].pk
        samples = Sample.objects.bulk_create(
            [
                Sample(subset=subset, source_id=source_id, row_number=row.row_number, mapping=mapping, turns=row.turns,
                       image_count=len(row.image_shas), **RESET_ON_REMAP)
                for row in staged
            ],
            update_conflicts=True,
            unique_fields=["subset", "source", "row_number"],
            update_fields=["mapping", "turns", "image_count", *RESET_ON_REMAP],
        )
        SampleImage.objects.filter(sample__in=[s.pk for s in samples]).delete()
        ratings_forget(sample_ids=[s.pk for s in samples])
        SampleImage.objects.bulk_create(
            [
                SampleImage(sample_id=sample.pk, image_id=sha, position=position)
                for sample, row in zip(samples, staged, strict=True)
                for position, sha in enumerate(row.image_shas)
            ]
        )
        written += len(samples)
    return written
