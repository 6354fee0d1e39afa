"""The built-in export filters: decision state, subset category, source, minimum quality ratings."""
from typing import Any

from django.conf import settings
from django.db.models import Count, Exists, OuterRef, QuerySet

from curation.exporters.registry import ExportFilter, Param, register_filter
from curation.models import Sample, SampleRating, Source, Subset
from curation.models.ratings import RATING_AXES, RatingAxis


def _source_choices() -> list[tuple[str, str]]:
    return [(str(pk), name) for pk, name in Source.objects.order_by("name").values_list("pk", "name")]


@register_filter
class DecisionFilter(ExportFilter):
    name = "decision"
    label = "Decision state"
    description = "Keep samples whose review decision is one of these; unless chosen here, only the default decisions are kept."
    params = (Param("statuses", "States", "choices", choices=lambda: list(Sample.Status.choices)),)

    # A property, read when used, so FINECURATE_EXPORT_DEFAULT_DECISIONS holds at run time.
    @property
    def default(self) -> dict[str, Any]:  # type: ignore[override]
        return {"statuses": list(settings.FINECURATE_EXPORT_DEFAULT_DECISIONS)}

    def apply(self, samples: QuerySet[Sample], params: dict[str, Any]) -> QuerySet[Sample]:
        return samples.filter(status__in=params["statuses"])

    def reasons(self, excluded: QuerySet[Sample], params: dict[str, Any]) -> dict[str, int]:
        rows = excluded.order_by().values_list("status").annotate(n=Count("id")).order_by("status")
        return {f"decision state {status}": n for status, n in rows}


@register_filter
class CategoryFilter(ExportFilter):
    name = "categories"
    label = "Subset category"
    description = "Keep samples of subsets in these categories."
    params = (Param("categories", "Categories", "choices", choices=lambda: list(Subset.Category.choices)),)

    def apply(self, samples: QuerySet[Sample], params: dict[str, Any]) -> QuerySet[Sample]:
        return samples.filter(subset__category__in=params["categories"])

    def reasons(self, excluded: QuerySet[Sample], params: dict[str, Any]) -> dict[str, int]:
        rows = excluded.order_by().values_list("subset__category").annotate(n=Count("id")).order_by("subset__category")
        return {f"category {category} not chosen": n for category, n in rows}


@register_filter
class SourceFilter(ExportFilter):
    name = "sources"
    label = "Source"
    description = "Keep samples that came from these sources."
    params = (Param("ids", "Sources", "ids", choices=_source_choices, help="Source ids"),)

    def apply(self, samples: QuerySet[Sample], params: dict[str, Any]) -> QuerySet[Sample]:
        return samples.filter(source_id__in=params["ids"])

    def reasons(self, excluded: QuerySet[Sample], params: dict[str, Any]) -> dict[str, int]:
        rows = excluded.order_by().values_list("source__name").annotate(n=Count("id")).order_by("source__name")
        return {f"source {name} not chosen": n for name, n in rows}


@register_filter
class RatingFilter(ExportFilter):
    name = "ratings"
    label = "Minimum quality ratings"
    description = (
        "Keep samples whose lowest rating on each axis (from their current judge) is at least the threshold; "
        "1 keeps every sample on that axis, rated or not. Off by default: every sample is kept with its ratings as columns."
    )
    params = tuple(Param(axis, f"{RatingAxis(axis).label} at least", "int", minimum=1, maximum=5) for axis in RATING_AXES)

    def _passing(self, axis: str, threshold: int) -> Exists:
        return Exists(SampleRating.objects.filter(sample=OuterRef("pk"), axis=axis, minimum__gte=threshold))

    def apply(self, samples: QuerySet[Sample], params: dict[str, Any]) -> QuerySet[Sample]:
        for axis in RATING_AXES:
            if params[axis] > 1:
                samples = samples.filter(self._passing(axis, params[axis]))
        return samples

    def reasons(self, excluded: QuerySet[Sample], params: dict[str, Any]) -> dict[str, int]:
        """Each excluded sample counted once, under the first axis it fails."""
        out: dict[str, int] = {}
        remaining = excluded
        for axis in RATING_AXES:
            threshold = params[axis]
            if threshold <= 1:
                continue
            failing = remaining.exclude(self._passing(axis, threshold))
            count = failing.count()
            if count:
                out[f"{axis} minimum below {threshold} or not rated"] = count
            remaining = remaining.filter(self._passing(axis, threshold))
        return out
