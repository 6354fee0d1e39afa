"""Quality ratings: one row per turn per axis per rater (a judge engine or a person), side by side.

FineVision rates every turn 1-5 on four axes and keeps the minimum per axis per sample. Here each
rating is its own row (score or empty, the engine's name and version, its short reason, the job that
wrote it, or the person who gave it), so several judges and human raters coexist. SampleRating is a
cache of the per-sample minimum per axis of the judge whose ratings are current for the sample; only
services/ratings.py writes it.
"""
from django.conf import settings
from django.db import models

from curation.models.jobs import Job
from curation.models.samples import Sample


class RatingAxis(models.TextChoices):
    FORMATTING = "formatting", "Formatting"
    RELEVANCE = "relevance", "Relevance"
    VISUAL_DEPENDENCY = "visual_dependency", "Visual dependency"
    IMAGE_CORRESPONDENCE = "image_correspondence", "Image-question correspondence"


RATING_AXES: tuple[str, ...] = tuple(RatingAxis.values)
# The engine name of ratings people give in the rating review (their rater is set).
HUMAN_ENGINE = "human"


class Rating(models.Model):
    """One axis of one turn, rated by a judge engine (rater empty) or a person (rater set)."""

    sample = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="ratings")
    turn = models.PositiveSmallIntegerField(help_text="0-based index of the turn in Sample.turns.")
    axis = models.CharField(max_length=32, choices=RatingAxis.choices)
    score = models.PositiveSmallIntegerField(null=True, blank=True, help_text="1-5; empty where the rater had no evidence.")
    engine = models.CharField(max_length=200)
    engine_version = models.CharField(max_length=100, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    job = models.ForeignKey(Job, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    rater = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="ratings")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=models.Q(score__isnull=True) | models.Q(score__gte=1, score__lte=5), name="rating_score_1_5"
            ),
            models.UniqueConstraint(
                fields=["sample", "turn", "axis", "engine", "engine_version"],
                condition=models.Q(rater__isnull=True),
                name="rating_unique_judge_turn_axis",
            ),
            models.UniqueConstraint(
                fields=["sample", "turn", "axis", "rater"],
                condition=models.Q(rater__isnull=False),
                name="rating_unique_human_turn_axis",
            ),
        ]
        indexes = [models.Index(fields=["engine", "engine_version", "sample"], name="rating_engine_sample")]

    def __str__(self) -> str:
        return f"{self.sample_id}[{self.turn}] {self.axis}={self.score} by {self.rater_id or self.engine}"


class SampleRating(models.Model):
    """Cache: the lowest score per axis of one sample under its current judge (services/ratings.py)."""

    sample = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="rating_minima")
    axis = models.CharField(max_length=32, choices=RatingAxis.choices)
    minimum = models.PositiveSmallIntegerField(null=True, blank=True)
    engine = models.CharField(max_length=200)
    engine_version = models.CharField(max_length=100, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["sample", "axis"], name="samplerating_unique_axis"),
            models.CheckConstraint(
                condition=models.Q(minimum__isnull=True) | models.Q(minimum__gte=1, minimum__lte=5), name="samplerating_min_1_5"
            ),
        ]
        indexes = [models.Index(fields=["axis", "minimum"], name="samplerating_axis_min")]

    def __str__(self) -> str:
        return f"{self.sample_id} {self.axis} min={self.minimum}"


class RatedTurn(models.Model):
    """A turn a judge has rated: the target of the rating review, where people rate the same turn."""

    sample = models.ForeignKey(Sample, on_delete=models.CASCADE, related_name="rated_turns")
    turn = models.PositiveSmallIntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["sample", "turn"], name="ratedturn_unique")]

    def __str__(self) -> str:
        return f"{self.sample_id}[{self.turn}]"
