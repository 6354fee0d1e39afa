"""Hard-negative sets in every export format: each positive with its negatives and their attribute and level.

Columns (parallel lists, one entry per negative): hn_positive, hn_negatives, hn_negative_attributes,
hn_negative_levels. "hard_negatives" holds the human-valid negatives only (valid, or edited by a reviewer);
"hard_negatives_unreviewed" also those not reviewed yet (never the ones humans or the verifier rejected).
A filter keeps only samples with at least N such negatives; the "hardneg_jsonl" format writes the set
as one line per positive with its negatives as objects.
"""
import io
import json
from collections import defaultdict
from typing import Any, ClassVar

from django.db.models import Count, Q, QuerySet

from curation.exporters.files import HashingFile
from curation.exporters.llava import LlavaWriter
from curation.exporters.records import ExportRecord
from curation.exporters.registry import (
    Column,
    ColumnProvider,
    ExportContext,
    ExportFilter,
    ExportFormat,
    Param,
    register_column,
    register_filter,
    register_format,
)
from curation.models import HardNegative, Sample

HUMAN_VALID = (HardNegative.Review.VALID, HardNegative.Review.EDITED)
NOT_REJECTED = (*HUMAN_VALID, HardNegative.Review.PENDING)
COLUMNS = (
    Column("hn_positive", "string", "the positive caption the negatives contradict"),
    Column("hn_negatives", "list<string>", "hard-negative captions"),
    Column("hn_negative_attributes", "list<string>", "the attribute each negative changes"),
    Column("hn_negative_levels", "list<string>", "FG-OVD level of each negative: hard, medium, easy, trivial"),
)


class _HardNegativeColumns(ColumnProvider):
    reviews: ClassVar[tuple[str, ...]] = HUMAN_VALID
    columns: ClassVar[tuple[Column, ...]] = COLUMNS

    def _negatives(self, sample_ids: list[int]) -> QuerySet[HardNegative]:
        return HardNegative.objects.filter(
            sample_id__in=sample_ids, agent_verdict=HardNegative.AgentVerdict.PASSED, review__in=self.reviews
        ).order_by("sample_id", "turn_index", "phase", "slot", "pk")

    def batch_values(self, samples: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
        by_sample: dict[int, list[tuple[str, str, str, str]]] = defaultdict(list)
        rows = self._negatives([s["pk"] for s in samples]).values_list("sample_id", "positive", "text", "attribute", "level")
        for sample_id, positive, text, attribute, level in rows:
            by_sample[sample_id].append((positive, text, attribute, level))
        # The positive is named even where no negative of it is valid (all rejected): one more read per batch.
        positives = dict(
            HardNegative.objects.filter(sample_id__in=[s["pk"] for s in samples]).order_by("sample_id", "-turn_index")
            .values_list("sample_id", "positive")
        )
        out = {}
        for sample in samples:
            found = by_sample.get(sample["pk"], [])
            out[sample["pk"]] = {
                "hn_positive": found[0][0] if found else positives.get(sample["pk"]),
                "hn_negatives": [f[1] for f in found],
                "hn_negative_attributes": [f[2] for f in found],
                "hn_negative_levels": [f[3] for f in found],
            }
        return out

    def summary(self, samples: QuerySet[Sample]) -> dict[str, Any]:
        negatives = HardNegative.objects.filter(sample__in=samples, agent_verdict=HardNegative.AgentVerdict.PASSED, review__in=self.reviews)
        by_attribute = dict(negatives.order_by().values_list("attribute").annotate(n=Count("id")))
        engines = sorted({f"{n} {v}" for n, v in negatives.order_by().values_list("engine_name", "engine_version").distinct()})
        return {"negatives": sum(by_attribute.values()), "by_attribute": by_attribute, "reviews": list(self.reviews), "engines": engines}


@register_column
class HardNegativeColumns(_HardNegativeColumns):
    name = "hard_negatives"
    label = "Hard negatives (human-valid)"
    description = "The positive caption and its hard negatives that reviewers marked valid (or edited), with attribute and level."


@register_column
class UnreviewedHardNegativeColumns(_HardNegativeColumns):
    name = "hard_negatives_unreviewed"
    label = "Hard negatives (valid or not reviewed yet)"
    description = "As 'Hard negatives', plus those the verifier passed and no reviewer has decided yet."
    reviews = NOT_REJECTED
    columns = tuple(Column(c.name.replace("hn_", "hnu_", 1), c.type, c.description) for c in COLUMNS)

    def batch_values(self, samples: list[dict[str, Any]]) -> dict[int, dict[str, Any]]:
        values = super().batch_values(samples)
        return {pk: {k.replace("hn_", "hnu_", 1): v for k, v in row.items()} for pk, row in values.items()}


@register_filter
class HardNegativeFilter(ExportFilter):
    name = "hard_negatives"
    label = "Has hard negatives"
    description = "Keep samples with at least this many human-valid hard negatives."
    params = (Param("minimum", "At least", "int", minimum=1, maximum=1000),)

    def apply(self, samples: QuerySet[Sample], params: dict[str, Any]) -> QuerySet[Sample]:
        valid = Q(hard_negatives__agent_verdict=HardNegative.AgentVerdict.PASSED, hard_negatives__review__in=HUMAN_VALID)
        keep = Sample.objects.annotate(hn=Count("hard_negatives", filter=valid)).filter(hn__gte=params["minimum"]).values("pk")
        return samples.filter(pk__in=keep)

    def reasons(self, excluded: QuerySet[Sample], params: dict[str, Any]) -> dict[str, int]:
        count = excluded.count()
        return {f"fewer than {params['minimum']} human-valid hard negatives": count} if count else {}


# --- a dedicated format: one JSON line per positive, its negatives as objects ---

HARD_NEGATIVE_FILE = "hard_negatives.jsonl"
# Records buffered before their negatives are read in one query.
FORMAT_BATCH_SIZE = 500


class HardNegativeJsonlWriter(LlavaWriter):
    """hard_negatives.jsonl lines {id, image, positive, negatives: [{text, attribute, level}], subset, source} and images/."""

    def __init__(self, context: ExportContext):
        self.context = context
        self.column_names: list[str] = []
        self._images_init(context)
        self._hashed = HashingFile(context.root / HARD_NEGATIVE_FILE)
        self._file = io.TextIOWrapper(io.BufferedWriter(self._hashed), encoding="utf-8", newline="\n")
        unreviewed = any(p.name == UnreviewedHardNegativeColumns.name for p in context.columns)
        self.reviews = NOT_REJECTED if unreviewed else HUMAN_VALID
        self._pending: list[ExportRecord] = []

    def write(self, record: ExportRecord) -> None:
        self._pending.append(record)
        if len(self._pending) >= FORMAT_BATCH_SIZE:
            self._flush()

    def end_subset(self) -> None:
        self._flush()

    def close(self) -> None:
        self._flush()
        self._file.close()
        self.context.sink.add(self._hashed.written(name=HARD_NEGATIVE_FILE, kind="data"))

    def _flush(self) -> None:
        if not self._pending:
            return
        ids = [r.sample_id for r in self._pending]
        rows = HardNegative.objects.filter(sample_id__in=ids).order_by("sample_id", "turn_index", "phase", "slot", "pk").values_list(
            "sample_id", "positive", "text", "attribute", "level", "agent_verdict", "review"
        )
        positives: dict[int, str] = {}
        negatives: dict[int, list[dict[str, str]]] = defaultdict(list)
        for sample_id, positive, text, attribute, level, verdict, review in rows:
            positives.setdefault(sample_id, positive)
            if verdict == HardNegative.AgentVerdict.PASSED and review in self.reviews:
                negatives[sample_id].append({"text": text, "attribute": attribute, "level": level})
        for record in self._pending:
            line: dict[str, Any] = {"id": str(record.sample_id)}
            paths = [self._store_image(ref) for ref in record.images]
            if paths:
                line["image"] = paths[0] if len(paths) == 1 else paths
            line["positive"] = positives.get(record.sample_id)
            line["negatives"] = negatives.get(record.sample_id, [])
            line["subset"] = record.subset.name
            line["source"] = record.source
            self._file.write(json.dumps(line, ensure_ascii=False, separators=(",", ":")))
            self._file.write("\n")
        self._pending = []


@register_format
class HardNegativeJsonlFormat(ExportFormat):
    name = "hardneg_jsonl"  # Export.format holds 16 characters
    label = "Hard-negative set (JSONL + images)"
    description = (
        "hard_negatives.jsonl: image, positive, negatives [{text, attribute, level}]; human-valid negatives only, "
        "unless the 'Hard negatives (valid or not reviewed yet)' columns are chosen."
    )

    def open(self, context: ExportContext) -> HardNegativeJsonlWriter:
        return HardNegativeJsonlWriter(context)
