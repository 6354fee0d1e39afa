"""The manifest of an export: what went in, what came out and why, where it came from, and checksums."""
import importlib.metadata
import tomllib
from typing import Any

from django.conf import settings
from django.db.models import Count, QuerySet

from curation.exporters.registry import FILTERS, ColumnProvider, SubsetPart
from curation.models import Export, Sample, Source, Subset
from curation.subset_labels import SubsetLabels, samples_labels_by_subset

MANIFEST_FILE = "manifest.json"
IMAGE_NAMING = "images/<sha256[:2]>/<sha256>.<ext>: every image file is named by the sha256 of its bytes"


def software_version() -> str:
    """FineCurate's version: the installed package's, or pyproject.toml's when run from a source checkout."""
    try:
        return importlib.metadata.version("finecurate")
    except importlib.metadata.PackageNotFoundError:
        with (settings.BASE_DIR / "pyproject.toml").open("rb") as handle:
            return str(tomllib.load(handle)["project"]["version"])


def filter_results_entry(name: str, params: dict[str, Any], excluded: int, reasons: dict[str, int]) -> dict[str, Any]:
    export_filter = FILTERS[name]
    return {
        "name": name,
        "label": export_filter.label,
        "description": export_filter.describe(params),
        "params": params,
        # Whether these are the filter's default params (e.g. FINECURATE_EXPORT_DEFAULT_DECISIONS), not a choice.
        "default": export_filter.default is not None and params == export_filter.clean(export_filter.default),
        "excluded": excluded,
        "reasons": reasons,
    }


def _sources(samples: QuerySet[Sample]) -> list[dict[str, Any]]:
    counts = dict(samples.order_by().values_list("source_id").annotate(n=Count("id")))
    sources = Source.objects.filter(pk__in=list(counts)).order_by("name")
    return [
        {"name": s.name, "license": s.license, "citation": s.citation, "origin": s.origin, "samples": counts[s.pk],
         "label_origin": s.label_origin, "task": s.task_name}
        for s in sources
    ]


def _mapping_versions(samples: QuerySet[Sample]) -> list[dict[str, Any]]:
    rows = (
        samples.order_by()
        .values_list("source__name", "mapping__version", "mapping__status", "mapping__engine")
        .annotate(n=Count("id"))
        .order_by("source__name", "mapping__version")
    )
    return [
        {"source": source, "version": version, "status": status, "engine": engine or "", "samples": n}
        for source, version, status, engine, n in rows
    ]


def _subset_entry(part: SubsetPart, subset: Subset, counts_in: dict[int, int], counts_out: dict[int, int],
                  labels: SubsetLabels | None = None) -> dict[str, Any]:
    approver, approved_at = subset.approved_by, subset.approved_at
    return {
        "label_origins": labels.label_origins if labels else [],
        "tasks": labels.tasks if labels else [],
        "name": part.name,
        "slug": part.slug,
        "category": part.category,
        "approved_by": approver.get_username() if approver is not None else None,
        "approved_at": approved_at.isoformat() if approved_at is not None else None,
        "samples_in": counts_in.get(part.id, 0),
        "samples_out": counts_out.get(part.id, 0),
    }


def manifest_build(
    *,
    export: Export,
    parts: list[SubsetPart],
    filter_results: list[dict[str, Any]],
    counts_in: dict[int, int],
    counts_out: dict[int, int],
    samples: QuerySet[Sample],
    providers: list[ColumnProvider],
    files: list[dict[str, Any]],
    images: dict[str, Any] | None,
) -> dict[str, Any]:
    subsets = {s.pk: s for s in Subset.objects.filter(pk__in=[p.id for p in parts]).select_related("approved_by")}
    mapping_versions = _mapping_versions(samples)
    labels = samples_labels_by_subset(samples)
    checks = {}
    engines: dict[str, list[str]] = {"mapping": sorted({m["engine"] for m in mapping_versions if m["engine"]})}
    for provider in providers:
        summary = provider.summary(samples)
        if summary is not None:
            checks[provider.name] = summary
            if summary.get("engines"):
                engines[provider.name] = list(summary["engines"])
    manifest: dict[str, Any] = {
        "finecurate": {"version": software_version()},
        "export": {
            "id": export.pk,
            "name": export.name,
            "format": export.format,
            "created_by": export.created_by.get_username() if export.created_by else None,
            "created_at": export.created_at.isoformat() if export.created_at else None,
        },
        "subsets": [_subset_entry(part, subsets[part.id], counts_in, counts_out, labels.get(part.id)) for part in parts],
        "counts": {
            "in": sum(counts_in.values()),
            "out": sum(counts_out.values()),
            "excluded": sum(counts_in.values()) - sum(counts_out.values()),
            "excluded_by": {r["name"]: r["excluded"] for r in filter_results},
        },
        "filters": filter_results,
        "columns": [{"provider": p.name, "columns": [c.name for c in p.columns]} for p in providers],
        "checks": checks,
        "engines": engines,
        "mapping_versions": mapping_versions,
        "sources": _sources(samples),
        "files": files,
    }
    if images is not None:
        manifest["images"] = {**images, "naming": IMAGE_NAMING}
    return manifest
