"""Which rows a mapping finds hardest, so the preview shows them beside the first and random ones.

Hard means: the mapping fails on it, it is filtered out, a column the mapping reads is empty,
its text is long, or it has many images or turns. Pure: it runs the mapping, it writes nothing.
"""
from dataclasses import dataclass
from typing import Any

from curation.mapping.apply import FilteredOut, RowMappingError, row_map
from curation.mapping.spec import MappingSpec, spec_columns_used

LONG_TEXT_CHARS = 1500


@dataclass(frozen=True)
class Difficulty:
    score: float
    reasons: tuple[str, ...]


def row_difficulty(spec: MappingSpec, *, source_name: str, row_number: int, data: Any) -> Difficulty:
    reasons: list[str] = []
    score = 0.0
    try:
        outcome = row_map(spec, source_name=source_name, row_number=row_number, data=data)
    except RowMappingError as exc:
        return Difficulty(score=1000.0, reasons=(f"the mapping fails: {exc}",))
    if isinstance(outcome, FilteredOut):
        score += 50
        reasons.append(f"filtered out by {outcome.reason}")
    if isinstance(data, dict):
        empty = [c for c in spec_columns_used(spec) if _empty(data.get(c))]
        if empty:
            score += 20 * len(empty)
            reasons.append(f"empty: {', '.join(empty)}")
    if not isinstance(outcome, FilteredOut):
        chars = sum(len(t["user"]) + len(t["assistant"]) for t in outcome.turns)
        if chars >= LONG_TEXT_CHARS:
            reasons.append(f"long text ({chars:,} characters)")
        score += chars / 200
        if len(outcome.images) > 1:
            reasons.append(f"{len(outcome.images)} images")
        score += 5 * max(0, len(outcome.images) - 1)
        if len(outcome.turns) > 1:
            reasons.append(f"{len(outcome.turns)} turns")
        score += 2 * max(0, len(outcome.turns) - 1)
    return Difficulty(score=score, reasons=tuple(reasons))


def _empty(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, str):
        return not value.strip()
    return isinstance(value, list | dict) and not value
