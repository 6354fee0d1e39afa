"""The "rating" review kind: a reviewer rates one turn 1-5 on FineVision's four axes, from the keyboard
(three on a text-only sample: image-question correspondence has no image to judge).

Targets are RatedTurns (turns a judge has rated), so the queue of a subset is a seeded random sample of
judged turns and every human rating can be compared with the judge's (services/ratings_report.py).
The reviewer does not see the judge's scores. Each decision writes the reviewer's four Rating rows
(engine "human", rater = the reviewer) through services/ratings.rating_human_write.
"""
from collections.abc import Iterable
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.db.models import Prefetch, QuerySet

from curation.models import RatedTurn, SampleImage, Subset
from curation.models.ratings import RATING_AXES, RatingAxis
from curation.review.kinds import DecisionForm, EffectResult, ReviewKind, Verdict, kind_register
from curation.services.ratings import rating_human_write

RATING_KIND_KEY = "rating"
SCORE_CHOICES = [(str(level), str(level)) for level in range(1, 6)]
# What each level means on each axis, shown beside the keys (the rubric's labels, ratings_v1).
AXIS_HINTS = {
    "formatting": "1 broken · 2 poor · 3 acceptable · 4 good · 5 excellent",
    "relevance": "1 irrelevant · 2 weak · 3 partial · 4 relevant · 5 fully relevant",
    "visual_dependency": "1 none · 2 slight · 3 moderate · 4 strong · 5 complete",
    "image_correspondence": "1 mismatch · 2 weak · 3 partial · 4 good · 5 exact",
}


class RatingDecisionForm(DecisionForm):
    verdicts = (Verdict("rate", "Save the ratings", key="Enter", outcome="rated", bulk=False, style="primary"),)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        sample = getattr(self.target, "sample", None)
        # A text-only sample has no image for the question to correspond to: that axis is not asked.
        self.axes = tuple(a for a in RATING_AXES if a != "image_correspondence" or sample is None or sample.image_count)
        for axis in self.axes:
            self.fields[axis] = forms.TypedChoiceField(
                choices=SCORE_CHOICES, coerce=int, required=True, label=RatingAxis(axis).label, widget=forms.RadioSelect
            )

    @property
    def rating_axes(self) -> list[dict[str, Any]]:
        """The four axes as the work page shows them: key, label, the levels' meaning, a value already given."""
        return [
            {"key": axis, "label": RatingAxis(axis).label, "hint": AXIS_HINTS[axis], "levels": range(1, 6),
             "value": _int_or_none(self[axis].value())}
            for axis in self.axes
        ]

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        missing = [RatingAxis(axis).label for axis in self.axes if cleaned.get(axis) in (None, "")]
        if missing and not self.errors:
            self.add_error(None, f"Rate every axis 1-5 first: {', '.join(missing)}.")
        return cleaned


def _int_or_none(value: Any) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def rating_review_effect(*, target: RatedTurn, verdict: str, data: dict[str, Any], actor: User | None) -> EffectResult:
    del verdict
    if actor is None:
        raise ValueError("a human rating needs its rater")
    scores = {axis: int(data[axis]) for axis in RATING_AXES if data.get(axis) not in (None, "")}
    before = rating_human_write(sample=target.sample, turn=target.turn, scores=scores, by=actor)
    return EffectResult(before={"turn": target.turn, **before}, after={"turn": target.turn, **scores})


def rating_subset_targets(subset: Subset) -> QuerySet:
    return RatedTurn.objects.filter(sample__subset=subset)


def rating_facts(turns: Iterable[RatedTurn]) -> dict[str, tuple[float | None, dict[str, Any]]]:
    return {str(t.pk): (None, {"turn": t.turn, "sample": t.sample_id}) for t in turns}


def rating_prefetch(queryset: QuerySet) -> QuerySet:
    ordered = SampleImage.objects.select_related("image").order_by("position")
    return queryset.select_related("sample__source", "sample__subset").prefetch_related(
        Prefetch("sample__sample_images", queryset=ordered)
    )


def rating_api_payload(turn: RatedTurn) -> dict[str, Any]:
    sample = turn.sample
    chat = (sample.turns or [])[turn.turn] if turn.turn < len(sample.turns or []) else {}
    return {
        "id": turn.pk,
        "sample": sample.pk,
        "turn": turn.turn,
        "user": chat.get("user"),
        "assistant": chat.get("assistant"),
        "images": [si.image_id for si in sample.sample_images.all()],
        "axes": list(RATING_AXES),
    }


RATING_KIND = kind_register(
    ReviewKind(
        kind=RATING_KIND_KEY,
        model=RatedTurn,
        form=RatingDecisionForm,
        template="annotate/review_rating.html#target",
        effect=rating_review_effect,
        subset_targets=rating_subset_targets,
        facts=rating_facts,
        prefetch=rating_prefetch,
        api_payload=rating_api_payload,
        shortcuts=(
            ("1–5", "Rate the highlighted axis; the next axis is highlighted"),
            ("Backspace", "Go back one axis"),
            ("Enter", "Save the ratings (saved by itself after the last axis)"),
        ),
    )
)
