"""Samples: the swap that makes a mapping version's built rows the live samples of its subset."""
import json
from dataclasses import dataclass
from typing import Any

from django.db import connection, models
from django.db.models import Q

from curation.models import Mapping, MappingStagedRow, Sample, SampleImage, Subset

SWAP_BATCH_SIZE = 1000
# Fields a re-map resets: the turns changed, so earlier reviews and ratings no longer describe them.
RESET_ON_REMAP = {
    "status": Sample.Status.PENDING,
    "reject_reason": "",
    "original_turns": None,
    "formatting_ratings": None,
    "relevance_ratings": None,
    "visual_dependency_ratings": None,
    "image_correspondence_ratings": None,
    "formatting_min": None,
    "relevance_min": None,
    "visual_dependency_min": None,
    "image_correspondence_min": None,
    "rating_engine": "",
}


class SubsetFrozen(ValueError):
    """The subset is approved: its samples may not change until it is reopened."""


@dataclass(frozen=True)
class SwapResult:
    written: int
    removed: int


def subset_recount(*, subset_ids: list[int]) -> None:
    """Set sample_count from the samples themselves (callers hold the subsets' row locks)."""
    for subset_id in subset_ids:
        Subset.objects.filter(pk=subset_id).update(sample_count=Sample.objects.filter(subset_id=subset_id).count())


def samples_swap_in(*, mapping: Mapping, subset: Subset) -> SwapResult:
    """In one transaction: write the mapping's staged rows as samples of the subset (upserts keyed on
    subset, source and row), drop the source's samples the version did not produce, recount, clear the stage.

    Runs inside the caller's transaction.atomic(), with the mapping row locked by the caller.
    """
    source_id = mapping.source_id
    stale = Sample.objects.filter(source_id=source_id).filter(Q(subset=subset) | Q(mapping__source_id=source_id))
    affected = sorted({subset.pk, *stale.exclude(mapping=mapping).values_list("subset_id", flat=True).distinct()})
    # Lock every subset whose samples change, in id order, so concurrent swaps into one subset queue up
    # and each recount sees the other's committed rows.
    locked = list(Subset.objects.select_for_update().filter(pk__in=affected).order_by("pk"))
    frozen = [s.name for s in locked if s.status == Subset.Status.APPROVED]
    if frozen:
        raise SubsetFrozen(f"subset {', '.join(frozen)} is approved; reopen it before its samples change")
    if connection.vendor == "postgresql":
        written = _swap_in_sql(mapping=mapping, subset=subset)
    else:
        written = _swap_in_orm(mapping=mapping, subset=subset)
    _, deleted = stale.exclude(mapping=mapping).delete()
    subset_recount(subset_ids=affected)
    MappingStagedRow.objects.filter(mapping=mapping).delete()
    return SwapResult(written=written, removed=deleted.get(Sample._meta.label, 0))


def _swap_in_sql(*, mapping: Mapping, subset: Subset) -> int:
    """The swap as three set-based statements, so the rows never travel through Python:
    upsert the samples from the stage, drop their old image links, insert the new ones in order."""
    sample, link, staged = Sample._meta.db_table, SampleImage._meta.db_table, MappingStagedRow._meta.db_table
    reset_fields = [_concrete_field(name) for name in RESET_ON_REMAP]
    reset_columns = [str(field.column) for field in reset_fields]
    reset_values: list[Any] = [_sql_value(field, RESET_ON_REMAP[field.name]) for field in reset_fields]
    insert_columns = ", ".join(["subset_id", "source_id", "row_number", "mapping_id", "turns", "image_count",
                                *reset_columns, "created_at", "updated_at"])
    placeholders = ", ".join(["%s"] * len(reset_columns))
    updates = ", ".join(f"{c} = EXCLUDED.{c}" for c in ["mapping_id", "turns", "image_count", *reset_columns, "updated_at"])
    # Table and column names come from the models; every value is a parameter.
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {sample} ({insert_columns}) "  # noqa: S608
            f"SELECT %s, %s, st.row_number, st.mapping_id, st.turns, jsonb_array_length(st.image_shas), "
            f"{placeholders}{', ' if reset_columns else ''}now(), now() FROM {staged} st WHERE st.mapping_id = %s "
            f"ON CONFLICT (subset_id, source_id, row_number) DO UPDATE SET {updates}",
            [subset.pk, mapping.source_id, *reset_values, mapping.pk],
        )
        written = cursor.rowcount
        cursor.execute(
            f"DELETE FROM {link} l USING {sample} s "  # noqa: S608
            "WHERE l.sample_id = s.id AND s.subset_id = %s AND s.source_id = %s AND s.mapping_id = %s",
            [subset.pk, mapping.source_id, mapping.pk],
        )
        cursor.execute(
            f"INSERT INTO {link} (sample_id, position, image_id) "  # noqa: S608
            f"SELECT s.id, e.ord - 1, e.sha FROM {staged} st "
            f"JOIN {sample} s ON s.subset_id = %s AND s.source_id = %s AND s.row_number = st.row_number "
            "CROSS JOIN LATERAL jsonb_array_elements_text(st.image_shas) WITH ORDINALITY AS e(sha, ord) "
            "WHERE st.mapping_id = %s",
            [subset.pk, mapping.source_id, mapping.pk],
        )
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
        SampleImage.objects.bulk_create(
            [
                SampleImage(sample_id=sample.pk, image_id=sha, position=position)
                for sample, row in zip(samples, staged, strict=True)
                for position, sha in enumerate(row.image_shas)
            ]
        )
        written += len(samples)
    return written
