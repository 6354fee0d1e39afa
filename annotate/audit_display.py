"""How the audit trail shows a decision to a person: the before/after as a diff of named fields, and the
target named as a person would ("version 2 of my-llava", "subset Charts"), not a content type and an id."""
import difflib
import json
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from django.db import models

from curation.models import Decision, Mapping, ReviewItem, Sample, Source, Subset

# Nested values are compared leaf by leaf down to this depth; deeper ones are compared as JSON.
MAX_DEPTH = 4


@dataclass(frozen=True)
class Segment:
    op: str  # "same", "del" or "ins"
    text: str


@dataclass(frozen=True)
class FieldChange:
    path: str
    kind: str  # "changed", "added" or "removed"
    before: str = ""
    after: str = ""
    # For text changed in place: the words kept, removed and added, in order.
    segments: tuple[Segment, ...] = ()


def _text(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _leaves(value: Any, path: str, depth: int) -> Iterator[tuple[str, Any]]:
    if depth < MAX_DEPTH and isinstance(value, dict) and value:
        for key in sorted(value, key=str):
            yield from _leaves(value[key], f"{path}.{key}" if path else str(key), depth + 1)
    elif depth < MAX_DEPTH and isinstance(value, list) and value and all(isinstance(v, dict | list) for v in value):
        for index, item in enumerate(value):
            yield from _leaves(item, f"{path}[{index + 1}]", depth + 1)  # counted from 1, as people count
    else:
        yield path or "value", value


def _segments(before: str, after: str) -> tuple[Segment, ...]:
    old, new = before.split(" "), after.split(" ")
    segments: list[Segment] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if op == "equal":
            segments.append(Segment("same", " ".join(old[i1:i2])))
            continue
        if i2 > i1:
            segments.append(Segment("del", " ".join(old[i1:i2])))
        if j2 > j1:
            segments.append(Segment("ins", " ".join(new[j1:j2])))
    return tuple(segments)


def value_diff(before: Any, after: Any) -> list[FieldChange]:
    """What changed between two JSON values, field by field (dotted paths, list positions from 1)."""
    old, new = dict(_leaves(before, "", 0)), dict(_leaves(after, "", 0)) if after is not None else {}
    if before is None:
        old = {}
    changes = []
    for path in list(old) + [p for p in new if p not in old]:
        if path not in new:
            changes.append(FieldChange(path, "removed", before=_text(old[path])))
        elif path not in old:
            changes.append(FieldChange(path, "added", after=_text(new[path])))
        elif old[path] != new[path]:
            a, b = _text(old[path]), _text(new[path])
            in_place = isinstance(old[path], str) and isinstance(new[path], str) and len(a) + len(b) > 40
            changes.append(FieldChange(path, "changed", before=a, after=b, segments=_segments(a, b) if in_place else ()))
    return changes


def target_labels(decisions: Iterable[Decision]) -> dict[int, str]:
    """A person's name for each decision's target, looked up in one query per target type."""
    wanted: dict[type[models.Model], set[str]] = defaultdict(set)
    rows = list(decisions)
    for d in rows:
        model = d.target_type.model_class()
        if model is not None:
            wanted[model].add(d.target_id)
    found: dict[tuple[type[models.Model], str], str] = {}
    for model, ids in wanted.items():
        for pk, label in _labels(model, ids).items():
            found[(model, str(pk))] = label
    labels = {}
    for d in rows:
        model = d.target_type.model_class()
        fallback = f"{d.target_type.name} {d.target_id} (deleted)" if model is not None else f"{d.target_type.model} {d.target_id}"
        labels[d.pk] = found.get((model, d.target_id), fallback) if model is not None else fallback
    return labels


def _labels(model: type[models.Model], ids: set[str]) -> dict[Any, str]:
    if model is Mapping:
        return {m.pk: f"version {m.version} of {m.source.name}" for m in Mapping.objects.filter(pk__in=ids).select_related("source")}
    if model is Subset:
        return {s.pk: f"subset {s.name}" for s in Subset.objects.filter(pk__in=ids)}
    if model is Source:
        return {s.pk: f"source {s.name}" for s in Source.objects.filter(pk__in=ids)}
    if model is Sample:
        return {s.pk: f"sample {s.row_number + 1} of {s.source.name}" for s in Sample.objects.filter(pk__in=ids).select_related("source")}
    if model is ReviewItem:
        return {i.pk: f"{i.kind} review item" for i in ReviewItem.objects.filter(pk__in=ids)}
    name = model._meta.verbose_name
    return {obj.pk: f"{name} {obj}" for obj in model._default_manager.filter(pk__in=ids)}  # type: ignore[attr-defined]
