"""Approval as a policy: checks that each capability registers, which a team's policy requires.

A check looks at a subset and says whether it passes, why not in words, and its key figure. The subset's
approval panel and its pipeline view show every registered check; `subset_approve` refuses while a
required one fails, unless an admin approves over it with a written reason (recorded as a decision).
"""
import math
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db.models import Q

from curation.models import ApprovalPolicy, Sample, Source, Subset
from curation.review.selectors import subset_review_summary


@dataclass(frozen=True)
class CheckResult:
    key: str
    label: str
    passed: bool
    message: str
    figure: str = ""
    # Where the curator acts on it, as a page name the templates link to ("review", "sources", ...).
    action: str = ""


@dataclass(frozen=True)
class ApprovalCheck:
    key: str
    label: str
    description: str
    evaluate: Callable[[Subset, ApprovalPolicy], CheckResult]


@dataclass(frozen=True)
class CheckState:
    """A check's result on a subset under its policy: required or only shown."""

    result: CheckResult
    required: bool

    @property
    def blocking(self) -> bool:
        return self.required and not self.result.passed


CHECKS: dict[str, ApprovalCheck] = {}


def approval_check_register(check: ApprovalCheck) -> ApprovalCheck:
    if check.key in CHECKS and CHECKS[check.key] != check:
        raise ValueError(f"approval check {check.key!r} is registered twice")
    CHECKS[check.key] = check
    return check


def approval_policy_for(*, subset: Subset) -> ApprovalPolicy:
    """The subset's team's policy, else the default one (made with the defaults the first time it is asked for)."""
    if subset.team_id is not None:
        policy = ApprovalPolicy.objects.filter(team_id=subset.team_id).first()
        if policy is not None:
            return policy
    policy, _ = ApprovalPolicy.objects.get_or_create(team=None)
    return policy


def approval_evaluate(*, subset: Subset, policy: ApprovalPolicy | None = None) -> list[CheckState]:
    """Every registered check on the subset, in registration order, marked required as the policy says."""
    policy = policy or approval_policy_for(subset=subset)
    required = set(policy.required_checks or [])
    return [CheckState(result=check.evaluate(subset, policy), required=check.key in required) for check in CHECKS.values()]


def spot_check_needed(*, samples: int, policy: ApprovalPolicy) -> int:
    """How many samples a spot-check reviews: max(share, minimum), never more than the subset has."""
    return min(samples, max(math.ceil(policy.spot_check_share * samples), policy.spot_check_minimum))


# --- the built-in checks ---------------------------------------------------------------------------------


def _licence(subset: Subset, policy: ApprovalPolicy) -> CheckResult:
    source_ids = Sample.objects.filter(subset=subset).order_by().values_list("source_id", flat=True).distinct()
    missing = list(
        Source.objects.filter(pk__in=source_ids).filter(Q(license="") & Q(license_unknown=False)).order_by("name")
        .values_list("name", flat=True)
    )
    if missing:
        names = ", ".join(missing[:3]) + (f" and {len(missing) - 3} more" if len(missing) > 3 else "")
        return CheckResult("licence", "Licence", False, f"No licence is set for {names} (set it, or mark it unknown on purpose).",
                           figure=f"{len(missing)} without", action="sources")
    return CheckResult("licence", "Licence", True, "Every source has a licence (or is marked unknown on purpose).")


def _spot_check(subset: Subset, policy: ApprovalPolicy) -> CheckResult:
    samples = Sample.objects.filter(subset=subset).count()
    needed = spot_check_needed(samples=samples, policy=policy)
    summary = subset_review_summary(subset=subset)
    reviewed = summary.acceptance.n
    rate = summary.acceptance.rate
    figure = f"{reviewed:,} of {needed:,} reviewed"
    if rate is not None:
        low, high = summary.acceptance.low_pct or 0.0, summary.acceptance.high_pct or 0.0
        figure += f", {100 * rate:.0f}% accepted (95% CI {low:.0f}-{high:.0f}%)"
    if samples == 0:
        return CheckResult("spot_check", "Spot-check", False, "The subset has no samples to review.", figure=figure)
    if reviewed < needed:
        return CheckResult("spot_check", "Spot-check", False,
                           f"{reviewed:,} of {needed:,} samples reviewed: a spot-check needs at least "
                           f"max({100 * policy.spot_check_share:g}%, {policy.spot_check_minimum}) of {samples:,}.",
                           figure=figure, action="review")
    if rate is None or rate < policy.spot_check_acceptance:
        return CheckResult("spot_check", "Spot-check", False,
                           f"{100 * (rate or 0):.0f}% of the reviewed samples were accepted; the policy asks for at least "
                           f"{100 * policy.spot_check_acceptance:.0f}%.", figure=figure, action="review")
    return CheckResult("spot_check", "Spot-check", True, f"{figure}.", figure=figure)


approval_check_register(
    ApprovalCheck("licence", "Licence", "Every source of the subset has a licence, or is marked unknown on purpose.", _licence)
)
approval_check_register(
    ApprovalCheck(
        "spot_check", "Spot-check",
        "A random spot-check of max(share, minimum) samples, accepted at or above the threshold.", _spot_check,
    )
)
# "open_items" (every check that ran has nothing open) is registered by services/subsets.py, which lists them.


def approval_blocking(*, subset: Subset) -> list[CheckState]:
    return [state for state in approval_evaluate(subset=subset) if state.blocking]


def user_may_override(user: User | None) -> bool:
    return bool(user and (user.is_superuser or user.groups.filter(name="admin").exists()))
