"""Quality ratings: start a run, rate a subset's turns with a judge in batches, keep the minima cache.

A run rates every turn of the subset on the four axes with one judge and stores one Rating row per
turn per axis with the judge's name and version; turns that judge (same name and version) already
rated are skipped, so a run is safe to run twice and a re-run only fills what an earlier one missed.
Another judge's ratings stay beside these. The per-sample minimum per axis (SampleRating) is a cache
that only rating_minima_write fills: from the ratings of the judge that rated the sample last, or of a
judge a curator picks (ratings_use_judge). Human ratings (the rating review) never change it.
"""
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass

from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import Min, QuerySet
from django.utils import timezone

from curation.engines.judges import AxisRating, Judge, TurnImage, TurnToRate
from curation.engines.judges_registry import JUDGES, UnknownJudge, judge_get
from curation.errors import ApplicationError
from curation.models import Job, RatedTurn, Rating, Sample, SampleImage, SampleRating, Subset
from curation.models.ratings import HUMAN_ENGINE, RATING_AXES
from curation.services import job_kinds
from curation.services.images import CONTENT_TYPES, image_file_path
from curation.services.jobs import RowError, job_create, job_enqueue, job_progress, job_reject_rows

# Samples read, rated and written together; also how often job progress is written.
RATE_BATCH_SIZE = 256
WRITE_BATCH_SIZE = 5000


class RatingError(ApplicationError):
    code = "rating_error"
    status = 400


@dataclass(frozen=True)
class JudgeRef:
    """Which judge's ratings: a judge engine by name and version (rater None)."""

    engine: str
    version: str

    @property
    def label(self) -> str:
        return f"{self.engine} {self.version}".strip()


def ratings_start(*, subset: Subset, judge: str, by: User | None, enqueue: bool = True) -> Job:
    """A rating job for the subset with the judge named (a JUDGES key), enqueued after commit
    (enqueue=False: the caller runs it in its own process, as `rate_quality --now` does)."""
    if judge not in JUDGES:
        raise UnknownJudge(f"no judge {judge!r}; choose one of {', '.join(JUDGES)}")
    judge_get(judge)  # refuses now, with the reason, a judge that cannot run here
    job = job_create(
        kind=job_kinds.RATE_QUALITY.key, target=subset, params={"judge": judge}, created_by=by, total=subset.sample_count or None
    )
    return job_enqueue(job=job) if enqueue else job


def _turn_text(value: object) -> str:
    return "" if value is None else str(value)


def _images_by_sample(sample_ids: list[int]) -> dict[int, tuple[TurnImage, ...]]:
    rows = SampleImage.objects.filter(sample_id__in=sample_ids).select_related("image").order_by("sample_id", "position")
    out: dict[int, list[TurnImage]] = defaultdict(list)
    for row in rows:
        path = image_file_path(image=row.image)
        out[row.sample_id].append(TurnImage(path.read_bytes(), CONTENT_TYPES.get(row.image.format.upper(), "image/jpeg")))
    return {k: tuple(v) for k, v in out.items()}


def ratings_rate_samples(*, judge: Judge, samples: list[Sample], job: Job | None = None) -> dict[str, int]:
    """Rate the turns of `samples` this judge has not rated yet; store rows, turns and the minima cache.

    Axes the judge could not rate (an endpoint that kept failing) are reported as rejected rows of the
    job and stored as nothing, so a later run rates them.
    """
    ids = [s.pk for s in samples]
    done = set(
        Rating.objects.filter(sample_id__in=ids, engine=judge.name, engine_version=judge.version, rater__isnull=True)
        .values_list("sample_id", "turn", "axis")
    )
    images = _images_by_sample(ids) if judge.needs_images else {}
    keys: list[tuple[int, int]] = []
    turns: list[TurnToRate] = []
    for sample in samples:
        for index, turn in enumerate(sample.turns or []):
            if all((sample.pk, index, axis) in done for axis in RATING_AXES):
                continue
            turn = turn if isinstance(turn, dict) else {}
            keys.append((sample.pk, index))
            turns.append(
                TurnToRate(
                    question=_turn_text(turn.get("user")),
                    answer=_turn_text(turn.get("assistant")),
                    image_count=sample.image_count,
                    images=images.get(sample.pk, ()),
                )
            )
    results = judge.rate(turns) if turns else []
    rows: list[Rating] = []
    errors: list[RowError] = []
    for (sample_id, index), result in zip(keys, results, strict=True):
        for axis in RATING_AXES:
            rating: AxisRating = result.get(axis, AxisRating(None, "the judge gave nothing for this axis"))
            if (sample_id, index, axis) in done:
                continue
            if rating.error:
                errors.append(RowError(f"{axis}: {rating.error}"[:2000], location=f"sample {sample_id} turn {index}"))
                continue
            rows.append(
                Rating(
                    sample_id=sample_id, turn=index, axis=axis, score=rating.score, reason=rating.reason[:300],
                    engine=judge.name, engine_version=judge.version, job=job,
                )
            )
    with transaction.atomic():
        # ignore_conflicts: a concurrent or redelivered run that wrote the same (turn, axis, judge) first wins.
        Rating.objects.bulk_create(rows, batch_size=WRITE_BATCH_SIZE, ignore_conflicts=True)
        RatedTurn.objects.bulk_create(
            [RatedTurn(sample_id=s, turn=t) for s, t in sorted(set(keys))], batch_size=WRITE_BATCH_SIZE, ignore_conflicts=True
        )
        rating_minima_write(sample_ids=ids, judge=JudgeRef(judge.name, judge.version))
    if job is not None and errors:
        job_reject_rows(job=job, errors=errors)
    return {"turns": len(turns), "ratings": len(rows), "failed": len(errors)}


def ratings_run(*, job: Job, judge: Judge | None = None) -> dict[str, int]:
    """The body of a rating job: every sample of the job's subset, RATE_BATCH_SIZE at a time, with progress."""
    subset = Subset.objects.get(pk=int(job.target_id))
    judge = judge or judge_get(str(job.params.get("judge", "")))
    samples = Sample.objects.filter(subset=subset).only("pk", "turns", "image_count")
    total = samples.count()
    job_progress(job=job, done=0, total=total)
    totals = {"samples": 0, "turns": 0, "ratings": 0, "failed": 0}
    last_id = 0
    while True:
        batch = list(samples.filter(pk__gt=last_id).order_by("pk")[:RATE_BATCH_SIZE])
        if not batch:
            break
        last_id = batch[-1].pk
        counts = ratings_rate_samples(judge=judge, samples=batch, job=job)
        totals["samples"] += len(batch)
        for key, value in counts.items():
            totals[key] += value
        job_progress(job=job, done=totals["samples"])
    job.result = {**totals, "engine": judge.name, "engine_version": judge.version}
    return totals


def rating_minima_write(*, sample_ids: Iterable[int], judge: JudgeRef) -> int:
    """The one writer of the SampleRating cache: each sample's lowest score per axis under `judge`.

    An axis the judge left empty on every turn is cached as empty (rated, no evidence); a sample the
    judge never rated keeps what it had. Returns how many (sample, axis) rows were written.
    """
    ids = list(sample_ids)
    rows = (
        Rating.objects.filter(sample_id__in=ids, engine=judge.engine, engine_version=judge.version, rater__isnull=True)
        .values_list("sample_id", "axis")
        .annotate(low=Min("score"))
        .order_by()
    )
    cache = [
        SampleRating(sample_id=sample_id, axis=axis, minimum=low, engine=judge.engine, engine_version=judge.version, updated_at=timezone.now())
        for sample_id, axis, low in rows
    ]
    SampleRating.objects.bulk_create(
        cache,
        batch_size=WRITE_BATCH_SIZE,
        update_conflicts=True,
        unique_fields=["sample", "axis"],
        update_fields=["minimum", "engine", "engine_version", "updated_at"],
    )
    return len(cache)


def ratings_use_judge(*, subset: Subset, judge: JudgeRef) -> int:
    """Make `judge`'s ratings the current ones of the subset's samples it rated (filters, export, browser)."""
    if not Rating.objects.filter(sample__subset=subset, engine=judge.engine, engine_version=judge.version, rater__isnull=True).exists():
        raise RatingError(f"{judge.label} has not rated any sample of {subset.name}")
    written = 0
    last_id = 0
    samples = Sample.objects.filter(subset=subset).order_by("pk")
    while True:
        ids = list(samples.filter(pk__gt=last_id).values_list("pk", flat=True)[:WRITE_BATCH_SIZE])
        if not ids:
            return written
        last_id = ids[-1]
        written += rating_minima_write(sample_ids=ids, judge=judge)


def ratings_forget(*, sample_ids: Iterable[int]) -> None:
    """Drop every rating of these samples (their turns changed: the ratings no longer describe them)."""
    ids = list(sample_ids)
    Rating.objects.filter(sample_id__in=ids).delete()
    SampleRating.objects.filter(sample_id__in=ids).delete()
    RatedTurn.objects.filter(sample_id__in=ids).delete()


def ratings_forget_where(*, samples: QuerySet[Sample]) -> None:
    """ratings_forget for every sample a queryset selects, as set-based deletes (for the bulk swap)."""
    for model in (Rating, SampleRating, RatedTurn):
        model.objects.filter(sample__in=samples.values("pk")).delete()


def rating_human_write(*, sample: Sample, turn: int, scores: dict[str, int], by: User) -> dict[str, int | None]:
    """A person's scores for one turn (axes 1-5), replacing their earlier ones; returns the scores before."""
    if not 0 <= turn < len(sample.turns or []):
        raise RatingError(f"sample {sample.pk} has no turn {turn}")
    before: dict[str, int | None] = {axis: None for axis in RATING_AXES}
    existing = Rating.objects.filter(sample=sample, turn=turn, rater=by)
    before.update({r.axis: r.score for r in existing})
    for axis, score in scores.items():
        if axis not in RATING_AXES or not (score is None or 1 <= int(score) <= 5):
            raise RatingError(f"{axis}={score!r} is not a rating 1-5 on one of the four axes")
        Rating.objects.update_or_create(
            sample=sample, turn=turn, axis=axis, rater=by,
            defaults={"score": score, "engine": HUMAN_ENGINE, "engine_version": "", "reason": ""},
        )
    return before


def ratings_of_samples(*, sample_ids: Iterable[int]) -> QuerySet[Rating]:
    return Rating.objects.filter(sample_id__in=list(sample_ids)).select_related("rater").order_by("sample_id", "turn", "axis", "engine")
