"""Reads of the review machinery shared by pages, the API and the admin: progress, throughput,
agreement, a subset's acceptance rate, the audit trail."""
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.contrib.auth.models import User
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.db.models.functions import TruncHour
from django.utils import timezone

from curation.models import Decision, Job, ReviewItem, ReviewQueue, Sample, Subset
from curation.review.kinds import UnknownKind, kind_get
from curation.review.statistics import Agreement, Proportion, cohen_kappa, wilson_interval
from curation.selectors import job_latest_for

STATES = ReviewItem.State


@dataclass
class QueueProgress:
    queue: ReviewQueue
    counts: dict[str, int] = field(default_factory=dict)
    # Queued items the viewing user may claim (a second review is never given to the first reviewer).
    claimable: int | None = None

    def _n(self, state: str) -> int:
        return self.counts.get(state, 0)

    @property
    def waiting(self) -> int:
        return self._n(STATES.WAITING)

    @property
    def queued(self) -> int:
        return self._n(STATES.QUEUED)

    @property
    def claimed(self) -> int:
        return self._n(STATES.CLAIMED)

    @property
    def decided(self) -> int:
        return self._n(STATES.DECIDED)

    @property
    def total(self) -> int:
        return sum(self.counts.values())

    @property
    def open(self) -> int:
        return self.queued + self.claimed

    @property
    def percent(self) -> int:
        return int(100 * self.decided / self.total) if self.total else 0


def queue_progress_many(queues: list[ReviewQueue], *, user: User | None = None) -> list[QueueProgress]:
    counts: dict[int, dict[str, int]] = defaultdict(dict)
    rows = ReviewItem.objects.filter(queue__in=queues).values("queue_id", "state").annotate(n=Count("id")).order_by()
    for row in rows:
        counts[row["queue_id"]][row["state"]] = row["n"]
    claimable: dict[int, int] = {}
    if user is not None:
        open_to_user = ReviewItem.objects.filter(queue__in=queues).filter(
            (Q(state=STATES.QUEUED) & ~Q(excluded_reviewer=user)) | Q(state=STATES.CLAIMED, assignee=user)
        )
        claimable = dict(open_to_user.values_list("queue_id").annotate(n=Count("id")).order_by())
    return [
        QueueProgress(queue=q, counts=counts.get(q.pk, {}), claimable=claimable.get(q.pk, 0) if user else None)
        for q in queues
    ]


def queue_progress(queue: ReviewQueue) -> QueueProgress:
    return queue_progress_many([queue])[0]


def queues_for_user(*, user: User) -> list[ReviewQueue]:
    """Queues the user may work: active ones open to every reviewer or assigned to them; all for those
    who configure queues."""
    queues = ReviewQueue.objects.select_related("subset").order_by("kind", "name")
    if user.has_perm("curation.change_reviewqueue"):
        return list(queues)
    return list(queues.filter(Q(assignees=None) | Q(assignees=user), active=True).distinct())


def item_position(*, item: ReviewItem) -> tuple[int, int]:
    """(n, of): where the item stands in its queue's order (priority, then arrival) among the items of its round."""
    same_round = ReviewItem.objects.filter(queue_id=item.queue_id, round=item.round)
    ahead = same_round.filter(Q(priority__gt=item.priority) | Q(priority=item.priority, pk__lte=item.pk))
    return ahead.count(), same_round.count()


def review_previous(*, queue: ReviewQueue, user: User, before: ReviewItem | None = None) -> ReviewItem | None:
    """The item this user decided in this queue just before `before` (or their last one)."""
    items = ReviewItem.objects.filter(queue=queue, decided_by=user, state=STATES.DECIDED, bulk_job__isnull=True)
    if before is not None and before.decided_at is not None:
        items = items.filter(Q(decided_at__lt=before.decided_at) | Q(decided_at=before.decided_at, pk__lt=before.pk))
    return items.order_by("-decided_at", "-id").first()


def item_current_reason(*, item: ReviewItem) -> str:
    """The reason given with the item's standing verdict (its latest decision of that verdict)."""
    reason = Decision.objects.filter(item=item, verdict=item.verdict).order_by("-id").values_list("reason", flat=True).first()
    return reason or ""


def decided_today(*, user: User, queue: ReviewQueue | None = None) -> int:
    start = timezone.now() - timedelta(hours=24)
    items = ReviewItem.objects.filter(decided_by=user, decided_at__gte=start, bulk_job__isnull=True)
    if queue is not None:
        items = items.filter(queue=queue)
    return items.count()


# --- a subset's spot check ---------------------------------------------------------------------------


@dataclass
class SubsetReviewSummary:
    subset: Subset
    queue: ReviewQueue | None
    progress: QueueProgress | None
    acceptance: Proportion
    verdicts: dict[str, int]
    reject_reasons: list[tuple[str, int]]
    fill_job: Job | None

    @property
    def fill_percent(self) -> float | None:
        return None if self.queue is None or self.queue.fill_fraction is None else 100 * self.queue.fill_fraction

    @property
    def overlap_percent(self) -> float:
        return 0.0 if self.queue is None else 100 * self.queue.overlap_rate

    @property
    def estimated_accepted(self) -> tuple[int, int] | None:
        """The subset's acceptable samples if the reviewed ones are representative (a random fill)."""
        if self.acceptance.low is None or self.acceptance.high is None:
            return None
        n = self.subset.sample_count
        return int(self.acceptance.low * n), int(round(self.acceptance.high * n))


def subset_review_summary(*, subset: Subset) -> SubsetReviewSummary:
    """Acceptance rate of the subset's reviewed samples (round 1) with its 95% Wilson interval."""
    queue = ReviewQueue.objects.filter(kind=ReviewQueue.Kind.SAMPLE, subset=subset).first()
    if queue is None:
        return SubsetReviewSummary(subset, None, None, wilson_interval(0, 0), {}, [], None)
    kind = kind_get(queue.kind)
    verdicts = dict(
        ReviewItem.objects.filter(queue=queue, round=1, state=STATES.DECIDED)
        .values_list("verdict")
        .annotate(n=Count("id"))
        .order_by()
    )
    accepted = sum(n for verdict, n in verdicts.items() if kind.outcome(verdict) == "accept")
    reasons = list(
        Sample.objects.filter(subset=subset, status=Sample.Status.REJECTED)
        .values_list("reject_reason")
        .annotate(n=Count("id"))
        .order_by("-n")
    )
    return SubsetReviewSummary(
        subset=subset,
        queue=queue,
        progress=queue_progress(queue),
        acceptance=wilson_interval(accepted, sum(verdicts.values())),
        verdicts=verdicts,
        reject_reasons=reasons,
        fill_job=job_latest_for(target=queue, kind=Job.Kind.QUEUE_FILL),
    )


# --- throughput and agreement ------------------------------------------------------------------------


@dataclass
class AnnotatorThroughput:
    user_id: int
    username: str
    decided: int
    active_hours: int

    @property
    def per_hour(self) -> float:
        """Decisions per hour in which the annotator decided anything (time away is not counted)."""
        return self.decided / self.active_hours if self.active_hours else 0.0


@dataclass
class Throughput:
    since: datetime
    until: datetime
    annotators: list[AnnotatorThroughput]
    hourly: list[tuple[datetime, int]]


def throughput(*, since: datetime, until: datetime | None = None) -> Throughput:
    """Items decided one by one (bulk decisions are not annotator work), per annotator and per hour."""
    until = until or timezone.now()
    rows = (
        ReviewItem.objects.filter(
            decided_at__gte=since, decided_at__lt=until, bulk_job__isnull=True, decided_by__isnull=False
        )
        .annotate(hour=TruncHour("decided_at"))
        .values_list("decided_by_id", "decided_by__username", "hour")
        .annotate(n=Count("id"))
        .order_by()
    )
    per_user: dict[int, AnnotatorThroughput] = {}
    per_hour: Counter[datetime] = Counter()
    for user_id, username, hour, n in rows:
        entry = per_user.setdefault(user_id, AnnotatorThroughput(user_id, username, 0, 0))
        entry.decided += n
        entry.active_hours += 1
        per_hour[hour] += n
    start = since.replace(minute=0, second=0, microsecond=0)
    hours = []
    cursor = start
    while cursor < until:
        hours.append((cursor, per_hour.get(cursor, 0)))
        cursor += timedelta(hours=1)
    annotators = sorted(per_user.values(), key=lambda a: (-a.decided, a.username))
    return Throughput(since=since, until=until, annotators=annotators, hourly=hours)


@dataclass
class AgreementReport:
    by_queue: dict[int, Agreement]
    by_annotator: dict[str, Agreement]
    overall: Agreement


def agreement(*, queues: list[ReviewQueue] | None = None) -> AgreementReport:
    """Cohen's kappa between round 1 and round 2 on items both reviewed one by one, compared by the
    verdicts' outcomes (an edit-and-accept agrees with an accept)."""
    first = ReviewItem.objects.filter(
        queue_id=OuterRef("queue_id"),
        target_type_id=OuterRef("target_type_id"),
        target_id=OuterRef("target_id"),
        round=1,
        state=STATES.DECIDED,
        bulk_job__isnull=True,
    )
    second = ReviewItem.objects.filter(round=2, state=STATES.DECIDED, bulk_job__isnull=True)
    if queues is not None:
        second = second.filter(queue__in=queues)
    rows = (
        second.annotate(
            first_verdict=Subquery(first.values("verdict")[:1]),
            first_by=Subquery(first.values("decided_by__username")[:1]),
        )
        .exclude(first_verdict=None)
        .values_list("queue_id", "kind", "first_verdict", "first_by", "verdict", "decided_by__username")
    )
    per_queue: dict[int, list[tuple[str, str]]] = defaultdict(list)
    per_annotator: dict[str, list[tuple[str, str]]] = defaultdict(list)
    every = []
    for queue_id, kind_name, verdict1, by1, verdict2, by2 in rows:
        pair = (_outcome(kind_name, verdict1), _outcome(kind_name, verdict2))
        per_queue[queue_id].append(pair)
        every.append(pair)
        for name in {by1, by2} - {None}:
            per_annotator[name].append(pair)
    return AgreementReport(
        by_queue={q: cohen_kappa(p) for q, p in per_queue.items()},
        by_annotator={name: cohen_kappa(p) for name, p in sorted(per_annotator.items())},
        overall=cohen_kappa(every),
    )


def _outcome(kind_name: str, verdict: str) -> str:
    try:
        return kind_get(kind_name).outcome(verdict)
    except UnknownKind:
        return verdict


# --- the audit trail ---------------------------------------------------------------------------------


def decisions_filtered(
    *,
    actor: str = "",
    verdict: str = "",
    kind: str = "",
    target_type_id: int | None = None,
    target_id: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
) -> QuerySet:
    """Audit rows, newest first, narrowed by any of: actor's username, verdict, review kind, target, days."""
    rows = Decision.objects.select_related("actor", "target_type", "item").order_by("-id")
    if actor:
        rows = rows.filter(actor__username=actor)
    if verdict:
        rows = rows.filter(verdict=verdict)
    if kind:
        rows = rows.filter(item__kind=kind)
    if target_type_id is not None:
        rows = rows.filter(target_type_id=target_type_id)
    if target_id:
        rows = rows.filter(target_id=target_id)
    if date_from is not None:
        rows = rows.filter(created_at__gte=timezone.make_aware(datetime.combine(date_from, time.min)))
    if date_to is not None:
        rows = rows.filter(created_at__lt=timezone.make_aware(datetime.combine(date_to + timedelta(days=1), time.min)))
    return rows
