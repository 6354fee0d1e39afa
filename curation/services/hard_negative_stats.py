"""Reads of a subset's hard negatives: counts per attribute, validity with Wilson intervals, the verifier agent
against the humans, the blind text model's preference, and the positive:negative ratio achieved."""
from dataclasses import dataclass
from typing import Any

from django.db.models import Count, F, Q

from curation.engines import hardneg_lexicon as lex
from curation.models import HardNegative, Job, Subset
from curation.review.statistics import Proportion, wilson_interval
from curation.services import job_kinds

PASSED = HardNegative.AgentVerdict.PASSED
REVIEWED = (HardNegative.Review.VALID, HardNegative.Review.INVALID, HardNegative.Review.EDITED)


@dataclass(frozen=True)
class AttributeFigures:
    attribute: str
    label: str
    generated: int
    passed: int
    rejected: int
    validity: Proportion
    blind: Proportion


@dataclass(frozen=True)
class HardNegativeSummary:
    positives: int
    generated: int
    passed: int
    valid_for_export: int
    validity: Proportion
    # Of the negatives the verifier agent passed and humans reviewed, how many humans rejected.
    verifier_passed_humans_rejected: Proportion
    blind: Proportion
    by_attribute: list[AttributeFigures]
    by_level: dict[str, int]
    reject_reasons: dict[str, int]
    job: Job | None

    @property
    def ratio(self) -> float | None:
        return self.passed / self.positives if self.positives else None

    @property
    def valid_ratio(self) -> float | None:
        return self.valid_for_export / self.positives if self.positives else None


def attribute_counts(*, subset: Subset) -> dict[str, dict[str, int]]:
    rows = (
        HardNegative.objects.filter(subset=subset).order_by().values("attribute")
        .annotate(generated=Count("id"), passed=Count("id", filter=Q(agent_verdict=PASSED)))
    )
    return {r["attribute"]: {"generated": r["generated"], "passed": r["passed"], "rejected": r["generated"] - r["passed"]}
            for r in sorted(rows, key=lambda r: r["attribute"])}


def _blind_counts(queryset: Any) -> tuple[int, int]:
    scored = queryset.filter(blind_positive_score__isnull=False, blind_negative_score__isnull=False)
    return scored.filter(blind_positive_score__gt=F("blind_negative_score")).count(), scored.count()


def hard_negative_summary(*, subset: Subset) -> HardNegativeSummary:
    negatives = HardNegative.objects.filter(subset=subset)
    passed = negatives.filter(agent_verdict=PASSED)
    per = {
        r["attribute"]: r
        for r in negatives.order_by().values("attribute").annotate(
            generated=Count("id"),
            passed=Count("id", filter=Q(agent_verdict=PASSED)),
            reviewed=Count("id", filter=Q(agent_verdict=PASSED, review__in=REVIEWED)),
            valid=Count("id", filter=Q(agent_verdict=PASSED, review=HardNegative.Review.VALID)),
            blind_n=Count("id", filter=Q(agent_verdict=PASSED, blind_positive_score__isnull=False, blind_negative_score__isnull=False)),
            blind_pos=Count("id", filter=Q(agent_verdict=PASSED, blind_positive_score__gt=F("blind_negative_score"))),
        )
    }
    by_attribute = [
        AttributeFigures(
            attribute=key, label=lex.ATTRIBUTE_LABELS.get(key, key), generated=r["generated"], passed=r["passed"],
            rejected=r["generated"] - r["passed"], validity=wilson_interval(r["valid"], r["reviewed"]),
            blind=wilson_interval(r["blind_pos"], r["blind_n"]),
        )
        for key, r in sorted(per.items())
    ]
    reviewed = passed.filter(review__in=REVIEWED)
    n_reviewed = reviewed.count()
    n_valid = reviewed.filter(review=HardNegative.Review.VALID).count()
    n_rejected = reviewed.filter(review=HardNegative.Review.INVALID).count()
    blind_yes, blind_n = _blind_counts(passed)
    levels = dict(passed.order_by().values_list("level").annotate(n=Count("id")))
    reasons = dict(reviewed.filter(review=HardNegative.Review.INVALID).order_by().values_list("review_reason").annotate(n=Count("id")))
    job = Job.objects.filter(kind=job_kinds.HARD_NEGATIVES.key, target_id=str(subset.pk)).order_by("-created_at").first()
    return HardNegativeSummary(
        positives=negatives.values("sample_id", "turn_index").distinct().count(),
        generated=negatives.count(),
        passed=passed.count(),
        valid_for_export=passed.filter(review__in=(HardNegative.Review.VALID, HardNegative.Review.EDITED)).count(),
        validity=wilson_interval(n_valid, n_reviewed),
        verifier_passed_humans_rejected=wilson_interval(n_rejected, n_reviewed),
        blind=wilson_interval(blind_yes, blind_n),
        by_attribute=by_attribute,
        by_level=levels,
        reject_reasons=reasons,
        job=job,
    )
