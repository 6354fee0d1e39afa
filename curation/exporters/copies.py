"""The copy-detection export filter: drop confirmed benchmark leaks and the losing side of confirmed
near-duplicates; optionally every flagged pair nobody reviewed yet (the leak's sample; a duplicate's B side).
"""
from typing import Any

from django.db.models import Q, QuerySet

from curation.exporters.registry import ExportFilter, Param, register_filter
from curation.models import DuplicatePair, Sample

UNREVIEWED_CHOICES = [("keep", "Keep them"), ("drop", "Drop them too")]


def _dropped_ids(params: dict[str, Any]) -> dict[str, QuerySet]:
    flagged = DuplicatePair.objects.filter(flagged=True)
    reasons = {
        "confirmed benchmark leak": flagged.filter(kind=DuplicatePair.Kind.LEAK, status=DuplicatePair.Status.LEAK).values("a_sample_id"),
        "confirmed near-duplicate, other copy kept": flagged.filter(
            kind=DuplicatePair.Kind.DUPLICATE, status=DuplicatePair.Status.KEEP_A
        ).values("b_sample_id"),
        "confirmed near-duplicate, other copy kept (B)": flagged.filter(
            kind=DuplicatePair.Kind.DUPLICATE, status=DuplicatePair.Status.KEEP_B
        ).values("a_sample_id"),
    }
    if "drop" in params["unreviewed"]:
        reasons["flagged benchmark leak, not reviewed"] = flagged.filter(
            kind=DuplicatePair.Kind.LEAK, status=DuplicatePair.Status.OPEN
        ).values("a_sample_id")
        reasons["flagged near-duplicate, not reviewed"] = flagged.filter(
            kind=DuplicatePair.Kind.DUPLICATE, status=DuplicatePair.Status.OPEN
        ).values("b_sample_id")
    return reasons


@register_filter
class CopiesFilter(ExportFilter):
    name = "copies"
    label = "Duplicates and leaks"
    description = (
        "Leave out samples confirmed as benchmark leaks and the losing side of confirmed near-duplicates; "
        "optionally also every flagged pair not reviewed yet."
    )
    params = (Param("unreviewed", "Flagged but not reviewed", "choices", choices=lambda: UNREVIEWED_CHOICES),)
    # Off unless chosen (a policy or the export form turns it on): "keep" drops only what reviewers confirmed.
    default = None

    def apply(self, samples: QuerySet[Sample], params: dict[str, Any]) -> QuerySet[Sample]:
        drop = Q()
        for ids in _dropped_ids(params).values():
            drop |= Q(pk__in=ids)
        return samples.exclude(drop)

    def reasons(self, excluded: QuerySet[Sample], params: dict[str, Any]) -> dict[str, int]:
        counted: set[int] = set()
        out: dict[str, int] = {}
        for reason, ids in _dropped_ids(params).items():
            label = reason.replace(" (B)", "")
            hit = set(excluded.filter(pk__in=ids).values_list("pk", flat=True)) - counted
            if hit:
                out[label] = out.get(label, 0) + len(hit)
                counted |= hit
        return out
