"""The "duplicate" and "leak" review kinds: a reviewer audits a flagged pair side by side and decides.

duplicate: not a copy / copy, keep A / copy, keep B.  leak: not a copy / leak, drop the sample.
A decision only marks the pair (services/dedup.py dedup_pair_decide); the export filter drops the losing
side, so nothing is deleted and every decision stays in the audit trail.
"""
from collections.abc import Iterable
from typing import Any

from django.contrib.auth.models import User
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone

from curation.models import DuplicatePair, Subset
from curation.review.kinds import DecisionForm, EffectResult, ReviewKind, Verdict, kind_register
from curation.services.dedup_pairs import dedup_pair_decide


class DuplicateDecisionForm(DecisionForm):
    verdicts = (
        Verdict("not_copy", "Not a copy", key="d", outcome="not_copy"),
        Verdict("keep_a", "Copy, keep A", key="a", outcome="copy", style="primary"),
        Verdict("keep_b", "Copy, keep B", key="b", outcome="copy"),
    )


class LeakDecisionForm(DecisionForm):
    verdicts = (
        Verdict("not_copy", "Not a copy", key="d", outcome="not_copy"),
        Verdict("leak", "Leak, drop sample", key="l", outcome="leak", style="danger"),
    )


def _state(pair: DuplicatePair) -> dict[str, Any]:
    return {"status": pair.status}


def pair_review_effect(*, target: DuplicatePair, verdict: str, data: dict[str, Any], actor: User | None) -> EffectResult:
    del data
    before = _state(target)
    dedup_pair_decide(pair=target, status=verdict, by=actor)
    return EffectResult(before=before, after=_state(target))


def pair_review_bulk_effect(*, target_ids: list[str], verdict: str, reason: str, actor: User | None) -> dict[str, tuple[Any, Any]]:
    del reason
    pairs = DuplicatePair.objects.filter(pk__in=target_ids)
    before = {str(pk): {"status": status} for pk, status in pairs.values_list("pk", "status")}
    pairs.update(status=verdict, decided_by=actor, decided_at=timezone.now(), updated_at=timezone.now())
    return {pk: (state, {"status": verdict}) for pk, state in before.items()}


def _targets(kind: str):  # type: ignore[no-untyped-def]
    def subset_targets(subset: Subset) -> QuerySet:
        return DuplicatePair.objects.filter(kind=kind, flagged=True, a_sample__subset=subset, status=DuplicatePair.Status.OPEN)

    return subset_targets


def pair_facts(pairs: Iterable[DuplicatePair]) -> dict[str, tuple[float | None, dict[str, Any]]]:
    """Score = the embedding cosine (bulk-confirm high-similarity groups by it); attributes for filters."""
    return {
        str(p.pk): (
            p.similarity,
            {"verified": p.verified, "cluster": p.cluster, "benchmark": p.benchmark_id, "verify_score": p.verify_score},
        )
        for p in pairs
    }


def pair_prefetch(queryset: QuerySet) -> QuerySet:
    return queryset.select_related(
        "a_sample__source", "a_sample__subset", "b_sample__source", "b_sample__subset", "a_image", "b_image",
        "benchmark", "benchmark_image__image",
    )


def _image_url(sha: str | None) -> str | None:
    return reverse("image", args=[sha]) if sha else None


def pair_api_payload(pair: DuplicatePair) -> dict[str, Any]:
    return {
        "id": pair.pk,
        "kind": pair.kind,
        "status": pair.status,
        "similarity": pair.similarity,
        "verify_score": pair.verify_score,
        "verified": pair.verified,
        "cluster": pair.cluster,
        "engine": pair.engine,
        "verifier": pair.verifier,
        "evidence": pair.evidence,
        "a": {"sample": pair.a_sample_id, "image": pair.a_image_id, "url": _image_url(pair.a_image_id), "turns": pair.a_sample.turns},
        "b": (
            {"sample": pair.b_sample.pk, "image": pair.b_image_id, "url": _image_url(pair.b_image_id), "turns": pair.b_sample.turns}
            if pair.b_sample is not None
            else {
                "benchmark": pair.benchmark.name if pair.benchmark else None,
                "benchmark_image": pair.benchmark_image_id,
                "name": pair.benchmark_image.name if pair.benchmark_image else "",
                "url": _image_url(pair.benchmark_image.image_id if pair.benchmark_image else None),
            }
        ),
    }


SHORTCUTS = (("z", "Zoom the images in or out"), ("k", "Show or hide the matched keypoints"))

DUPLICATE_KIND = kind_register(
    ReviewKind(
        kind="duplicate",
        model=DuplicatePair,
        form=DuplicateDecisionForm,
        template="annotate/dedup_pair.html#target",
        effect=pair_review_effect,
        bulk_effect=pair_review_bulk_effect,
        subset_targets=_targets(DuplicatePair.Kind.DUPLICATE),
        facts=pair_facts,
        prefetch=pair_prefetch,
        api_payload=pair_api_payload,
        shortcuts=SHORTCUTS,
    )
)
LEAK_KIND = kind_register(
    ReviewKind(
        kind="leak",
        model=DuplicatePair,
        form=LeakDecisionForm,
        template="annotate/dedup_pair.html#target",
        effect=pair_review_effect,
        bulk_effect=pair_review_bulk_effect,
        subset_targets=_targets(DuplicatePair.Kind.LEAK),
        facts=pair_facts,
        prefetch=pair_prefetch,
        api_payload=pair_api_payload,
        shortcuts=SHORTCUTS,
    )
)
