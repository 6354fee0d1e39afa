"""Flagged pairs: the reviewer's decision on one, and the reads that checks, pages and exports share.

Kept apart from services/dedup.py (the scan) so the review kinds and subset checks import it without
pulling in the review machinery's services.
"""
from django.contrib.auth.models import User
from django.db.models import Q
from django.utils import timezone

from curation.errors import ApplicationError
from curation.models import ApprovalPolicy, DuplicatePair, DuplicateScan, Subset
from curation.services.approval import ApprovalCheck, CheckResult, approval_check_register


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


def dedup_open_checks(*, subset: Subset, require_run: bool = False) -> list[tuple[str, str, int]]:
    """(code, message, count) for what copy detection leaves open on the subset: flagged pairs nobody has
    decided, a failed last run, and (require_run) a check that has not run."""
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


def _copy_checks_evaluate(subset: Subset, policy: ApprovalPolicy) -> CheckResult:
    del policy
    problems = dedup_open_checks(subset=subset, require_run=True)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        return CheckResult(COPY_CHECK_KEY, COPY_CHECK_LABEL, False, f"{problems[0][1]}{more}", figure=f"{len(problems)} open", action="copies")
    return CheckResult(COPY_CHECK_KEY, COPY_CHECK_LABEL, True, "The near-duplicate and leak checks ran and every flagged pair is decided.")


COPY_CHECK_KEY = "copies_checked"
COPY_CHECK_LABEL = "Duplicates and leaks checked"
approval_check_register(
    ApprovalCheck(
        COPY_CHECK_KEY, COPY_CHECK_LABEL,
        "The near-duplicate and benchmark-leak checks have run on the subset and no flagged pair is left undecided.",
        _copy_checks_evaluate,
    )
)
