"""Bulk decisions: a curator decides every item a filter selects, not only the visible page.

The curator first sees how many items the filter selects and confirms that number; the decision then
runs as a Job in batches, writing one audit row per item. Only round-1 items are bulk-decided: the
overlap round exists to measure reviewers, so the waiting second reviews of those targets are withdrawn.
"""
import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from django.contrib.auth.models import User
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone

from curation.models import Decision, Job, ReviewItem, ReviewQueue, Subset
from curation.review.kinds import UnknownKind, kind_get
from curation.services import job_kinds
from curation.services.decisions import decision_record
from curation.services.jobs import job_create, job_enqueue, job_progress
from curation.services.review import ReviewError

BULK_BATCH_SIZE = 1_000
UNDECIDED_STATES = (ReviewItem.State.QUEUED, ReviewItem.State.CLAIMED)
# A plain JSON key: no "__", which the ORM would read as a lookup (attributes__x__contains).
ATTRIBUTE_KEY = re.compile(r"^(?=.{1,64}$)[a-z][a-z0-9]*(?:_[a-z0-9]+)*$")


class InvalidBulkDecision(ReviewError):
    code = "invalid_bulk_decision"
    status = 400


class CountChanged(ReviewError):
    """The filter now selects a different number of items than the curator confirmed."""

    code = "count_changed"

    def __init__(self, count: int, confirmed: int):
        self.count = count
        super().__init__(f"the filter now selects {count:,} items, not the {confirmed:,} you confirmed; confirm again")


@dataclass(frozen=True)
class ItemFilter:
    """Which round-1 items a bulk decision touches. Empty fields do not filter."""

    kind: str
    queue_id: int | None = None
    subset_id: int | None = None
    states: tuple[str, ...] = UNDECIDED_STATES
    verdict: str = ""
    score_min: float | None = None
    score_max: float | None = None
    attribute: str = ""
    attribute_value: str = ""
    created_from: date | None = None
    created_to: date | None = None
    target_ids: tuple[str, ...] = field(default=())

    def __post_init__(self) -> None:
        try:
            kind_get(self.kind)
        except UnknownKind as exc:
            raise InvalidBulkDecision(str(exc)) from exc
        bad_states = set(self.states) - set(ReviewItem.State.values)
        if not self.states or bad_states:
            raise InvalidBulkDecision(f"choose item states among {', '.join(ReviewItem.State.values)}")
        if self.attribute and not ATTRIBUTE_KEY.match(self.attribute):
            raise InvalidBulkDecision(f"attribute name {self.attribute!r} is not a plain name (a-z, 0-9, _)")
        if self.score_min is not None and self.score_max is not None and self.score_min > self.score_max:
            raise InvalidBulkDecision("the lowest score is above the highest")

    def queryset(self) -> QuerySet:
        items = ReviewItem.objects.filter(kind=self.kind, round=1, state__in=self.states)
        if self.queue_id is not None:
            items = items.filter(queue_id=self.queue_id)
        if self.subset_id is not None:
            items = items.filter(subset_id=self.subset_id)
        if self.verdict:
            items = items.filter(verdict=self.verdict)
        if self.score_min is not None:
            items = items.filter(score__gte=self.score_min)
        if self.score_max is not None:
            items = items.filter(score__lte=self.score_max)
        if self.attribute:
            items = items.filter(self._attribute_q())
        if self.created_from is not None:
            items = items.filter(created_at__gte=_start_of(self.created_from))
        if self.created_to is not None:
            items = items.filter(created_at__lt=_start_of(self.created_to) + timedelta(days=1))
        if self.target_ids:
            items = items.filter(target_id__in=self.target_ids)
        return items

    def _attribute_q(self) -> Q:
        lookup = f"attributes__{self.attribute}"
        if self.attribute_value == "":
            return Q(**{f"{lookup}__isnull": False})
        # Attribute values are stored with their JSON types; a number typed in the form matches either.
        match = Q(**{lookup: self.attribute_value})
        for cast in (int, float):
            try:
                match |= Q(**{lookup: cast(self.attribute_value)})
            except ValueError:
                continue
        return match

    def to_params(self) -> dict[str, Any]:
        params = asdict(self)
        for key in ("created_from", "created_to"):
            params[key] = params[key].isoformat() if params[key] else None
        params["states"] = list(self.states)
        params["target_ids"] = list(self.target_ids)
        return params

    @classmethod
    def from_params(cls, params: dict[str, Any]) -> "ItemFilter":
        values = dict(params)
        for key in ("created_from", "created_to"):
            values[key] = date.fromisoformat(values[key]) if values.get(key) else None
        values["states"] = tuple(values.get("states") or UNDECIDED_STATES)
        values["target_ids"] = tuple(values.get("target_ids") or ())
        return cls(**values)


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def review_bulk_count(*, item_filter: ItemFilter) -> int:
    return item_filter.queryset().count()


def _check_verdict(kind: str, verdict: str, reason: str) -> None:
    found = kind_get(kind).verdict(verdict)
    if found is None or not found.bulk:
        allowed = ", ".join(v.value for v in kind_get(kind).bulk_verdicts())
        raise InvalidBulkDecision(f"'{verdict}' is not a verdict a bulk decision can apply here (choose: {allowed})")
    if found.needs_reason and reason not in {r.value for r in found.reasons}:
        raise InvalidBulkDecision(f"'{found.label}' needs one of the reasons: {', '.join(r.label for r in found.reasons)}")
    if not found.needs_reason and reason:
        raise InvalidBulkDecision(f"'{found.label}' takes no reason")


def review_bulk_start(
    *,
    item_filter: ItemFilter,
    verdict: str,
    reason: str = "",
    note: str = "",
    confirmed_count: int,
    by: User | None,
) -> Job:
    """Check the verdict and the confirmed count, then decide the filter's items in a background Job."""
    if by is None or not by.has_perm("curation.bulk_decide_item"):
        raise InvalidBulkDecision("only curators and admins can decide items in bulk")
    _check_verdict(item_filter.kind, verdict, reason)
    count = review_bulk_count(item_filter=item_filter)
    if count != confirmed_count:
        raise CountChanged(count, confirmed_count)
    if count == 0:
        raise InvalidBulkDecision("the filter selects no items")
    target: ReviewQueue | Subset | None = None
    if item_filter.queue_id is not None:
        target = ReviewQueue.objects.filter(pk=item_filter.queue_id).first()
    elif item_filter.subset_id is not None:
        target = Subset.objects.filter(pk=item_filter.subset_id).first()
    job = job_create(
        kind=job_kinds.BULK_DECIDE.key,
        target=target,
        params={"filter": item_filter.to_params(), "verdict": verdict, "reason": reason, "note": note, "confirmed": count},
        created_by=by,
        total=count,
    )
    return job_enqueue(job=job)


def review_bulk_run(*, job: Job) -> dict[str, int]:
    """Decide, batch by batch, every item the job's filter selects; safe to run again after a crash
    (items this job already decided are skipped, and its figures carry on from the last committed batch)."""
    item_filter = ItemFilter.from_params(job.params["filter"])
    verdict, reason, note = job.params["verdict"], job.params.get("reason", ""), job.params.get("note", "")
    _check_verdict(item_filter.kind, verdict, reason)
    actor = job.created_by
    done = ReviewItem.objects.filter(bulk_job=job).count()
    # Withdrawn second reviews are deleted, so a resumed run cannot count them from rows: each batch commits the
    # running tally on the job with its decisions, and a run after a crash starts from the committed figure.
    committed = Job.objects.filter(pk=job.pk).values_list("result", flat=True).first() or {}
    withdrawn = int(committed.get("second_reviews_withdrawn", 0)) if done else 0
    last_pk = 0
    while True:
        job.refresh_from_db(fields=["state"])
        if job.state == Job.State.CANCELLED:
            break
        with transaction.atomic():
            batch = list(
                item_filter.queryset()
                .exclude(bulk_job=job)
                .filter(pk__gt=last_pk)
                .order_by("pk")
                .select_for_update(of=("self",))[:BULK_BATCH_SIZE]
            )
            if not batch:
                break
            withdrawn += _decide_batch(job, batch, verdict=verdict, reason=reason, note=note, actor=actor)
            Job.objects.filter(pk=job.pk).update(
                result={"decided": done + len(batch), "second_reviews_withdrawn": withdrawn}
            )
        last_pk = batch[-1].pk
        done += len(batch)
        job_progress(job=job, done=done, total=max(done, job.total or 0))
    job.result = {"decided": done, "second_reviews_withdrawn": withdrawn}
    return job.result


def _decide_batch(
    job: Job, batch: list[ReviewItem], *, verdict: str, reason: str, note: str, actor: User | None
) -> int:
    kind = kind_get(batch[0].kind)
    target_ids = [item.target_id for item in batch]
    if kind.bulk_effect is not None:
        changes = kind.bulk_effect(target_ids=target_ids, verdict=verdict, reason=reason, actor=actor)
    else:
        changes = {}
        targets = kind.model._default_manager.select_for_update().in_bulk(target_ids)
        data = {"verdict": verdict, "reason": reason, "note": note}
        for target_id in target_ids:
            target = targets.get(kind.model._meta.pk.to_python(target_id))
            if target is not None:
                result = kind.apply(target=target, verdict=verdict, data=data, actor=actor)
                changes[target_id] = (result.before, result.after)
    rows = []
    for item in batch:
        before, after = changes.get(item.target_id, (None, None))
        row = decision_record(
            by=actor,
            target=(ContentType.objects.get_for_id(item.target_type_id), item.target_id),
            save=False,
            verdict=verdict,
            reason=reason,
            note=note,
            before=before,
            after=after,
            item=item,
            job=job,
        )
        rows.append(row)
    Decision.objects.bulk_create(rows)
    now = timezone.now()
    ReviewItem.objects.filter(pk__in=[item.pk for item in batch]).update(
        state=ReviewItem.State.DECIDED,
        verdict=verdict,
        decided_by=actor,
        decided_at=now,
        lease_expires_at=None,
        bulk_job=job,
    )
    by_queue: dict[tuple[int, int], list[str]] = defaultdict(list)
    for item in batch:
        by_queue[(item.queue_id, item.target_type_id)].append(item.target_id)
    withdrawn = 0
    for (queue_id, target_type_id), ids in by_queue.items():
        deleted, _ = ReviewItem.objects.filter(
            queue_id=queue_id,
            target_type_id=target_type_id,
            target_id__in=ids,
            round=2,
            state__in=[ReviewItem.State.WAITING, ReviewItem.State.QUEUED],
        ).delete()
        withdrawn += deleted
    return withdrawn
