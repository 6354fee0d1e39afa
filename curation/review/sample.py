"""The "sample" review kind: accept a sample, reject it with a reason, or edit its turns and accept it.

An edit is an audited revision: the turns as mapped stay in Sample.original_turns (set once, on the
first edit) and each edited turn is its own audit row with the turn before and after.
"""
from collections.abc import Iterable
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.db.models import Prefetch, QuerySet
from django.urls import reverse
from django.utils import timezone

from curation.models import Sample, SampleImage, SampleRating, Subset
from curation.review.kinds import (
    Change,
    DecisionForm,
    EffectResult,
    Reason,
    ReviewKind,
    Verdict,
    kind_register,
)

REJECT_REASONS = (
    Reason("wrong_answer", "Wrong answer"),
    Reason("unreadable_image", "Unreadable image"),
    Reason("formatting", "Formatting"),
    Reason("harmful", "Harmful"),
    Reason("other", "Other"),
)
TURN_ROLES = ("user", "assistant")


def _text(value: Any) -> str:
    return "" if value is None else str(value)


class SampleDecisionForm(DecisionForm):
    verdicts = (
        Verdict("accept", "Accept", key="a", outcome="accept", style="primary"),
        Verdict("reject", "Reject", key="r", outcome="reject", reasons=REJECT_REASONS, style="danger"),
        Verdict("edit", "Save edits & accept", key="e", outcome="accept", bulk=False),
    )
    revision_fields = ("turns",)

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        turns = getattr(self.target, "turns", None) or []
        for index, turn in enumerate(turns):
            for role in TURN_ROLES:
                # strip=False: whitespace inside an answer is part of the training data.
                self.fields[f"turn_{index}_{role}"] = forms.CharField(
                    required=False, strip=False, initial=_text(turn.get(role)), widget=forms.Textarea
                )

    @classmethod
    def revising_verdicts(cls) -> set[str]:
        return {"edit"}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("verdict") != "edit" or self.target is None or self.errors:
            return cleaned
        old_turns = list(getattr(self.target, "turns", None) or [])
        new_turns = []
        for index, turn in enumerate(old_turns):
            new_turn = dict(turn)
            for role in TURN_ROLES:
                name = f"turn_{index}_{role}"
                # A field left out keeps its text (API clients send only what they change).
                if name in self.data:
                    # Browsers send textarea line breaks as CRLF; the corpus uses LF.
                    new_turn[role] = cleaned.get(name, "").replace("\r\n", "\n")
            new_turns.append(new_turn)
        if new_turns == old_turns:
            self.add_error(None, "Nothing was edited: change a turn, or accept the sample as it is.")
        cleaned["turns"] = new_turns
        return cleaned


def _status(sample: Sample) -> dict[str, str]:
    return {"status": sample.status, "reject_reason": sample.reject_reason}


def _new_status(verdict: str, reason: str) -> tuple[str, str]:
    if verdict == "reject":
        return Sample.Status.REJECTED, reason
    return Sample.Status.ACCEPTED, ""


def sample_review_effect(*, target: Sample, verdict: str, data: dict[str, Any], actor: User | None) -> EffectResult:
    del actor
    before = _status(target)
    revisions: list[Change] = []
    fields = ["status", "reject_reason", "updated_at"]
    if verdict == "edit":
        new_turns = data["turns"]
        for index, (old, new) in enumerate(zip(target.turns, new_turns, strict=True)):
            if old != new:
                revisions.append(Change("edit_turn", before={"turn": index, **old}, after={"turn": index, **new}))
        if target.original_turns is None:
            target.original_turns = target.turns
            fields.append("original_turns")
        target.turns = new_turns
        fields.append("turns")
    target.status, target.reject_reason = _new_status(verdict, data.get("reason", ""))
    target.save(update_fields=fields)
    return EffectResult(before=before, after=_status(target), revisions=revisions)


def sample_review_bulk_effect(
    *, target_ids: list[str], verdict: str, reason: str, actor: User | None
) -> dict[str, tuple[Any, Any]]:
    del actor
    samples = Sample.objects.filter(pk__in=target_ids)
    before = {str(pk): {"status": s, "reject_reason": r} for pk, s, r in samples.values_list("pk", "status", "reject_reason")}
    status, reject_reason = _new_status(verdict, reason)
    samples.update(status=status, reject_reason=reject_reason, updated_at=timezone.now())
    after = {"status": status, "reject_reason": reject_reason}
    return {pk: (state, after) for pk, state in before.items()}


def sample_subset_targets(subset: Subset) -> QuerySet:
    return Sample.objects.filter(subset=subset)


def sample_facts(samples: Iterable[Sample]) -> dict[str, tuple[float | None, dict[str, Any]]]:
    """Score = the lowest quality rating over the four axes (None until rated), for filters."""
    samples = list(samples)
    minima: dict[int, list[int]] = {}
    for sample_id, low in SampleRating.objects.filter(sample__in=samples, minimum__isnull=False).values_list("sample_id", "minimum"):
        if low is not None:
            minima.setdefault(sample_id, []).append(low)
    facts = {}
    for sample in samples:
        rated = minima.get(sample.pk, [])
        facts[str(sample.pk)] = (
            float(min(rated)) if rated else None,
            {"source": sample.source_id, "images": sample.image_count, "turns": len(sample.turns or [])},
        )
    return facts


def sample_prefetch(queryset: QuerySet) -> QuerySet:
    ordered = SampleImage.objects.select_related("image").order_by("position")
    return queryset.select_related("source", "subset").prefetch_related(Prefetch("sample_images", queryset=ordered))


def sample_api_payload(sample: Sample) -> dict[str, Any]:
    return {
        "id": sample.pk,
        "subset": sample.subset_id,
        "source": sample.source_id,
        "row_number": sample.row_number,
        "status": sample.status,
        "reject_reason": sample.reject_reason,
        "turns": sample.turns,
        "original_turns": sample.original_turns,
        "images": [
            {
                "sha256": si.image_id,
                "width": si.image.width,
                "height": si.image.height,
                "url": reverse("image", args=[si.image_id]),
            }
            for si in sample.sample_images.all()
        ],
    }


SAMPLE_KIND = kind_register(
    ReviewKind(
        kind="sample",
        label="Sample review",
        model=Sample,
        form=SampleDecisionForm,
        template="annotate/review_sample.html#target",
        effect=sample_review_effect,
        bulk_effect=sample_review_bulk_effect,
        subset_targets=sample_subset_targets,
        facts=sample_facts,
        prefetch=sample_prefetch,
        api_payload=sample_api_payload,
        shortcuts=(
            ("z", "Zoom the image in or out"),
            ("[ ]", "Previous / next image"),
            ("e", "Edit the turns in place"),
            ("Ctrl+Enter", "Save the edits and accept"),
            ("o", "In edit mode: put back the turns as mapped"),
            ("Esc", "Leave edit mode"),
        ),
    )
)
