"""Deleting a source: what goes with it (the plan, counted and named), and the deletion itself.

What goes: the source's rows, its mapping and action-mapping versions, its samples (with their image links,
ratings, hard negatives, actions and the duplicate and leak pairs they are in), the review items about those,
the subsets left empty (with their queues), and every export that holds its samples (rows and files). A subset
that also holds other sources' samples stays, without this source's; an approved one is reopened (a decision).

What stays: the audit trail (Decision rows are never deleted; those about deleted objects name them as deleted),
the jobs that ran (their history), benchmarks registered from the source (their images are their own), and the
stored images: they are content-addressed and may be shared with other sources, so none is removed here;
`manage.py images_cleanup` removes the images nothing refers to any more.
"""
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import reduce
from operator import or_
from pathlib import Path
from typing import Any

from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import models, transaction
from django.db.models import CharField, Count, Q
from django.db.models.functions import Cast

from curation.errors import ApplicationError
from curation.exporters.runner import export_root
from curation.models import (
    ActionMapping,
    Benchmark,
    Decision,
    DuplicatePair,
    DuplicateScan,
    Export,
    HardNegative,
    Job,
    Mapping,
    Rating,
    ReviewItem,
    ReviewQueue,
    Sample,
    Source,
    SourceRow,
    Subset,
)
from curation.review.kinds import kinds_registered
from curation.selectors import source_image_count
from curation.services.decisions import decision_record
from curation.services.job_kinds import job_kind_label
from curation.services.samples import subset_recount
from curation.services.subsets import subset_reopen

# Samples deleted per statement: each batch's cascade (image links, ratings, pairs...) is collected in memory.
SAMPLE_DELETE_BATCH = 2000
UNFINISHED = (Job.State.QUEUED, Job.State.RUNNING)


class SourceBusy(ApplicationError):
    """A job on the source (or on what goes with it) is queued or running: deleting now would pull rows from under it.
    `extra` is the plan (its running_jobs name them)."""

    code = "source_busy"
    status = 409


class SourceDeleteNotConfirmed(ApplicationError):
    """Approved subsets or ready exports go with the source; the caller must say so explicitly. `extra` is the plan."""

    code = "confirmation_required"
    status = 409


@dataclass(frozen=True)
class SubsetLoss:
    """A subset that holds samples of the source: it goes when it holds no other source's samples."""

    subset: Subset
    samples: int
    other_samples: int

    @property
    def goes(self) -> bool:
        return self.other_samples == 0


@dataclass(frozen=True)
class SourceDeletePlan:
    source: Source
    rows: int
    mappings: int
    action_mappings: int
    samples: int
    subsets: list[SubsetLoss]
    review_queues: int
    review_items: int
    decisions_kept: int
    ratings: int
    hard_negatives: int
    duplicate_pairs: int
    leak_pairs: int
    exports: list[Export]
    images_kept: int
    running_jobs: list[Job] = field(default_factory=list)

    @property
    def subsets_going(self) -> list[SubsetLoss]:
        return [loss for loss in self.subsets if loss.goes]

    @property
    def subsets_shrinking(self) -> list[SubsetLoss]:
        return [loss for loss in self.subsets if not loss.goes]

    @property
    def approved_subsets(self) -> list[Subset]:
        return [loss.subset for loss in self.subsets if loss.subset.status == Subset.Status.APPROVED]

    @property
    def ready_exports(self) -> list[Export]:
        return [export for export in self.exports if export.state == Export.State.SUCCEEDED]

    @property
    def confirm_because(self) -> list[str]:
        """Why the deletion needs an explicit yes: approved subsets and ready exports depend on the source."""
        reasons = []
        if self.approved_subsets:
            reasons.append("approved subset" + ("s " if len(self.approved_subsets) > 1 else " ")
                           + ", ".join(s.name for s in self.approved_subsets))
        if self.ready_exports:
            reasons.append("ready export" + ("s " if len(self.ready_exports) > 1 else " ")
                           + ", ".join(_export_label(e) for e in self.ready_exports))
        return reasons

    @property
    def needs_confirmation(self) -> bool:
        return bool(self.confirm_because)

    def as_dict(self) -> dict[str, Any]:
        """The plan as JSON: the API's 409 detail and the deletion's audit record."""
        return {
            "source": {"id": self.source.pk, "name": self.source.name},
            "rows": self.rows,
            "mappings": self.mappings,
            "action_mappings": self.action_mappings,
            "samples": self.samples,
            "subsets": [{"id": loss.subset.pk, "name": loss.subset.name, "status": loss.subset.status,
                         "samples": loss.samples, "other_samples": loss.other_samples, "goes": loss.goes}
                        for loss in self.subsets],
            "review_queues": self.review_queues,
            "review_items": self.review_items,
            "decisions_kept": self.decisions_kept,
            "ratings": self.ratings,
            "hard_negatives": self.hard_negatives,
            "duplicate_pairs": self.duplicate_pairs,
            "leak_pairs": self.leak_pairs,
            "exports": [{"id": e.pk, "name": _export_label(e), "state": e.state} for e in self.exports],
            "images_kept": self.images_kept,
            "running_jobs": [{"id": j.pk, "kind": j.kind, "state": j.state} for j in self.running_jobs],
            "needs_confirmation": self.needs_confirmation,
            "confirm_because": self.confirm_because,
        }


def _export_label(export: Export) -> str:
    return export.name or f"export {export.pk}"


def _targets_of_samples(source: Source) -> Iterator[tuple[ContentType, models.QuerySet[Any]]]:
    """(content type, ids as text) of every review kind's targets that go with the source's samples: the samples
    themselves, and the rows of each kind's model that point at one of them (pairs, negatives, rated turns)."""
    seen: set[type[models.Model]] = set()
    for kind in kinds_registered():
        model = kind.model
        if model in seen:
            continue
        seen.add(model)
        if model is Sample:
            where = Q(source=source)
        else:
            links = [f.name for f in model._meta.get_fields() if isinstance(f, models.ForeignKey) and f.related_model is Sample]
            if not links:
                continue
            where = reduce(or_, (Q(**{f"{name}__source": source}) for name in links))
        ids = model._default_manager.filter(where).annotate(as_text=Cast("pk", CharField())).values("as_text")  # type: ignore[attr-defined]
        yield ContentType.objects.get_for_model(model), ids


def _targets_q(pairs: list[tuple[ContentType, models.QuerySet[Any]]]) -> Q:
    return reduce(or_, (Q(target_type=ct, target_id__in=ids) for ct, ids in pairs), Q(pk__in=[]))


def _objects_q(objects: list[models.Model]) -> Q:
    """Rows with a generic target (jobs, decisions) pointing at one of these objects."""
    by_type: dict[ContentType, list[str]] = {}
    for obj in objects:
        by_type.setdefault(ContentType.objects.get_for_model(obj), []).append(str(obj.pk))
    return reduce(or_, (Q(target_type=ct, target_id__in=ids) for ct, ids in by_type.items()), Q(pk__in=[]))


def _subset_losses(source: Source) -> list[SubsetLoss]:
    mine = dict(Sample.objects.filter(source=source).order_by().values_list("subset_id").annotate(n=Count("id")))
    others = dict(
        Sample.objects.filter(subset_id__in=list(mine)).exclude(source=source).order_by()
        .values_list("subset_id").annotate(n=Count("id"))
    )
    subsets = Subset.objects.filter(pk__in=list(mine)).order_by("name")
    return [SubsetLoss(subset=s, samples=mine[s.pk], other_samples=others.get(s.pk, 0)) for s in subsets]


def source_delete_plan(*, source: Source) -> SourceDeletePlan:
    """What deleting the source would remove (and keep), counted, with the jobs that stop it now."""
    losses = _subset_losses(source)
    affected = [loss.subset for loss in losses]
    going = [loss.subset for loss in losses if loss.goes]
    targets = list(_targets_of_samples(source))
    items = ReviewItem.objects.filter(_targets_q(targets) | Q(subset__in=going))
    mappings = list(Mapping.objects.filter(source=source))
    action_mappings = list(ActionMapping.objects.filter(source=source))
    exports = list(Export.objects.filter(subsets__in=affected).distinct().order_by("pk"))
    decided_about: list[models.Model] = [source, *mappings, *action_mappings, *going]
    decisions = Decision.objects.filter(_targets_q(targets) | _objects_q(decided_about))
    # A job on any of these reads or writes what would go: the source, its versions, the subsets, their scans
    # and queues, the exports, and benchmarks being registered from the source.
    watched: list[models.Model] = [
        source, *mappings, *action_mappings, *affected, *exports,
        *DuplicateScan.objects.filter(subsets__in=affected).distinct(),
        *ReviewQueue.objects.filter(subset__in=affected),
        *Benchmark.objects.filter(source=source),
    ]
    running = list(Job.objects.filter(_objects_q(watched), state__in=UNFINISHED).order_by("created_at", "pk"))
    pairs = DuplicatePair.objects.filter(Q(a_sample__source=source) | Q(b_sample__source=source))
    return SourceDeletePlan(
        source=source,
        rows=SourceRow.objects.filter(source=source).count(),
        mappings=len(mappings),
        action_mappings=len(action_mappings),
        samples=sum(loss.samples for loss in losses),
        subsets=losses,
        review_queues=ReviewQueue.objects.filter(subset__in=going).count(),
        review_items=items.count(),
        decisions_kept=decisions.count(),
        ratings=Rating.objects.filter(sample__source=source).count(),
        hard_negatives=HardNegative.objects.filter(sample__source=source).count(),
        duplicate_pairs=pairs.filter(kind=DuplicatePair.Kind.DUPLICATE).count(),
        leak_pairs=pairs.filter(kind=DuplicatePair.Kind.LEAK).count(),
        exports=exports,
        images_kept=source_image_count(source=source),
        running_jobs=running,
    )


def source_delete(*, source: Source, by: User | None, confirm: bool = False) -> SourceDeletePlan:
    """Delete the source and what goes with it (source_delete_plan), in one transaction; returns the plan carried out.

    SourceBusy while a job on it is queued or running; SourceDeleteNotConfirmed (with the plan) when approved
    subsets or ready exports go with it and confirm is not set. The deletion is a Decision (verdict "delete")
    on the source: before = its fields and the plan carried out (`deleted_with_it`), after = nothing.
    """
    with transaction.atomic():
        locked = Source.objects.select_for_update().filter(pk=source.pk).first()
        if locked is None:
            raise ApplicationError(f"Source {source.name} was deleted already.", code="not_found", status=404)
        # The subsets that lose samples, locked (in id order, as the sample swap does) before the plan reads their
        # state: none is approved or changes count between the plan and the delete.
        list(Subset.objects.select_for_update().filter(pk__in=Sample.objects.filter(source=locked).values("subset_id"))
             .order_by("pk").values_list("pk", flat=True))
        plan = source_delete_plan(source=locked)
        if plan.running_jobs:
            jobs = ", ".join(f"{job_kind_label(j.kind)} #{j.pk} ({j.get_state_display().lower()})" for j in plan.running_jobs)
            raise SourceBusy(f"{locked.name} cannot be deleted while a job on it is unfinished: {jobs}. "
                             "Wait for it to finish, or cancel it.", extra=plan.as_dict())
        if plan.needs_confirmation and not confirm:
            raise SourceDeleteNotConfirmed(
                f"Deleting {locked.name} also deletes {'; '.join(plan.confirm_because)}. Confirm to go ahead.",
                extra=plan.as_dict(),
            )
        record = plan.as_dict()
        folders = [export_root(export) for export in plan.exports]
        Export.objects.filter(pk__in=[e.pk for e in plan.exports]).delete()
        transaction.on_commit(lambda: _remove_folders(folders))  # files go only once their rows are gone for good
        ReviewItem.objects.filter(_targets_q(list(_targets_of_samples(locked)))).delete()
        for loss in plan.subsets_shrinking:
            if loss.subset.status == Subset.Status.APPROVED:
                subset_reopen(subset=loss.subset, by=by, reason=f"source {locked.name} deleted")
        samples = Sample.objects.filter(source=locked)
        while batch := list(samples.values_list("pk", flat=True)[:SAMPLE_DELETE_BATCH]):
            Sample.objects.filter(pk__in=batch).delete()
        Subset.objects.filter(pk__in=[loss.subset.pk for loss in plan.subsets_going]).delete()
        subset_recount(subset_ids=[loss.subset.pk for loss in plan.subsets_shrinking])
        before = {f.name: f.value_from_object(locked) for f in Source._meta.concrete_fields if f.name != "columns"}
        # Before: the source as it was and what went with it; after: nothing (the trail shows it all as removed).
        decision_record(by=by, target=locked, verdict="delete", before={**_json_safe(before), "deleted_with_it": record},
                        note=f"Deleted {locked.name}: {plan.rows:,} rows, {plan.samples:,} samples, "
                             f"{len(plan.subsets_going)} subsets, {len(plan.exports)} exports.")
        locked.delete()
    return plan


def _json_safe(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if hasattr(v, "isoformat") else v for k, v in values.items()}


def _remove_folders(folders: list[Path]) -> None:
    for folder in folders:
        shutil.rmtree(folder, ignore_errors=True)
