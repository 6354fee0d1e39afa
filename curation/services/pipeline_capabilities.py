"""The pipeline stages the capabilities add: near-duplicates, benchmark leaks, quality ratings, hard negatives
and GUI actions, each read from the capability's own rows (services/pipeline_stages.py registers them)."""
from django.db.models import Count

from curation.models import (
    DuplicatePair,
    DuplicateScan,
    HardNegative,
    Sample,
    SampleAction,
    SampleRating,
    Subset,
)
from curation.services.benchmarks import contamination_for_subset
from curation.services.dedup_pairs import dedup_last_scan, dedup_open_pairs
from curation.services.pipeline import DONE, NEEDS_REVIEW, NOT_RUN, RUNNING, StageStatus

SCAN_RUNNING = (DuplicateScan.State.EMBEDDING, DuplicateScan.State.SEARCHING, DuplicateScan.State.FINISHING)


def _copies(subset: Subset, kind: str, key: str, label: str) -> StageStatus:
    scan = dedup_last_scan(subset=subset, kind=kind)
    if scan is None:
        return StageStatus(key, label, NOT_RUN, "not checked", "Run the check", "copies")
    if scan.state in SCAN_RUNNING:
        return StageStatus(key, label, RUNNING, scan.get_state_display().lower(), "Follow it", "copies")
    if scan.state == DuplicateScan.State.FAILED:
        return StageStatus(key, label, NEEDS_REVIEW, "the last check failed", "See why", "copies")
    open_pairs = dedup_open_pairs(subset=subset, kind=kind)
    if kind == DuplicateScan.Kind.LEAK:
        rates = contamination_for_subset(subset=subset)
        figure = (f"{rates['confirmed']:,} confirmed, contamination {100 * rates['rate_after']:.2f}% "
                  f"({100 * rates['rate_before']:.2f}% flagged)")
    else:
        flagged = DuplicatePair.objects.filter(kind=kind, flagged=True, a_sample__subset=subset)
        confirmed = flagged.filter(status__in=[DuplicatePair.Status.KEEP_A, DuplicatePair.Status.KEEP_B]).count()
        figure = f"{flagged.count():,} flagged, {confirmed:,} confirmed"
    if open_pairs:
        return StageStatus(key, label, NEEDS_REVIEW, f"{open_pairs:,} to review; {figure}", "Review the pairs", "copies")
    return StageStatus(key, label, DONE, figure)


def near_duplicates_stage(subset: Subset) -> StageStatus:
    return _copies(subset, DuplicateScan.Kind.DUPLICATE, "near_duplicates", "Near-duplicates")


def leaks_stage(subset: Subset) -> StageStatus:
    return _copies(subset, DuplicateScan.Kind.LEAK, "leaks", "Benchmark leaks")


def ratings_stage(subset: Subset) -> StageStatus:
    samples = subset.sample_count or Sample.objects.filter(subset=subset).count()
    rated = SampleRating.objects.filter(sample__subset=subset).values("sample").distinct().count()
    if not rated:
        return StageStatus("ratings", "Quality ratings", NOT_RUN, "no turn rated", "Rate quality", "ratings")
    figure = f"{rated:,} of {samples:,} samples rated ({100 * rated / samples:.0f}% coverage)" if samples else f"{rated:,} rated"
    return StageStatus("ratings", "Quality ratings", DONE if rated >= samples else RUNNING, figure, "See the ratings", "ratings")


def hard_negatives_stage(subset: Subset) -> StageStatus | None:
    negatives = HardNegative.objects.filter(subset=subset, agent_verdict=HardNegative.AgentVerdict.PASSED)
    if subset.category != Subset.Category.CAPTIONING and not negatives.exists():
        return None  # only caption subsets get hard negatives
    if not negatives.exists():
        return StageStatus("hard_negatives", "Hard negatives", NOT_RUN, "none generated", "Generate them", "hard_negatives")
    reviews = dict(negatives.order_by().values_list("review").annotate(n=Count("id")))
    pending = reviews.get(HardNegative.Review.PENDING, 0)
    decided = sum(reviews.values()) - pending
    valid = reviews.get("valid", 0) + reviews.get("edited", 0)
    figure = f"{sum(reviews.values()):,} negatives, {valid:,} of {decided:,} reviewed valid"
    if pending:
        return StageStatus("hard_negatives", "Hard negatives", NEEDS_REVIEW, f"{pending:,} to verify; {figure}",
                           "Verify them", "review")
    return StageStatus("hard_negatives", "Hard negatives", DONE, figure)


def actions_stage(subset: Subset) -> StageStatus | None:
    actions = SampleAction.objects.filter(sample__subset=subset)
    if subset.category != Subset.Category.GUI and not actions.exists():
        return None  # only GUI and agent subsets carry actions
    if not actions.exists():
        return StageStatus("actions", "GUI actions", NOT_RUN, "no action mapping applied", "Map the actions", "sources")
    states = dict(actions.order_by().values_list("state").annotate(n=Count("id")))
    total, valid = sum(states.values()), states.get(SampleAction.State.VALID, 0)
    figure = f"{valid:,} of {total:,} actions valid ({100 * valid / total:.0f}%)"
    return StageStatus("actions", "GUI actions", DONE if valid == total else NEEDS_REVIEW, figure,
                       "" if valid == total else "See the failures", "actions")
