"""Samples: the swap that makes a mapping version's built rows the live samples of its subset."""
from dataclasses import dataclass

from django.db.models import Q

from curation.models import Mapping, MappingStagedRow, Sample, SampleImage, Subset
from curation.services.ratings import ratings_forget

SWAP_BATCH_SIZE = 1000
# Fields a re-map resets: the turns changed, so earlier reviews and ratings no longer describe them.
RESET_ON_REMAP = {
    "status": Sample.Status.PENDING,
    "reject_reason": "",
    "original_turns": None,
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
    _, deleted = stale.exclude(mapping=mapping).delete()
    subset_recount(subset_ids=affected)
    MappingStagedRow.objects.filter(mapping=mapping).delete()
    return SwapResult(written=written, removed=deleted.get(Sample._meta.label, 0))
