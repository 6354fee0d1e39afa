"""The "hard_negative" review kind: a reviewer verifies a generated negative caption against its image.

Verdicts: valid; invalid with a reason (actually true, not fluent, not the target attribute, paraphrase);
or edit the negative in place (kept as valid; the generated text stays in original_text).
"""
from collections.abc import Iterable
from typing import Any

from django import forms
from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from curation.models import HardNegative, Subset
from curation.review.kinds import (
    Change,
    DecisionForm,
    EffectResult,
    Reason,
    ReviewKind,
    Verdict,
    kind_register,
)

KIND = "hard_negative"
INVALID_REASONS = (
    Reason("actually_true", "Actually true for the image"),
    Reason("not_fluent", "Not fluent"),
    Reason("not_target_attribute", "Not the target attribute"),
    Reason("paraphrase", "Paraphrase of the positive"),
)


class HardNegativeDecisionForm(DecisionForm):
    verdicts = (
        Verdict("valid", "Valid", key="v", outcome="valid", style="primary"),
        Verdict("invalid", "Invalid", key="x", outcome="invalid", reasons=INVALID_REASONS, style="danger"),
        Verdict("edit", "Save edit as valid", key="e", outcome="valid", bulk=False),
    )
    revision_fields = ("text",)

    text = forms.CharField(required=False, strip=True, max_length=2000, widget=forms.Textarea)

    @classmethod
    def revising_verdicts(cls) -> set[str]:
        return {"edit"}

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        if cleaned.get("verdict") != "edit" or self.target is None or self.errors:
            return cleaned
        text = (cleaned.get("text") or "").replace("\r\n", "\n").strip()
        if not text:
            self.add_error("text", "An edited negative cannot be empty.")
        elif text == getattr(self.target, "text", None):
            self.add_error(None, "Nothing was edited: change the negative, or mark it valid as it is.")
        elif text.lower() == str(getattr(self.target, "fact", "")).strip().lower():
            self.add_error("text", "The edit says the same as the positive: that is not a negative.")
        cleaned["text"] = text
        return cleaned


def _state(negative: HardNegative) -> dict[str, str]:
    return {"review": negative.review, "review_reason": negative.review_reason, "text": negative.text}


def _new_review(verdict: str) -> str:
    return {"valid": HardNegative.Review.VALID, "invalid": HardNegative.Review.INVALID}.get(verdict, HardNegative.Review.EDITED)


def hard_negative_effect(*, target: HardNegative, verdict: str, data: dict[str, Any], actor: User | None) -> EffectResult:
    before = _state(target)
    revisions: list[Change] = []
    fields = ["review", "review_reason", "reviewed_by", "reviewed_at"]
    if verdict == "edit":
        revisions.append(Change("edit_negative", before={"text": target.text}, after={"text": data["text"]}))
        if not target.original_text:
            target.original_text = target.text
            fields.append("original_text")
        target.text = data["text"]
        fields.append("text")
    target.review = _new_review(verdict)
    target.review_reason = data.get("reason", "") if verdict == "invalid" else ""
    target.reviewed_by = actor
    target.reviewed_at = timezone.now()
    target.save(update_fields=fields)
    return EffectResult(before=before, after=_state(target), revisions=revisions)


def hard_negative_bulk_effect(*, target_ids: list[str], verdict: str, reason: str, actor: User | None) -> dict[str, tuple[Any, Any]]:
    negatives = HardNegative.objects.filter(pk__in=target_ids)
    before = {str(pk): {"review": r, "review_reason": rr, "text": t} for pk, r, rr, t in negatives.values_list("pk", "review", "review_reason", "text")}
    review = _new_review(verdict)
    negatives.update(review=review, review_reason=reason if verdict == "invalid" else "", reviewed_by=actor, reviewed_at=timezone.now())
    return {pk: (state, {**state, "review": review, "review_reason": reason if verdict == "invalid" else ""}) for pk, state in before.items()}


def hard_negative_subset_targets(subset: Subset) -> QuerySet:
    return HardNegative.objects.filter(subset=subset, agent_verdict=HardNegative.AgentVerdict.PASSED)


def hard_negative_facts(negatives: Iterable[HardNegative]) -> dict[str, tuple[float | None, dict[str, Any]]]:
    return {str(n.pk): (float(n.correction_rounds), {"attribute": n.attribute, "level": n.level, "phase": n.phase}) for n in negatives}


def hard_negative_prefetch(queryset: QuerySet) -> QuerySet:
    return queryset.select_related("image", "sample", "subset").prefetch_related("steps")


def hard_negative_api_payload(negative: HardNegative) -> dict[str, Any]:
    return {
        "id": negative.pk,
        "subset": negative.subset_id,
        "sample": negative.sample_id,
        "turn_index": negative.turn_index,
        "image": {"sha256": negative.image_id, "url": reverse("image", args=[negative.image_id])} if negative.image_id else None,
        "positive": negative.positive,
        "fact": negative.fact,
        "text": negative.text,
        "original_text": negative.original_text,
        "phase": negative.phase,
        "attribute": negative.attribute,
        "level": negative.level,
        "changes": negative.changes,
        "engine": {"name": negative.engine_name, "version": negative.engine_version},
        "visual_check": negative.visual_check,
        "review": negative.review,
        "review_reason": negative.review_reason,
    }


HARD_NEGATIVE_KIND = kind_register(
    ReviewKind(
        kind=KIND,
        model=HardNegative,
        form=HardNegativeDecisionForm,
        template="annotate/review_hard_negative.html#target",
        effect=hard_negative_effect,
        bulk_effect=hard_negative_bulk_effect,
        subset_targets=hard_negative_subset_targets,
        facts=hard_negative_facts,
        prefetch=hard_negative_prefetch,
        api_payload=hard_negative_api_payload,
        shortcuts=(("z", "Zoom the image in or out"), ("e", "Edit the negative in place"), ("Ctrl+Enter", "Save the edit as valid"),
                   ("Esc", "Leave edit mode")),
    )
)
