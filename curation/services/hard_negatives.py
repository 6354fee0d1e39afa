"""Hard negatives (FineGen): run Generation -> Verification -> Correction over a subset's captions.

Three phases per positive (global description, attribute negatives, atomic sub-facts), each candidate through
a bounded loop (verifier, then at most MAX_CORRECTION_ROUNDS corrector rounds fed by the verifier's reason,
then reject), every agent step recorded. Reruns find the natural key (sample, turn, phase, fact, slot) and
never duplicate. Negatives that passed go to the subset's "hard_negative" review queue.
"""
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.contrib.auth.models import User
from django.db import transaction
from django.db.models import QuerySet

from curation.engines import hardneg_lexicon as lex
from curation.engines.base import engine_info
from curation.engines.chat import llm_config
from curation.engines.hardneg import (
    PHASE_ATOMIC,
    PHASE_ATTRIBUTE,
    PHASE_GLOBAL,
    AgentVerdict,
    Candidate,
    HardNegativeAgents,
    Positive,
    level_for,
)
from curation.engines.hardneg_builtin import BuiltinHardNegativeEngine
from curation.engines.hardneg_llm import HardNegativeAnswerError, LLMHardNegativeEngine
from curation.engines.text_embedding import TextEmbedder, TextEmbeddingUnavailable, embed_texts
from curation.errors import ApplicationError
from curation.models import HardNegative, HardNegativeStep, Image, Job, Sample, SampleImage, Subset
from curation.services import job_kinds
from curation.services.hard_negative_stats import attribute_counts
from curation.services.images import image_content_type, image_read
from curation.services.jobs import RowError, job_create, job_enqueue, job_progress, job_reject_rows
from curation.services.review import ItemEntry, review_items_enqueue, review_queue_for

MAX_CORRECTION_ROUNDS = 3
DEFAULT_RATIO = 10
MAX_RATIO = 50
# Samples handled per batch: one read of their images, one bulk write of negatives and steps, one progress beat.
SAMPLE_BATCH_SIZE = 50
# A caption is an assistant text of at least this many words (short VQA answers are not captions).
MIN_CAPTION_WORDS = 3
ENGINES = ("builtin", "llm")
REVIEW_KIND = "hard_negative"


class HardNegativeError(ApplicationError):
    code = "hard_negative_error"
    status = 400


@dataclass
class LoopResult:
    candidate: Candidate
    verdict: AgentVerdict
    rounds: int
    steps: list[dict[str, Any]] = field(default_factory=list)


def hard_negative_engine(name: str) -> HardNegativeAgents:
    """The agents named `name`: 'builtin' (no weights) or 'llm' (the configured chat endpoint)."""
    if name == "builtin":
        return BuiltinHardNegativeEngine()
    if name == "llm":
        config = llm_config()
        if config is None:
            raise HardNegativeError("no LLM endpoint is configured (set FINECURATE_LLM_BASE_URL), use the built-in engine")
        return LLMHardNegativeEngine(config)
    raise HardNegativeError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")


def _clean_params(*, ratio: Any, attributes: Iterable[str] | None, engine: str) -> dict[str, Any]:
    try:
        ratio_value = int(ratio)
    except (TypeError, ValueError):
        raise HardNegativeError(f"the ratio {ratio!r} is not a whole number") from None
    if not 1 <= ratio_value <= MAX_RATIO:
        raise HardNegativeError(f"the ratio must be between 1 and {MAX_RATIO} negatives per positive, not {ratio_value}")
    chosen = list(dict.fromkeys(attributes or lex.DEFAULT_ATTRIBUTES))
    unknown = [a for a in chosen if a not in lex.ATTRIBUTE_KEYS]
    if unknown:
        raise HardNegativeError(f"unknown attribute(s) {', '.join(unknown)}; known: {', '.join(lex.ATTRIBUTE_KEYS)}")
    if not chosen:
        raise HardNegativeError("choose at least one attribute to target")
    hard_negative_engine(engine)  # an unusable engine is refused before a job is queued
    return {"ratio": ratio_value, "attributes": chosen, "engine": engine}


def caption_turn(turns: Any) -> tuple[int, str] | None:
    """The first turn whose assistant text reads as a caption: (index, text)."""
    for index, turn in enumerate(turns or []):
        text = str((turn or {}).get("assistant") or "").strip()
        if len(text.split()) >= MIN_CAPTION_WORDS:
            return index, text
    return None


def hard_negatives_start(*, subset: Subset, by: User | None, ratio: Any = DEFAULT_RATIO,
                         attributes: Iterable[str] | None = None, engine: str = "builtin", enqueue: bool = True) -> Job:
    """Validate the request and queue a Job that generates the subset's hard negatives."""
    params = _clean_params(ratio=ratio, attributes=attributes, engine=engine)
    if not Sample.objects.filter(subset=subset).exists():
        raise HardNegativeError(f"the subset {subset.name} has no samples to make hard negatives of")
    job = job_create(kind=job_kinds.HARD_NEGATIVES.key, target=subset, params={"subset_id": subset.pk, **params},
                     created_by=by, total=subset.sample_count or None)
    return job_enqueue(job=job) if enqueue else job


# --- the loop ---


def negative_loop(*, engine: HardNegativeAgents, positive: Positive, candidate: Candidate,
                  max_rounds: int = MAX_CORRECTION_ROUNDS) -> LoopResult:
    """Verify; while it fails and rounds remain, correct on the verifier's reason and verify again."""
    label = engine_info(engine).label[:300]
    steps: list[dict[str, Any]] = [
        {"round": 0, "agent": "generator", "engine": label, "input": {"fact": candidate.fact, "phase": candidate.phase},
         "output": candidate.as_dict(), "verdict": "", "reason": ""}
    ]
    rounds = 0
    while True:
        verdict = engine.verify(positive=positive, candidate=candidate)
        steps.append({"round": rounds, "agent": "verifier", "engine": label,
                      "input": {"fact": candidate.fact, "text": candidate.text, "changes": [c.as_dict() for c in candidate.changes],
                                "image": positive.image is not None and engine.sees_image},
                      "output": verdict.as_dict(), "verdict": "pass" if verdict.ok else "fail",
                      "reason": f"{verdict.reason}: {verdict.message}" if verdict.reason else verdict.message})
        if verdict.ok or rounds >= max_rounds:
            return LoopResult(candidate=candidate, verdict=verdict, rounds=rounds, steps=steps)
        rounds += 1
        fixed = engine.correct(positive=positive, candidate=candidate, verdict=verdict)
        steps.append({"round": rounds, "agent": "corrector", "engine": label,
                      "input": {"text": candidate.text, "feedback": verdict.as_dict()},
                      "output": fixed.as_dict() if fixed is not None else {"gave_up": True}, "verdict": "",
                      "reason": "" if fixed is not None else "the corrector could not fix it"})
        if fixed is None:
            return LoopResult(candidate=candidate, verdict=verdict, rounds=rounds, steps=steps)
        candidate = fixed


def phase_budgets(ratio: int) -> dict[str, int]:
    """How many negatives each phase aims for: a fifth global, a fifth atomic, the rest attribute negatives."""
    share = ratio // 5
    return {PHASE_GLOBAL: share, PHASE_ATOMIC: share, PHASE_ATTRIBUTE: ratio - 2 * share}


def positive_negatives(*, engine: HardNegativeAgents, positive: Positive, ratio: int, attributes: list[str],
                       others: list[str]) -> list[tuple[int, LoopResult]]:
    """Every candidate of one positive through the loop: (slot, result), at most `ratio` of them passing."""
    budgets = phase_budgets(ratio)
    results: list[tuple[int, LoopResult]] = []
    passed_texts: set[str] = set()
    passed = 0

    def run(fact: str, phase: str, count: int) -> int:
        nonlocal passed
        made = 0
        for slot, candidate in enumerate(engine.generate(positive=positive, fact=fact, phase=phase, attributes=attributes,
                                                         count=count, others=others)):
            result = negative_loop(engine=engine, positive=positive, candidate=candidate)
            key = result.candidate.text.strip().lower()
            if result.verdict.ok and key in passed_texts:
                continue  # two candidates corrected into the same sentence: keep one
            results.append((slot, result))
            if result.verdict.ok:
                passed_texts.add(key)
                made += 1
                passed += 1
        return made

    run(positive.text, PHASE_GLOBAL, budgets[PHASE_GLOBAL])
    facts = engine.facts(positive) if budgets[PHASE_ATOMIC] else []
    atomic_made = 0
    for fact in facts:
        if atomic_made >= budgets[PHASE_ATOMIC]:
            break
        atomic_made += run(fact, PHASE_ATOMIC, 1)
    run(positive.text, PHASE_ATTRIBUTE, max(0, ratio - passed))
    return results


# --- the job ---


def _images_by_sample(sample_ids: list[int]) -> dict[int, Image]:
    rows = SampleImage.objects.filter(sample_id__in=sample_ids, position=0).select_related("image")
    return {row.sample_id: row.image for row in rows}


def hard_negatives_generate(*, job: Job) -> dict[str, Any]:
    """The job body: every sample of the subset, a batch at a time; returns per-attribute counts."""
    params = job.params
    subset = Subset.objects.filter(pk=params["subset_id"]).first()
    if subset is None:
        raise HardNegativeError("the subset was deleted before its hard negatives could be made")
    engine = hard_negative_engine(params["engine"])
    available = engine.available()
    if not available.ok:
        raise HardNegativeError(f"the engine {engine.name} cannot run: {available.reason}")
    samples = Sample.objects.filter(subset=subset)
    total = samples.count()
    job_progress(job=job, done=0, total=total)
    done = created = 0
    last_id = 0
    while True:
        batch: list[dict[str, Any]] = [
            {"pk": pk, "turns": turns}
            for pk, turns in samples.filter(pk__gt=last_id).order_by("pk").values_list("pk", "turns")[:SAMPLE_BATCH_SIZE]
        ]
        if not batch:
            break
        last_id = int(batch[-1]["pk"])
        created += _generate_batch(job=job, subset=subset, engine=engine, rows=batch, ratio=params["ratio"],
                                   attributes=params["attributes"])
        done += len(batch)
        job_progress(job=job, done=done, total=total)
    return {"created": created, "samples": total, "by_attribute": attribute_counts(subset=subset)}


def _generate_batch(*, job: Job, subset: Subset, engine: HardNegativeAgents, rows: list[dict[str, Any]], ratio: int,
                    attributes: list[str]) -> int:
    label = engine_info(engine)
    positives: dict[int, tuple[int, str]] = {}
    for row in rows:
        found = caption_turn(row["turns"])
        if found is not None:
            positives[row["pk"]] = found
    if not positives:
        return 0
    done_keys = set(
        HardNegative.objects.filter(sample_id__in=list(positives)).values_list("sample_id", "turn_index").distinct()
    )
    images = _images_by_sample(list(positives))
    others = [text for _, text in positives.values()]
    new_rows: list[HardNegative] = []
    new_steps: list[list[dict[str, Any]]] = []
    errors: list[RowError] = []
    for sample_id, (turn_index, caption) in positives.items():
        if (sample_id, turn_index) in done_keys:
            continue  # made by an earlier run: the natural key keeps reruns from duplicating
        image = images.get(sample_id)
        data = image_read(image=image) if image is not None and engine.sees_image else None
        mime = image_content_type(image=image) if image is not None else "image/jpeg"
        positive = Positive(text=caption, image=data, image_mime=mime)
        try:
            results = positive_negatives(engine=engine, positive=positive, ratio=ratio, attributes=attributes,
                                         others=[o for o in others if o != caption])
        except HardNegativeAnswerError as exc:
            errors.append(RowError(row_number=None, location=f"sample {sample_id}", message=str(exc)))
            continue
        for slot, result in results:
            candidate = result.candidate
            new_rows.append(HardNegative(
                subset=subset, sample_id=sample_id, turn_index=turn_index, image=image,
                positive=caption, phase=candidate.phase, fact=candidate.fact, slot=slot, text=candidate.text,
                changes=[c.as_dict() for c in candidate.changes], attribute=candidate.attribute[:32],
                operation=candidate.operation[:32], level=level_for(candidate.changes), engine_name=label.name[:200],
                engine_version=label.version[:100],
                agent_verdict=HardNegative.AgentVerdict.PASSED if result.verdict.ok else HardNegative.AgentVerdict.REJECTED,
                agent_reason="" if result.verdict.ok else result.verdict.reason[:64], correction_rounds=result.rounds,
                visual_check=result.verdict.visual, job=job,
            ))
            new_steps.append(result.steps)
    if errors:
        job_reject_rows(job=job, errors=errors)
    if not new_rows:
        return 0
    _blind_scores(new_rows)
    with transaction.atomic():
        saved = HardNegative.objects.bulk_create(new_rows, ignore_conflicts=True)
        keys = [(n.sample_id, n.turn_index, n.phase, n.fact, n.slot) for n in saved]
        stored = {
            (n.sample_id, n.turn_index, n.phase, n.fact, n.slot): n
            for n in HardNegative.objects.filter(sample_id__in={k[0] for k in keys}, job=job)
        }
        steps: list[HardNegativeStep] = []
        for negative, trace in zip(new_rows, new_steps, strict=True):
            kept = stored.get((negative.sample_id, negative.turn_index, negative.phase, negative.fact, negative.slot))
            if kept is None:
                continue  # another run stored this key first
            steps.extend(HardNegativeStep(negative=kept, **step) for step in trace)
        HardNegativeStep.objects.bulk_create(steps, ignore_conflicts=True)
        passed = [n for n in stored.values() if n.agent_verdict == HardNegative.AgentVerdict.PASSED]
        if passed:
            queue = review_queue_for(kind=REVIEW_KIND, subset=subset, by=job.created_by)
            review_items_enqueue(queue=queue, entries=[
                ItemEntry(target_id=n.pk, score=float(n.correction_rounds), attributes={"attribute": n.attribute, "level": n.level, "phase": n.phase})
                for n in passed
            ], count_created=False)
    return len(stored)


def _blind_scores(negatives: list[HardNegative]) -> None:
    """Blind solvability: how typical each text reads to the bundled text model, without the image.

    The score is the cosine of a caption to the centroid of the batch's positives (the positive itself left out):
    a text-only prior of what captions say. When the model cannot load, the scores stay empty.
    """
    embedder = TextEmbedder()
    if not embedder.available().ok:
        return
    positives = sorted({n.positive for n in negatives})
    try:
        pos_vectors = embed_texts(positives)
        neg_vectors = embed_texts([n.text for n in negatives])
    except TextEmbeddingUnavailable:
        return
    index = {text: i for i, text in enumerate(positives)}
    total = pos_vectors.sum(axis=0)
    count = len(positives)
    if count < 2:
        return  # no other caption to compare with: no prior, no score
    label = engine_info(embedder).label
    for negative, vector in zip(negatives, neg_vectors, strict=True):
        own = pos_vectors[index[negative.positive]]
        centroid = (total - own) / (count - 1)
        norm = float(np.linalg.norm(centroid)) or 1.0
        negative.blind_positive_score = float(own @ centroid / norm)
        negative.blind_negative_score = float(vector @ centroid / norm)
        negative.blind_engine = label[:200]


def hard_negatives_of(*, subset: Subset) -> QuerySet[HardNegative]:
    return HardNegative.objects.filter(subset=subset)
