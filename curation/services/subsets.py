"""Subset approval: what is still open on a subset, approve it when nothing is, reopen it; and its statistics.

States: draft -> approved (subset_approve, only with no open check) -> draft (subset_reopen). Every
transition is a Decision row. Only approved subsets can be exported.
"""
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from curation.errors import ApplicationError
from curation.models import (
    ApprovalPolicy,
    Job,
    Mapping,
    ReviewItem,
    Sample,
    SampleImage,
    SampleRating,
    Source,
    Subset,
)
from curation.review.kinds import kind_label
from curation.services.approval import (
    ApprovalCheck,
    CheckResult,
    CheckState,
    approval_blocking,
    approval_check_register,
    user_may_override,
)
from curation.services.decisions import decision_record
from curation.services.dedup_pairs import dedup_open_checks
from curation.services.job_kinds import job_kind_label

UNFINISHED_JOB_STATES = (Job.State.QUEUED, Job.State.RUNNING)


@dataclass(frozen=True)
class OpenCheck:
    """Something that must be settled before the subset can be approved, in words for the curator."""

    code: str
    message: str
    count: int = 1
    source_id: int | None = None  # what the check is about: the page links to it
    job_id: int | None = None


class SubsetNotApprovable(ApplicationError):
    """The subset cannot change state now; `checks` lists what is still open, `failing` the required checks that fail."""

    code = "subset_not_approvable"
    status = 409

    def __init__(self, message: str, *, code: str, checks: list[OpenCheck] | None = None,
                 failing: list[CheckState] | None = None):
        self.checks = checks or []
        self.failing = failing or []
        super().__init__(message, code=code, extra={"checks": [c.code for c in self.checks],
                                                    "failing": [s.result.key for s in self.failing]})


@dataclass
class SubsetStats:
    samples: int
    by_status: dict[str, int]
    images: int
    rated: int
    sources: list[dict[str, Any]] = field(default_factory=list)


def subset_open_checks(*, subset: Subset) -> list[OpenCheck]:
    """Everything still open on the subset: undecided or stale mappings, undecided review items, running jobs."""
    checks: list[OpenCheck] = []
    samples = Sample.objects.filter(subset=subset)
    if not samples.exists():
        checks.append(OpenCheck("empty", "The subset has no samples yet."))

    for mapping in Mapping.objects.filter(subset=subset, status=Mapping.Status.SUGGESTED).select_related("source"):
        checks.append(
            OpenCheck(
                "mapping_undecided",
                f"Mapping v{mapping.version} of source {mapping.source.name} awaits a decision.",
                source_id=mapping.source_id,
            )
        )
    not_applied = Mapping.objects.filter(subset=subset, status=Mapping.Status.ACCEPTED, applied_at__isnull=True)
    for mapping in not_applied.select_related("source"):
        checks.append(
            OpenCheck(
                "mapping_not_applied",
                f"Mapping v{mapping.version} of source {mapping.source.name} is accepted but its samples are not built yet.",
                source_id=mapping.source_id,
            )
        )
    source_ids = set(samples.order_by().values_list("source_id", flat=True).distinct())
    accepted = set(
        Mapping.objects.filter(source_id__in=source_ids, status=Mapping.Status.ACCEPTED).values_list("source_id", flat=True)
    )
    for source in Source.objects.filter(pk__in=source_ids - accepted).order_by("name"):
        checks.append(
            OpenCheck("mapping_not_accepted", f"Source {source.name} has no accepted mapping.", source_id=source.pk)
        )
    stale = (
        samples.filter(mapping__isnull=False)
        .exclude(mapping__status=Mapping.Status.ACCEPTED)
        .order_by()
        .values_list("source__name", "mapping__version", "mapping__status")
        .annotate(n=Count("id"))
        .order_by("source__name", "mapping__version")
    )
    for source_name, version, status, n in stale:
        checks.append(
            OpenCheck(
                "samples_from_stale_mapping",
                f"{n:,} samples of {source_name} were made by mapping v{version}, which is {status}; "
                "apply the accepted mapping again.",
                count=n,
            )
        )

    undecided = (
        ReviewItem.objects.filter(subset=subset)
        .exclude(state=ReviewItem.State.DECIDED)
        .order_by()
        .values_list("kind")
        .annotate(n=Count("id"))
        .order_by("kind")
    )
    for kind, n in undecided:
        checks.append(
            OpenCheck("review_items_open", f"{n:,} {kind_label(kind).lower()} items are not decided yet.", count=n)
        )

    for code, message, count in dedup_open_checks(subset=subset):
        checks.append(OpenCheck(code, message, count=count))

    for job in subset_running_jobs(subset=subset):
        checks.append(
            OpenCheck("job_running", f"{job_kind_label(job.kind)} #{job.pk} is {job.state}.", job_id=job.pk)
        )
    return checks


def subset_running_jobs(*, subset: Subset) -> list[Job]:
    """Unfinished jobs on the subset itself or on one of its mappings."""
    subset_type = ContentType.objects.get_for_model(Subset)
    mapping_type = ContentType.objects.get_for_model(Mapping)
    mapping_ids = [str(pk) for pk in Mapping.objects.filter(subset=subset).values_list("pk", flat=True)]
    return list(
        Job.objects.filter(state__in=UNFINISHED_JOB_STATES)
        .filter(Q(target_type=subset_type, target_id=str(subset.pk)) | Q(target_type=mapping_type, target_id__in=mapping_ids))
        .order_by("created_at", "pk")
    )


def _open_items(subset: Subset, policy: ApprovalPolicy) -> CheckResult:
    checks = subset_open_checks(subset=subset)
    if checks:
        more = f" (and {len(checks) - 1} more)" if len(checks) > 1 else ""
        return CheckResult("open_items", "Nothing open", False, f"{checks[0].message}{more}", figure=f"{len(checks)} open",
                           action="open")
    return CheckResult("open_items", "Nothing open", True,
                       "The mappings are accepted and applied, every flagged item is decided and no job is running.")


approval_check_register(
    ApprovalCheck(
        "open_items", "Nothing open",
        "Every check that ran has no open items: mappings decided and applied, review items decided, no job running.",
        _open_items,
    )
)


def subset_approve(*, subset: Subset, by: User | None, override_reason: str = "") -> Subset:
    """Approve the subset for export under its approval policy.

    SubsetNotApprovable if it is approved already or a required check fails; an admin may approve over
    failing checks with a written reason, recorded with the failing checks in the decision.
    """
    with transaction.atomic():
        locked = Subset.objects.select_for_update().get(pk=subset.pk)
        if locked.status == Subset.Status.APPROVED:
            raise SubsetNotApprovable(f"{locked.name} is approved already.", code="already_approved")
        blocking = approval_blocking(subset=locked)
        overridden = [state.result.key for state in blocking]
        if blocking:
            if not (override_reason.strip() and user_may_override(by)):
                how = (" An admin may approve over them with a written reason." if not user_may_override(by)
                       else " Give a reason to approve over them.")
                raise SubsetNotApprovable(
                    f"{locked.name} cannot be approved while {len(blocking)} required check(s) fail: "
                    + "; ".join(state.result.message for state in blocking) + how,
                    code="checks_open", checks=subset_open_checks(subset=locked), failing=blocking,
                )
        stats = subset_stats(subset=locked)
        locked.status = Subset.Status.APPROVED
        locked.approved_by = by
        locked.approved_at = timezone.now()
        locked.save(update_fields=["status", "approved_by", "approved_at"])
        after: dict[str, Any] = {"status": Subset.Status.APPROVED, "samples": stats.samples, "by_status": stats.by_status}
        if overridden:
            after["overridden_checks"] = overridden
        decision_record(
            by=by,
            target=locked,
            verdict="approve_override" if overridden else "approve",
            reason=override_reason.strip()[:200] if overridden else "",
            note=override_reason.strip() if overridden else "",
            before={"status": Subset.Status.DRAFT},
            after=after,
        )
    return locked


def subset_reopen(*, subset: Subset, by: User | None, reason: str = "") -> Subset:
    """Take an approved subset back to draft (e.g. to fix a mapping); exports made before keep their files."""
    with transaction.atomic():
        locked = Subset.objects.select_for_update().get(pk=subset.pk)
        if locked.status != Subset.Status.APPROVED:
            raise SubsetNotApprovable(f"{locked.name} is not approved.", code="not_approved")
        before = {
            "status": locked.status,
            "approved_by": locked.approved_by_id,
            "approved_at": locked.approved_at.isoformat() if locked.approved_at else None,
        }
        locked.status = Subset.Status.DRAFT
        locked.approved_by = None
        locked.approved_at = None
        locked.save(update_fields=["status", "approved_by", "approved_at"])
        decision_record(by=by, target=locked, verdict="reopen", reason=reason, before=before, after={"status": Subset.Status.DRAFT})
    return locked


def subset_stats(*, subset: Subset) -> SubsetStats:
    samples = Sample.objects.filter(subset=subset).order_by()
    by_status = {status: 0 for status in Sample.Status.values}
    by_status.update(dict(samples.values_list("status").annotate(n=Count("id"))))
    per_source = dict(samples.values_list("source_id").annotate(n=Count("id")))
    sources = [
        {"id": s.pk, "name": s.name, "license": s.license, "samples": per_source[s.pk]}
        for s in Source.objects.filter(pk__in=list(per_source)).order_by("name")
    ]
    return SubsetStats(
        samples=sum(by_status.values()),
        by_status=by_status,
        images=SampleImage.objects.filter(sample__subset=subset).count(),
        rated=SampleRating.objects.filter(sample__subset=subset, minimum__isnull=False).values("sample_id").distinct().count(),
        sources=sources,
    )


def subsets_with_counts() -> QuerySet[Subset]:
    """Subsets annotated with their sample counts by decision state (one grouped query)."""
    counts = {
        f"{status}_count": Count("samples", filter=Q(samples__status=status)) for status in Sample.Status.values
    }
    return Subset.objects.select_related("approved_by").annotate(samples_total=Count("samples"), **counts).order_by("name")
