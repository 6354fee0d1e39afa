"""Flagged pairs: the reviewer's decision on one, and the reads that checks, pages and exports share.

Kept apart from services/dedup.py (the scan) so the review kinds and subset checks import it without
pulling in the review machinery's services.
"""
from django.contrib.auth.models import User
from django.db.models import Q
from django.utils import timezone

from curation.errors import ApplicationError
from curation.models import DuplicatePair, DuplicateScan, Subset


class PairDecisionInvalid(ApplicationError):
    code = "pair_decision_invalid"
    status = 400


def dedup_last_scan(*, subset: Subset, kind: str) -> DuplicateScan | None:
    return DuplicateScan.objects.filter(subsets=subset, kind=kind).order_by("-created_at", "-pk").first()


def dedup_open_pairs(*, subset: Subset, kind: str) -> int:
    return DuplicatePair.objects.filter(kind=kind, flagged=True, status=DuplicatePair.Status.OPEN).filter(
        Q(a_sample__subset=subset) | Q(b_sample__subset=subset)
    ).count()


def dedup_pair_decide(*, pair: DuplicatePair, status: str, by: User | None) -> DuplicatePair:
    """Record a reviewer's verdict on the pair (the review kinds call this; the audit row is the machinery's)."""
    allowed = (
        {DuplicatePair.Status.NOT_COPY, DuplicatePair.Status.KEEP_A, DuplicatePair.Status.KEEP_B}
        if pair.kind == DuplicatePair.Kind.DUPLICATE
        else {DuplicatePair.Status.NOT_COPY, DuplicatePair.Status.LEAK}
    )
    if status not in allowed:
        raise PairDecisionInvalid(f"{status!r} is not a decision for a {pair.kind} pair")
    pair.status = status
    pair.decided_by = by
    pair.decided_at = timezone.now()
    pair.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    return pair


def dedup_open_checks(*, subset: Subset, require_run: bool) -> list[tuple[str, str, int]]:
    """(code, message, count) for what copy detection leaves open on the subset: a check that has not run
    (only when the team's policy requires it) or flagged pairs nobody has decided."""
    checks: list[tuple[str, str, int]] = []
    for kind, label in ((DuplicateScan.Kind.DUPLICATE, "near-duplicate check"), (DuplicateScan.Kind.LEAK, "benchmark leak check")):
        scan = dedup_last_scan(subset=subset, kind=kind)
        if scan is None:
            if require_run:
                checks.append((f"{kind}_check_not_run", f"The {label} has not run on this subset.", 1))
        elif scan.state == DuplicateScan.State.FAILED:
            checks.append((f"{kind}_check_failed", f"The last {label} failed: {scan.message}", 1))
        open_pairs = dedup_open_pairs(subset=subset, kind=kind)
        if open_pairs:
            noun = "near-duplicate pairs" if kind == DuplicateScan.Kind.DUPLICATE else "benchmark leaks"
            checks.append((f"{kind}_pairs_open", f"{open_pairs:,} flagged {noun} are not reviewed yet.", open_pairs))
    return checks
