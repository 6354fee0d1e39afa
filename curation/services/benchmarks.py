"""Benchmarks (test sets training data must not leak into): register from an image folder, an ingested
source, or precomputed embeddings (.npy + names, as FineVision released theirs); contamination rates.

Registration is a job (io queue): images are stored content-addressed like every other image and embedded
by the next leak check; precomputed vectors are stored as they are, with the engine that made them, and
can only be compared with a scan of the same engine.
"""
from pathlib import Path
from typing import Any

import numpy as np
from django.db import transaction
from django.db.models import Count, Q

from curation.engines.sscd import EMBEDDING_DIM, ENGINE_NAMES
from curation.errors import ApplicationError
from curation.ingest.readers.base import IMAGE_EXTENSIONS
from curation.ingest.readers.imagefolder import image_files
from curation.models import Benchmark, BenchmarkImage, DuplicatePair, Job, Sample, Source, SourceRow, Subset
from curation.services import job_kinds
from curation.services.actors import Actor
from curation.services.embeddings import vector_pack
from curation.services.images import ImageRejected, image_store_path
from curation.services.jobs import RowError, job_create, job_enqueue, job_progress, job_reject_rows
from curation.services.paths import PathNotAllowed, path_check_allowed

REGISTER_BATCH_SIZE = 500
MODES = ("folder", "source", "npy")


class BenchmarkInvalid(ApplicationError):
    code = "benchmark_invalid"
    status = 400


def benchmark_register(
    *,
    name: str,
    mode: str,
    path: str = "",
    source: Source | None = None,
    names_path: str = "",
    engine: str = "",
    split: str = "test",
    license: str = "",
    origin: str = "",
    by: Actor = None,
) -> tuple[Benchmark, Job]:
    """Create the benchmark and queue the job that reads its images (or vectors)."""
    name = name.strip()
    if not name:
        raise BenchmarkInvalid("give the benchmark a name")
    if Benchmark.objects.filter(name=name).exists():
        raise BenchmarkInvalid(f"a benchmark named {name} exists already")
    if mode not in MODES:
        raise BenchmarkInvalid(f"register from one of {', '.join(MODES)}, not {mode!r}")
    params: dict[str, Any] = {"mode": mode}
    try:
        if mode == "folder":
            folder = path_check_allowed(path=path)
            if not folder.is_dir():
                raise BenchmarkInvalid(f"{path} is not a folder")
            params["path"] = str(folder)
        elif mode == "source":
            if source is None:
                raise BenchmarkInvalid("choose the ingested source the benchmark's images come from")
            params["source"] = source.pk
        else:
            vectors, names = path_check_allowed(path=path), path_check_allowed(path=names_path)
            if not vectors.is_file() or not names.is_file():
                raise BenchmarkInvalid("precomputed benchmarks need a .npy file of vectors and a file of names, one a line")
            if engine not in ENGINE_NAMES:
                raise BenchmarkInvalid(f"say which engine made the vectors ({', '.join(ENGINE_NAMES)})")
            params.update(path=str(vectors), names=str(names))
    except PathNotAllowed as exc:
        raise BenchmarkInvalid(str(exc)) from exc
    with transaction.atomic():
        bench = Benchmark.objects.create(
            name=name, split=split, license=license, origin=origin or path, registered_from=mode, source=source,
            vector_engine=engine if mode == "npy" else "",
        )
        job = job_create(kind=job_kinds.BENCHMARK_REGISTER.key, target=bench, params=params, created_by=by)
        job_enqueue(job=job)
    return bench, job


def _add(bench: Benchmark, rows: list[BenchmarkImage]) -> None:
    BenchmarkImage.objects.bulk_create(rows, ignore_conflicts=True)


def benchmark_register_run(*, job: Job) -> dict[str, int]:
    """The job's body: read the folder, the source's images or the vectors into BenchmarkImage rows."""
    bench = Benchmark.objects.get(pk=int(job.target_id))
    mode = job.params["mode"]
    if mode == "folder":
        result = _from_folder(bench, job, Path(job.params["path"]))
    elif mode == "source":
        result = _from_source(bench, job, int(job.params["source"]))
    else:
        result = _from_npy(bench, job, Path(job.params["path"]), Path(job.params["names"]))
    Benchmark.objects.filter(pk=bench.pk).update(image_count=BenchmarkImage.objects.filter(benchmark=bench).count())
    job.result = result
    return result


def _from_folder(bench: Benchmark, job: Job, folder: Path) -> dict[str, int]:
    files = [p for p in image_files(folder) if p.suffix.lower() in IMAGE_EXTENSIONS]
    job_progress(job=job, done=0, total=len(files))
    rows: list[BenchmarkImage] = []
    errors: list[RowError] = []
    for number, file in enumerate(files):
        try:
            image = image_store_path(path=file)
        except ImageRejected as exc:
            errors.append(RowError(str(exc), row_number=number, location=str(file.relative_to(folder))))
            continue
        rows.append(BenchmarkImage(benchmark=bench, image=image, row_number=number, name=str(file.relative_to(folder))[:500]))
        if len(rows) >= REGISTER_BATCH_SIZE:
            _add(bench, rows)
            rows = []
            job_progress(job=job, done=number + 1)
    _add(bench, rows)
    job_reject_rows(job=job, errors=errors)
    job_progress(job=job, done=len(files))
    return {"images": len(files) - len(errors), "rejected": len(errors)}


def _from_source(bench: Benchmark, job: Job, source_id: int) -> dict[str, int]:
    rows = SourceRow.objects.filter(source_id=source_id).order_by("row_number").values_list("row_number", "image_shas")
    seen: set[str] = set()
    batch: list[BenchmarkImage] = []
    for row_number, shas in rows.iterator(chunk_size=REGISTER_BATCH_SIZE):
        for sha in shas or []:
            if sha not in seen:
                seen.add(sha)
                batch.append(BenchmarkImage(benchmark=bench, image_id=sha, row_number=row_number, name=f"row {row_number}"))
        if len(batch) >= REGISTER_BATCH_SIZE:
            _add(bench, batch)
            batch = []
            job_progress(job=job, done=len(seen))
    _add(bench, batch)
    if not seen:
        raise BenchmarkInvalid("the source has no ingested images")
    return {"images": len(seen)}


def _from_npy(bench: Benchmark, job: Job, vectors_path: Path, names_path: Path) -> dict[str, int]:
    try:
        vectors = np.load(vectors_path, mmap_mode="r")
    except (OSError, ValueError) as exc:
        raise BenchmarkInvalid(f"{vectors_path.name} is not a readable .npy file: {exc}") from exc
    names = [line.strip() for line in names_path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if vectors.ndim != 2 or vectors.shape[1] != EMBEDDING_DIM:
        raise BenchmarkInvalid(f"the vectors must be [n, {EMBEDDING_DIM}], not {list(vectors.shape)}")
    if len(names) != len(vectors):
        raise BenchmarkInvalid(f"{len(vectors)} vectors but {len(names)} names")
    job_progress(job=job, done=0, total=len(names))
    existing = BenchmarkImage.objects.filter(benchmark=bench).count()
    for start in range(existing, len(names), REGISTER_BATCH_SIZE):
        chunk = np.asarray(vectors[start : start + REGISTER_BATCH_SIZE], dtype=np.float32)
        chunk /= np.maximum(np.linalg.norm(chunk, axis=1, keepdims=True), 1e-12)
        _add(
            bench,
            [
                BenchmarkImage(benchmark=bench, row_number=start + i, name=names[start + i][:500], vector=vector_pack(v))
                for i, v in enumerate(chunk)
            ],
        )
        job_progress(job=job, done=start + len(chunk))
    return {"vectors": len(names)}


# --- contamination ---------------------------------------------------------------------------------


def contamination_for_subset(*, subset: Subset) -> dict[str, Any]:
    """Share of the subset's samples flagged as leaks (before review) and confirmed (after review), per benchmark."""
    total = Sample.objects.filter(subset=subset).count()
    leaks = DuplicatePair.objects.filter(kind=DuplicatePair.Kind.LEAK, flagged=True, a_sample__subset=subset)
    flagged = leaks.values("a_sample").distinct().count()
    confirmed = leaks.filter(status=DuplicatePair.Status.LEAK).values("a_sample").distinct().count()
    open_ = leaks.filter(status=DuplicatePair.Status.OPEN).values("a_sample").distinct().count()
    per_bench = (
        leaks.order_by()
        .values("benchmark__name", "benchmark_id")
        .annotate(
            flagged=Count("a_sample", distinct=True),
            confirmed=Count("a_sample", distinct=True, filter=Q(status=DuplicatePair.Status.LEAK)),
        )
        .order_by("benchmark__name")
    )
    return {
        "samples": total,
        "flagged": flagged,
        "confirmed": confirmed,
        "open": open_,
        "rate_before": flagged / total if total else 0.0,
        "rate_after": confirmed / total if total else 0.0,
        "benchmarks": [
            {**row, "rate_before": row["flagged"] / total if total else 0.0, "rate_after": row["confirmed"] / total if total else 0.0}
            for row in per_bench
        ],
    }


def contamination_for_benchmark(*, benchmark: Benchmark) -> dict[str, Any]:
    """How much of the benchmark leaked into the corpus: its images matched, per subset, before and after review."""
    leaks = DuplicatePair.objects.filter(kind=DuplicatePair.Kind.LEAK, flagged=True, benchmark=benchmark)
    total = benchmark.image_count or BenchmarkImage.objects.filter(benchmark=benchmark).count()
    flagged = leaks.values("benchmark_image").distinct().count()
    confirmed = leaks.filter(status=DuplicatePair.Status.LEAK).values("benchmark_image").distinct().count()
    per_subset = (
        leaks.order_by()
        .values("a_sample__subset__name", "a_sample__subset_id")
        .annotate(
            flagged=Count("a_sample", distinct=True),
            confirmed=Count("a_sample", distinct=True, filter=Q(status=DuplicatePair.Status.LEAK)),
        )
        .order_by("a_sample__subset__name")
    )
    subsets = []
    for row in per_subset:
        size = Sample.objects.filter(subset_id=row["a_sample__subset_id"]).count()
        subsets.append({**row, "samples": size, "rate_before": row["flagged"] / size if size else 0.0, "rate_after": row["confirmed"] / size if size else 0.0})
    return {
        "images": total,
        "flagged": flagged,
        "confirmed": confirmed,
        "rate_before": flagged / total if total else 0.0,
        "rate_after": confirmed / total if total else 0.0,
        "subsets": subsets,
    }
