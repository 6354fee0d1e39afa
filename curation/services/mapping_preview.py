"""The live preview: chosen rows of a source, each beside the sample the spec makes of it.

It runs the same row_map and image resolution as the apply job, so what a curator sees is what apply writes.
"""
import json
from dataclasses import dataclass, field
from typing import Any

from curation.mapping.apply import FilteredOut, RowMappingError, row_map
from curation.mapping.hardness import row_difficulty
from curation.mapping.spec import MappingSpec, SpecError, spec_from_dict
from curation.models import Image, Mapping, Source, SourceRow
from curation.selectors import source_rows_first, source_rows_random, source_rows_scan
from curation.services.mapping_build import image_refs_resolve, stored_shas

PREVIEW_FIRST = 2
PREVIEW_RANDOM = 2
PREVIEW_HARDEST = 3
RAW_PREVIEW_CHARS = 4000


@dataclass
class PreviewRow:
    row: SourceRow
    picked: str  # "first", "random" or "hardest"
    outcome: str = "sample"  # "sample", "filtered" or "error"
    turns: list[dict[str, str]] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    message: str = ""
    difficulty: tuple[str, ...] = ()

    @property
    def raw(self) -> str:
        text = json.dumps(self.row.data, indent=2, ensure_ascii=False, default=str)
        return text if len(text) <= RAW_PREVIEW_CHARS else text[:RAW_PREVIEW_CHARS] + "\n…"


def mapping_preview_pick(*, spec: MappingSpec, source: Source, seed: int = 0) -> list[tuple[str, SourceRow]]:
    """First rows, random rows (by seed), and the rows this spec finds hardest among a bounded scan."""
    first = source_rows_first(source=source, n=PREVIEW_FIRST)
    seen = {r.row_number for r in first}
    rand = source_rows_random(source=source, n=PREVIEW_RANDOM, seed=seed, exclude=seen)
    seen |= {r.row_number for r in rand}
    scored = []
    for row in source_rows_scan(source=source, seed=seed + 1):
        if row.row_number in seen:
            continue
        difficulty = row_difficulty(spec, source_name=source.name, row_number=row.row_number, data=row.data)
        if difficulty.score > 0:
            scored.append((difficulty.score, row))
    scored.sort(key=lambda pair: (-pair[0], pair[1].row_number))
    hardest = [row for _, row in scored[:PREVIEW_HARDEST]]
    return [("first", r) for r in first] + [("random", r) for r in rand] + [("hardest", r) for r in hardest]


def mapping_preview(*, spec: MappingSpec, source: Source, rows: list[tuple[str, SourceRow]]) -> list[PreviewRow]:
    """Each (picked-as, row) with the sample it becomes, why it is filtered out, or why it fails."""
    previews = []
    outcomes: list[Any] = []
    for picked, row in rows:
        preview = PreviewRow(row=row, picked=picked)
        preview.difficulty = row_difficulty(spec, source_name=source.name, row_number=row.row_number,
                                            data=row.data).reasons
        try:
            outcome = row_map(spec, source_name=source.name, row_number=row.row_number, data=row.data)
        except RowMappingError as exc:
            preview.outcome, preview.message = "error", str(exc)
            outcome = None
        previews.append(preview)
        outcomes.append(outcome)
    stored = stored_shas([ref for o in outcomes if o is not None and not isinstance(o, FilteredOut) for ref in o.images])
    for preview, outcome in zip(previews, outcomes, strict=True):
        if outcome is None:
            continue
        if isinstance(outcome, FilteredOut):
            preview.outcome, preview.message = "filtered", f"left out by {outcome.reason}"
            continue
        try:
            shas = image_refs_resolve(refs=outcome.images, source=source, stored=stored)
        except RowMappingError as exc:
            preview.outcome, preview.message = "error", str(exc)
            continue
        images = Image.objects.in_bulk(shas)
        preview.turns = outcome.turns
        preview.images = [images[sha] for sha in shas if sha in images]
    return previews


def source_rows_as_chat(*, source: Source, rows: list[SourceRow]) -> tuple[Mapping | None, dict[int, PreviewRow]]:
    """The chat each row becomes under the source's accepted mapping (else its newest version), by row number;
    (None, {}) when the source has no mapping or its spec no longer reads. Same code as the preview and apply."""
    mapping = (Mapping.objects.filter(source=source, status=Mapping.Status.ACCEPTED).first()
               or Mapping.objects.filter(source=source).order_by("-version").first())
    if mapping is None or not rows:
        return mapping, {}
    try:
        spec = spec_from_dict(mapping.spec, columns=source.columns)
    except SpecError:
        return None, {}
    previews = mapping_preview(spec=spec, source=source, rows=[("page", row) for row in rows])
    return mapping, {p.row.row_number: p for p in previews}
