"""Reads for the copy-detection pages: a subset's scans, pairs by cluster, contamination and diversity."""
from typing import Any

from django.db.models import QuerySet

from curation.engines.sscd import embedding_engine
from curation.models import Benchmark, DuplicatePair, DuplicateScan, ReviewQueue, Subset
from curation.services.benchmarks import contamination_for_subset
from curation.services.dedup_pairs import dedup_last_scan, dedup_open_pairs
from curation.services.diversity import subset_diversity

PAIRS_SHOWN = 100


def subset_copies_summary(*, subset: Subset) -> dict[str, Any]:
    """Everything the subset's copies panel and page show."""
    engine = embedding_engine().name
    diversity = subset_diversity(subset=subset, engine=engine)
    queues = {q.kind: q for q in ReviewQueue.objects.filter(subset=subset, kind__in=["duplicate", "leak"])}
    return {
        "subset": subset,
        "engine": engine,
        "duplicate_scan": dedup_last_scan(subset=subset, kind=DuplicateScan.Kind.DUPLICATE),
        "leak_scan": dedup_last_scan(subset=subset, kind=DuplicateScan.Kind.LEAK),
        "duplicates_flagged": DuplicatePair.objects.filter(kind="duplicate", flagged=True, a_sample__subset=subset).count(),
        "duplicates_open": dedup_open_pairs(subset=subset, kind="duplicate"),
        "leaks_open": dedup_open_pairs(subset=subset, kind="leak"),
        "contamination": contamination_for_subset(subset=subset),
        "diversity": diversity,
        "duplicate_queue": queues.get("duplicate"),
        "leak_queue": queues.get("leak"),
    }


def subset_pairs(*, subset: Subset, kind: str) -> QuerySet[DuplicatePair]:
    return (
        DuplicatePair.objects.filter(kind=kind, flagged=True, a_sample__subset=subset)
        .select_related("benchmark", "benchmark_image", "decided_by")
        .order_by("cluster", "-similarity", "pk")[:PAIRS_SHOWN]
    )


def subset_scans(*, subset: Subset) -> list[DuplicateScan]:
    return list(DuplicateScan.objects.filter(subsets=subset).select_related("embed_job", "search_job").order_by("-created_at")[:5])


def benchmarks_list() -> QuerySet[Benchmark]:
    return Benchmark.objects.order_by("name")
