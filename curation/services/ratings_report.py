"""Reading ratings: a subset's judges, per-axis histograms and threshold shares, FineVision's published
figures beside them, judge-versus-human agreement (weighted Cohen's kappa and the confusion table),
and the sample browser's filter on minimum ratings."""
import math
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, Max, OuterRef, QuerySet

from curation.models import Job, RatedTurn, Rating, ReviewQueue, Sample, SampleRating, Subset
from curation.models.ratings import HUMAN_ENGINE, RATING_AXES, RatingAxis
from curation.review.rating import RATING_KIND_KEY
from curation.selectors import job_latest_for
from curation.services import job_kinds
from curation.services.ratings import JudgeRef

LEVELS = (1, 2, 3, 4, 5)
# Shares of turns FineVision (arXiv 2510.17269) reports at a level, in percent; only the published ones.
FINEVISION_PUBLISHED: dict[str, dict[int, float]] = {"formatting": {4: 77.5}, "relevance": {5: 65.4}}


@dataclass
class AxisDistribution:
    axis: str
    label: str
    turns: int  # turns the judge rated on this axis (score set)
    empty: int  # turns the judge left empty (no evidence)
    histogram: dict[int, int]
    samples_below: dict[int, int]  # samples whose minimum is below each threshold 2..5
    samples_rated: int
    finevision: dict[int, float]

    @property
    def bars(self) -> list[dict[str, Any]]:
        peak = max(self.histogram.values(), default=0) or 1
        return [
            {
                "level": level,
                "count": self.histogram.get(level, 0),
                "percent": 100 * self.histogram.get(level, 0) / self.turns if self.turns else 0.0,
                "width": round(100 * self.histogram.get(level, 0) / peak),
                "finevision": self.finevision.get(level),
            }
            for level in LEVELS
        ]

    @property
    def thresholds(self) -> list[dict[str, Any]]:
        return [
            {
                "threshold": t,
                "count": self.samples_below.get(t, 0),
                "percent": 100 * self.samples_below.get(t, 0) / self.samples_rated if self.samples_rated else 0.0,
            }
            for t in (2, 3, 4, 5)
        ]


def subset_judges(*, subset: Subset) -> list[dict[str, Any]]:
    """The judges that rated the subset's turns, newest first, with how many ratings each gave."""
    rows = (
        Rating.objects.filter(sample__subset=subset, rater__isnull=True)
        .values("engine", "engine_version")
        .annotate(n=Count("id"))
        .order_by()
    )
    latest = {
        (r["engine"], r["engine_version"]): r["last"]
        for r in Rating.objects.filter(sample__subset=subset, rater__isnull=True)
        .values("engine", "engine_version")
        .annotate(last=Max("created_at"))
        .order_by()
    }
    judges = [
        {"ref": JudgeRef(r["engine"], r["engine_version"]), "ratings": r["n"], "last": latest.get((r["engine"], r["engine_version"]))}
        for r in rows
    ]
    return sorted(judges, key=lambda j: j["last"], reverse=True)


def subset_current_judge(*, subset: Subset) -> JudgeRef | None:
    """The judge whose minima most of the subset's samples carry (the cache's engine)."""
    row = (
        SampleRating.objects.filter(sample__subset=subset)
        .values("engine", "engine_version")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()
    )
    return JudgeRef(row["engine"], row["engine_version"]) if row else None


def subset_distributions(*, subset: Subset, judge: JudgeRef) -> list[AxisDistribution]:
    ratings = Rating.objects.filter(sample__subset=subset, engine=judge.engine, engine_version=judge.version, rater__isnull=True)
    histograms: dict[str, dict[int, int]] = defaultdict(dict)
    empty: dict[str, int] = defaultdict(int)
    for axis, score, n in ratings.values_list("axis", "score").annotate(n=Count("id")).order_by():
        if score is None:
            empty[axis] += n
        else:
            histograms[axis][score] = n
    minima = SampleRating.objects.filter(sample__subset=subset, engine=judge.engine, engine_version=judge.version)
    by_min: dict[str, dict[int, int]] = defaultdict(dict)
    for axis, low, n in minima.exclude(minimum=None).values_list("axis", "minimum").annotate(n=Count("id")).order_by():
        by_min[axis][low] = n
    out = []
    for axis in RATING_AXES:
        hist = histograms.get(axis, {})
        mins = by_min.get(axis, {})
        out.append(
            AxisDistribution(
                axis=axis,
                label=RatingAxis(axis).label,
                turns=sum(hist.values()),
                empty=empty.get(axis, 0),
                histogram=hist,
                samples_below={t: sum(n for level, n in mins.items() if level < t) for t in (2, 3, 4, 5)},
                samples_rated=sum(mins.values()),
                finevision=FINEVISION_PUBLISHED.get(axis, {}),
            )
        )
    return out


# --- agreement -------------------------------------------------------------------------------------


@dataclass
class AxisAgreement:
    axis: str
    label: str
    pairs: int
    exact: float | None
    kappa: float | None
    confusion: list[list[int]] = field(default_factory=list)  # rows: judge 1..5, columns: human 1..5

    @property
    def rows(self) -> list[dict[str, Any]]:
        return [{"level": level, "cells": self.confusion[i]} for i, level in enumerate(LEVELS)]


def weighted_kappa(pairs: list[tuple[int, int]], levels: tuple[int, ...] = LEVELS) -> float | None:
    """Cohen's kappa with quadratic weights: 1 - sum(w*observed) / sum(w*expected); None when undefined."""
    n = len(pairs)
    if n == 0:
        return None
    k = len(levels)
    index = {level: i for i, level in enumerate(levels)}
    observed = [[0] * k for _ in range(k)]
    for a, b in pairs:
        observed[index[a]][index[b]] += 1
    rows = [sum(r) for r in observed]
    cols = [sum(observed[i][j] for i in range(k)) for j in range(k)]
    weight = [[((i - j) ** 2) / ((k - 1) ** 2) for j in range(k)] for i in range(k)]
    disagreement = sum(weight[i][j] * observed[i][j] for i in range(k) for j in range(k))
    chance = sum(weight[i][j] * rows[i] * cols[j] / n for i in range(k) for j in range(k))
    if math.isclose(chance, 0.0):
        return None
    return 1 - disagreement / chance


def agreement_pairs(*, subset: Subset, judge: JudgeRef) -> dict[str, list[tuple[int, int]]]:
    """(judge score, human score) per axis over the turns both rated; one pair per human rating."""
    judged: dict[tuple[int, int, str], int] = {
        (s, t, a): score
        for s, t, a, score in Rating.objects.filter(
            sample__subset=subset, engine=judge.engine, engine_version=judge.version, rater__isnull=True, score__isnull=False
        )
        .filter(Exists(Rating.objects.filter(sample=OuterRef("sample"), turn=OuterRef("turn"), rater__isnull=False)))
        .values_list("sample_id", "turn", "axis", "score")
        if score is not None
    }
    pairs: dict[str, list[tuple[int, int]]] = {axis: [] for axis in RATING_AXES}
    human = Rating.objects.filter(sample__subset=subset, rater__isnull=False, engine=HUMAN_ENGINE, score__isnull=False)
    for s, t, a, score in human.values_list("sample_id", "turn", "axis", "score").order_by("sample_id", "turn", "axis", "rater_id"):
        if score is not None and (s, t, a) in judged:
            pairs[a].append((judged[(s, t, a)], score))
    return pairs


def subset_agreement(*, subset: Subset, judge: JudgeRef) -> list[AxisAgreement]:
    out = []
    for axis, pairs in agreement_pairs(subset=subset, judge=judge).items():
        confusion = [[0] * len(LEVELS) for _ in LEVELS]
        for a, b in pairs:
            confusion[a - 1][b - 1] += 1
        out.append(
            AxisAgreement(
                axis=axis,
                label=RatingAxis(axis).label,
                pairs=len(pairs),
                exact=sum(1 for a, b in pairs if a == b) / len(pairs) if pairs else None,
                kappa=weighted_kappa(pairs),
                confusion=confusion,
            )
        )
    return out


def human_rated_turns(*, subset: Subset) -> int:
    return Rating.objects.filter(sample__subset=subset, rater__isnull=False).values("sample_id", "turn").distinct().count()


# --- the sample browser -------------------------------------------------------------------------------


def samples_with_minimum(*, samples: QuerySet[Sample], minima: dict[str, int]) -> QuerySet[Sample]:
    """Samples whose current minimum on each axis named is at least its threshold (unrated ones are left out)."""
    for axis, threshold in minima.items():
        if axis not in RATING_AXES or threshold is None or threshold <= 1:
            continue
        samples = samples.filter(
            Exists(SampleRating.objects.filter(sample=OuterRef("pk"), axis=axis, minimum__gte=threshold))
        )
    return samples


def samples_ratings_table(*, samples: list[Sample]) -> dict[int, dict[str, Any]]:
    """For each sample: its minima and per turn the current judge's four ratings and reasons, and people's."""
    ids = [s.pk for s in samples]
    minima: dict[int, dict[str, SampleRating]] = defaultdict(dict)
    for row in SampleRating.objects.filter(sample_id__in=ids):
        minima[row.sample_id][row.axis] = row
    by_turn: dict[tuple[int, int], dict[str, list[Rating]]] = defaultdict(lambda: defaultdict(list))
    for rating in Rating.objects.filter(sample_id__in=ids).select_related("rater").order_by("created_at", "pk"):
        by_turn[(rating.sample_id, rating.turn)][rating.axis].append(rating)
    out: dict[int, dict[str, Any]] = {}
    for sample in samples:
        current = minima.get(sample.pk, {})
        judge = next(iter(current.values()), None)
        turns = []
        for index, turn in enumerate(sample.turns or []):
            axes = []
            for axis in RATING_AXES:
                rows = by_turn.get((sample.pk, index), {}).get(axis, [])
                mine = [r for r in rows if r.rater_id is None and judge and r.engine == judge.engine and r.engine_version == judge.engine_version]
                people = [r for r in rows if r.rater_id is not None]
                axes.append({"axis": axis, "label": RatingAxis(axis).label, "judge": mine[-1] if mine else None, "people": people})
            turns.append({"index": index, "turn": turn, "axes": axes})
        out[sample.pk] = {
            "minima": [{"axis": a, "label": RatingAxis(a).label, "row": current.get(a)} for a in RATING_AXES],
            "judge": JudgeRef(judge.engine, judge.engine_version) if judge else None,
            "turns": turns,
        }
    return out


# --- the subset's ratings panel -----------------------------------------------------------------------


@dataclass
class RatingsSummary:
    subset: Subset
    judges: list[dict[str, Any]]
    judge: JudgeRef | None  # the judge shown
    current: JudgeRef | None  # the judge whose minima the samples carry
    distributions: list[AxisDistribution]
    agreement: list[AxisAgreement]
    human_turns: int
    rated_turns: int
    job: Job | None
    queue: ReviewQueue | None
    fill_job: Job | None

    @property
    def running(self) -> bool:
        return any(j is not None and not j.is_finished for j in (self.job, self.fill_job))


def subset_ratings_summary(*, subset: Subset, judge: JudgeRef | None = None) -> RatingsSummary:
    """Everything the ratings panel shows, for `judge` (default: the subset's current judge)."""
    judges = subset_judges(subset=subset)
    current = subset_current_judge(subset=subset)
    known = {j["ref"] for j in judges}
    shown = judge if judge in known else current or (judges[0]["ref"] if judges else None)
    queue = ReviewQueue.objects.filter(kind=RATING_KIND_KEY, subset=subset).first()
    return RatingsSummary(
        subset=subset,
        judges=judges,
        judge=shown,
        current=current,
        distributions=subset_distributions(subset=subset, judge=shown) if shown else [],
        agreement=subset_agreement(subset=subset, judge=shown) if shown else [],
        human_turns=human_rated_turns(subset=subset),
        rated_turns=RatedTurn.objects.filter(sample__subset=subset).count(),
        job=job_latest_for(target=subset, kind=job_kinds.RATE_QUALITY.key),
        queue=queue,
        fill_job=job_latest_for(target=queue, kind=job_kinds.QUEUE_FILL.key) if queue else None,
    )
