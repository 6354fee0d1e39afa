"""A subset's pipeline at a glance: one row per stage with its state, key figure and where to act.

Each capability registers its stage (near-duplicates, leaks, ratings, hard negatives, actions); a stage
that does not apply to a subset (no GUI actions in a captioning subset) says so and is left out.
"""
from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import Count, Sum

from curation.models import Export, Job, Mapping, Sample, Source, Subset
from curation.review.selectors import subset_review_summary
from curation.services import job_kinds
from curation.services.approval import approval_blocking, approval_evaluate

NOT_RUN, RUNNING, NEEDS_REVIEW, DONE = "not_run", "running", "needs_review", "done"
STATE_LABELS = {NOT_RUN: "Not run", RUNNING: "Running", NEEDS_REVIEW: "Needs review", DONE: "Done"}
UNFINISHED = (Job.State.QUEUED, Job.State.RUNNING)


@dataclass(frozen=True)
class StageStatus:
    key: str
    label: str
    state: str
    figure: str = ""
    # What the link does, in words ("Review 12 pairs"), and which page it goes to (templates map it to a URL).
    action_label: str = ""
    action: str = ""

    @property
    def state_label(self) -> str:
        return STATE_LABELS[self.state]


@dataclass(frozen=True)
class Stage:
    key: str
    label: str
    # None when the stage does not apply to the subset.
    status: Callable[[Subset], StageStatus | None]


STAGES: dict[str, Stage] = {}


def pipeline_stage_register(stage: Stage, *, before: str | None = None) -> Stage:
    """Add a stage; `before` places it ahead of a registered one (capabilities go before the spot-check)."""
    if stage.key in STAGES and STAGES[stage.key] != stage:
        raise ValueError(f"pipeline stage {stage.key!r} is registered twice")
    items = [(k, v) for k, v in STAGES.items() if k != stage.key]
    at = next((i for i, (k, _) in enumerate(items) if k == before), len(items))
    items.insert(at, (stage.key, stage))
    STAGES.clear()
    STAGES.update(items)
    return stage


def subset_pipeline(*, subset: Subset) -> list[StageStatus]:
    return [status for stage in STAGES.values() if (status := stage.status(subset)) is not None]


def _source_ids(subset: Subset) -> set[int]:
    from_samples = set(Sample.objects.filter(subset=subset).order_by().values_list("source_id", flat=True).distinct())
    return from_samples | set(Mapping.objects.filter(subset=subset).values_list("source_id", flat=True))


def _ingested(subset: Subset) -> StageStatus:
    sources = Source.objects.filter(pk__in=_source_ids(subset))
    if not sources:
        return StageStatus("ingested", "Ingested", NOT_RUN, "no source yet", "Register a source", "sources")
    states = dict(sources.order_by().values_list("status").annotate(n=Count("id")))
    totals = sources.aggregate(rows=Sum("row_count"), rejected=Sum("rejected_count"))
    figure = f"{totals['rows'] or 0:,} rows, {totals['rejected'] or 0:,} rejected"
    if states.get(Source.Status.INGESTING) or states.get(Source.Status.REGISTERED):
        return StageStatus("ingested", "Ingested", RUNNING, figure)
    if states.get(Source.Status.FAILED):
        return StageStatus("ingested", "Ingested", NEEDS_REVIEW, f"{states[Source.Status.FAILED]} failed; {figure}",
                           "See why", "sources")
    return StageStatus("ingested", "Ingested", DONE, figure)


def _mapped(subset: Subset) -> StageStatus:
    mappings = Mapping.objects.filter(subset=subset)
    samples = subset.sample_count
    mapping_ids = [str(pk) for pk in mappings.values_list("pk", flat=True)]
    if Job.objects.filter(kind=job_kinds.APPLY_MAPPING.key, state__in=UNFINISHED, target_id__in=mapping_ids).exists():
        return StageStatus("mapped", "Mapped", RUNNING, f"{samples:,} samples")
    if mappings.filter(status=Mapping.Status.SUGGESTED).exists():
        return StageStatus("mapped", "Mapped", NEEDS_REVIEW, "a suggested mapping awaits a decision", "Decide the mapping", "sources")
    if not mappings.filter(status=Mapping.Status.ACCEPTED, applied_at__isnull=False).exists():
        return StageStatus("mapped", "Mapped", NOT_RUN, "no mapping applied", "Open the sources", "sources")
    return StageStatus("mapped", "Mapped", DONE, f"{samples:,} samples")


def _spot_check(subset: Subset) -> StageStatus:
    result = next(state.result for state in approval_evaluate(subset=subset) if state.result.key == "spot_check")
    if result.passed:
        return StageStatus("spot_check", "Spot-check review", DONE, result.figure)
    started = subset_review_summary(subset=subset).queue is not None
    return StageStatus("spot_check", "Spot-check review", NEEDS_REVIEW if started else NOT_RUN, result.figure,
                       "Work the spot-check" if started else "Queue a spot-check", "review")


def _approved(subset: Subset) -> StageStatus:
    if subset.status == Subset.Status.APPROVED:
        return StageStatus("approved", "Approved", DONE, f"by {subset.approved_by or 'a command'}")
    blocking = approval_blocking(subset=subset)
    if blocking:
        return StageStatus("approved", "Approved", NOT_RUN, f"{len(blocking)} required check(s) fail", "See the checks", "approval")
    return StageStatus("approved", "Approved", NEEDS_REVIEW, "every required check passes", "Approve", "approval")


def _exported(subset: Subset) -> StageStatus:
    export = Export.objects.filter(subsets=subset).order_by("-created_at").first()
    if export is None:
        return StageStatus("exported", "Exported", NOT_RUN, "no export yet",
                           "Export" if subset.status == Subset.Status.APPROVED else "", "export")
    if export.state in (Export.State.QUEUED, Export.State.RUNNING):
        return StageStatus("exported", "Exported", RUNNING, f"export {export.pk} {export.state}", "Follow it", "export")
    if export.state == Export.State.SUCCEEDED:
        return StageStatus("exported", "Exported", DONE, f"{export.sample_count:,} samples ({export.format})", "Download", "export")
    return StageStatus("exported", "Exported", NEEDS_REVIEW, f"the last export {export.get_state_display().lower()}", "See why", "export")


for _stage in (
    Stage("ingested", "Ingested", _ingested),
    Stage("mapped", "Mapped", _mapped),
    Stage("spot_check", "Spot-check review", _spot_check),
    Stage("approved", "Approved", _approved),
    Stage("exported", "Exported", _exported),
):
    pipeline_stage_register(_stage)

