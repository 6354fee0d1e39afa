"""Ratings for other areas' tests: a judge's per-turn scores written as rows, with the minima cache."""
from curation.models import Rating, Sample
from curation.services.ratings import JudgeRef, rating_minima_write


def ratings_make(sample: Sample, *, engine: str = "test-judge", version: str = "1", **axes: list[int | None]) -> None:
    """ratings_make(sample, formatting=[4, 5], relevance=[3, 5]): those per-turn scores by one judge."""
    Rating.objects.bulk_create(
        [
            Rating(sample=sample, turn=turn, axis=axis, score=score, engine=engine, engine_version=version)
            for axis, scores in axes.items()
            for turn, score in enumerate(scores)
        ]
    )
    rating_minima_write(sample_ids=[sample.pk], judge=JudgeRef(engine, version))
