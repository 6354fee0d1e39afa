"""Write one export: apply the filters (counting what each excluded), stream the records to the format's
writer subset by subset, checksum every file into ExportFile rows, and build the manifest."""
import hashlib
import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connection
from django.db.models import Count, QuerySet
from django.utils.text import slugify

from curation.bulk_copy import rows_upsert_by_copy
from curation.exporters.manifest import MANIFEST_FILE, filter_results_entry, manifest_build
from curation.exporters.records import SAMPLE_BATCH_SIZE, ExportDataError, record_batches
from curation.exporters.registry import (
    FILTERS,
    ExportContext,
    SubsetPart,
    WrittenFile,
    columns_for,
    filters_clean,
    format_get,
)
from curation.models import Export, ExportFile, Sample, Source, Subset

# ExportFile rows are written this many at a time (an LLaVA export has one per image).
FILE_ROW_BATCH = 1000
HASH_CHUNK = 1024 * 1024
SLUG_MAX = 80


def export_root(export: Export) -> Path:
    return Path(settings.MEDIA_ROOT) / "exports" / str(export.pk)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class ExportFileSink:
    """Receives every file a writer finishes: checksums it and stores ExportFile rows in batches.

    Keeps the data and metadata files for the manifest; images are only counted (they are named by their sha256).
    """

    def __init__(self, export: Export, root: Path):
        self.export = export
        self.root = root
        # Where the export's files are under MEDIA_ROOT, worked out once (this runs once per exported image).
        self._storage_prefix = str(root.relative_to(Path(settings.MEDIA_ROOT)))
        self.listed: list[dict[str, Any]] = []
        self.image_count = 0
        self.image_bytes = 0
        self._pending: list[tuple[str, str, str, int, str]] = []

    def add(self, written: WrittenFile) -> None:
        size, sha256 = written.size, written.sha256
        if size is None or not sha256:
            path = self.root / written.name
            size = size if size is not None else path.stat().st_size
            sha256 = sha256 or file_sha256(path)
        storage_name = f"{self._storage_prefix}/{written.name}"
        self._pending.append((written.name, written.kind, storage_name, size, sha256))
        if written.kind == ExportFile.Kind.IMAGE:
            self.image_count += 1
            self.image_bytes += size
        else:
            self.listed.append({"name": written.name, "kind": written.kind, "size": size, "sha256": sha256})
        if len(self._pending) >= FILE_ROW_BATCH:
            self.flush()

    def flush(self) -> None:
        if not self._pending:
            return
        if connection.vendor == "postgresql":
            # A retried export rewrites the rows it wrote before.
            rows_upsert_by_copy(
                table=ExportFile._meta.db_table,
                columns=(("export_id", "bigint"), ("name", "text"), ("kind", "text"), ("storage_name", "text"),
                         ("size", "bigint"), ("sha256", "text")),
                rows=((self.export.pk, *pending) for pending in self._pending),
                on_conflict="ON CONFLICT (export_id, name) DO UPDATE SET kind = EXCLUDED.kind, "
                "storage_name = EXCLUDED.storage_name, size = EXCLUDED.size, sha256 = EXCLUDED.sha256",
            )
        else:
            ExportFile.objects.bulk_create(
                [ExportFile(export=self.export, name=name, kind=kind, storage_name=storage_name, size=size, sha256=sha256)
                 for name, kind, storage_name, size, sha256 in self._pending],
                update_conflicts=True,
                unique_fields=["export", "name"],
                update_fields=["kind", "storage_name", "size", "sha256"],
            )
        self._pending = []


def subset_parts(subsets: list[Subset]) -> list[SubsetPart]:
    """Subsets in name order with folder-safe slugs, unique within the export."""
    parts: list[SubsetPart] = []
    seen: set[str] = set()
    for subset in sorted(subsets, key=lambda s: s.name):
        slug = slugify(subset.name)[:SLUG_MAX].strip("-") or f"subset-{subset.pk}"
        if slug in seen:
            slug = f"{slug}-{subset.pk}"
        seen.add(slug)
        parts.append(SubsetPart(id=subset.pk, name=subset.name, slug=slug, category=subset.category))
    return parts


def filters_apply(samples: QuerySet[Sample], filters: dict[str, dict[str, Any]]) -> tuple[QuerySet[Sample], list[dict[str, Any]]]:
    """The narrowed queryset, and for each filter in order how many samples it excluded and why."""
    results = []
    before = samples.count()
    for name, params in filters.items():
        narrowed = FILTERS[name].apply(samples, params)
        after = narrowed.count()
        excluded = before - after
        reasons = FILTERS[name].reasons(samples.exclude(pk__in=narrowed.values("pk")), params) if excluded else {}
        results.append(filter_results_entry(name, params, excluded, reasons))
        samples, before = narrowed, after
    return samples, results


def _counts_by_subset(samples: QuerySet[Sample]) -> dict[int, int]:
    return dict(samples.order_by().values_list("subset_id").annotate(n=Count("id")))


def export_write(*, export: Export, root: Path, on_progress: Callable[[int, int], None],
                 timings: dict[str, float] | None = None) -> dict[str, Any]:
    """Write every file of the export under `root` (which must be empty) and return the manifest.

    `timings`, when given, gets the seconds spent choosing the samples (filters and counts), reading them
    (queries and records), writing (image bytes and the format's files) and finishing (card, manifest, file rows)."""
    timings = timings if timings is not None else {}
    for step in ("select", "read", "write", "finish"):
        timings[step] = 0.0
    clock = time.perf_counter()
    export_format = format_get(export.format)
    providers = columns_for(export.columns)
    filters = filters_clean(export.filters)
    parts = subset_parts(list(export.subsets.all()))
    base = Sample.objects.filter(subset_id__in=[p.id for p in parts])
    samples, filter_results = filters_apply(base, filters)
    counts_in = _counts_by_subset(base)
    counts_out = _counts_by_subset(samples)
    total = sum(counts_out.values())
    if not total:
        why = "; ".join(f"{r['description']}: {r['excluded']} excluded" for r in filter_results) or "the subsets are empty"
        raise ExportDataError(f"no sample of the chosen subsets passes the filters ({why})")
    on_progress(0, total)

    sources = dict(Source.objects.filter(pk__in=samples.order_by().values("source_id")).values_list("pk", "name"))
    sink = ExportFileSink(export, root)
    title = export.name or "FineCurate export: " + ", ".join(p.name for p in parts)
    context = ExportContext(root=root, title=title, subsets=parts, columns=providers, sink=sink)
    writer = export_format.open(context)
    done = 0
    now = time.perf_counter()
    timings["select"] += now - clock
    clock = now
    try:
        for part in parts:
            writer.begin_subset(part)
            for batch in record_batches(
                samples.filter(subset_id=part.id),
                part=part,
                sources=sources,
                providers=providers,
                media_root=Path(settings.MEDIA_ROOT),
                batch_size=SAMPLE_BATCH_SIZE,
            ):
                now = time.perf_counter()
                timings["read"] += now - clock
                clock = now
                for record in batch:
                    writer.write(record)
                done += len(batch)
                on_progress(done, total)
                now = time.perf_counter()
                timings["write"] += now - clock
                clock = now
            writer.end_subset()
    finally:
        writer.close()
    now = time.perf_counter()
    timings["write"] += now - clock
    clock = now

    images = {"count": sink.image_count, "bytes": sink.image_bytes} if sink.image_count else None
    manifest = manifest_build(
        export=export,
        parts=parts,
        filter_results=filter_results,
        counts_in=counts_in,
        counts_out=counts_out,
        samples=samples,
        providers=providers,
        files=list(sink.listed),
        images=images,
    )
    export_format.finalize(context, manifest)
    manifest["files"] = list(sink.listed)  # a copy: the manifest does not list itself
    (root / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    sink.add(WrittenFile(name=MANIFEST_FILE, kind=ExportFile.Kind.METADATA))
    sink.flush()
    timings["finish"] += time.perf_counter() - clock
    for step, seconds in timings.items():
        timings[step] = round(seconds, 3)
    return manifest
