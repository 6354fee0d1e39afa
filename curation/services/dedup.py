"""Find near-duplicates inside subsets and leaks of benchmarks into them: embed, search, verify, group, queue.

A scan moves embedding -> searching -> finishing -> done. Embedding fans out into batches (job kind
embed_batch, gpu queue); searching writes the vectors and the FAISS index once under MEDIA_ROOT and fans
out into query batches (dedup_search_batch) that any worker runs; each batch verifies its candidates
(cosine >= verify_threshold) with the verifier and upserts pairs by their natural key, so a re-run keeps
the reviewers' decisions. The last batch of a stage advances the scan (a compare-and-set on its state, so
two workers never both do it). A pair is flagged when the verifier confirms it or its cosine reaches the
scan's threshold. Finishing groups flagged pairs into clusters and fills the review queues.
"""
import json
import shutil
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from curation.engines.sscd import embedding_engine
from curation.engines.sscd_verify import OrbRansacVerifier, Verification
from curation.errors import ApplicationError
from curation.models import (
    Benchmark,
    BenchmarkImage,
    DuplicatePair,
    DuplicateScan,
    Image,
    Job,
    SampleImage,
    Subset,
)
from curation.services import job_kinds
from curation.services.actors import Actor, actor_user
from curation.services.dedup_index import scan_index_write, scan_slice_search, scan_slices
from curation.services.embeddings import (
    EMBED_JOB_BATCH_SIZE,
    embeddings_compute,
    embeddings_load,
    embeddings_missing,
    vectors_unpack,
)
from curation.services.images import image_file_path
from curation.services.jobs import job_create, job_enqueue, job_fan_out, job_heartbeat, job_progress
from curation.services.review import review_queue_for
from curation.services.review_fill import review_queue_fill

UPSERT_BATCH = 1_000
PAIR_FIELDS = ["scan", "similarity", "verify_score", "verified", "flagged", "evidence", "engine", "verifier"]


class DedupInvalid(ApplicationError):
    code = "dedup_invalid"
    status = 400


def _scan_dir(scan: DuplicateScan) -> Path:
    return Path(settings.MEDIA_ROOT) / "dedup" / f"scan-{scan.pk}"


def copy_flagged(*, similarity: float, verification: Verification | None, threshold: float) -> bool:
    """The documented decision: a copy when the verifier confirms it, or the cosine alone reaches the threshold."""
    return similarity >= threshold or (verification is not None and verification.verified)


# --- start ------------------------------------------------------------------------------------------


def dedup_scan_start(
    *,
    kind: str,
    subsets: Iterable[Subset],
    benchmarks: Iterable[Benchmark] = (),
    threshold: float | None = None,
    verify_threshold: float | None = None,
    engine: str | None = None,
    by: Actor = None,
) -> DuplicateScan:
    """Start a scan: "duplicate" inside the subsets (together), or "leak" of the benchmarks into them."""
    subsets = list(subsets)
    benchmarks = list(benchmarks)
    if kind not in DuplicateScan.Kind.values:
        raise DedupInvalid(f"unknown scan kind {kind!r} (duplicate or leak)")
    if not subsets:
        raise DedupInvalid("choose at least one subset")
    if kind == DuplicateScan.Kind.LEAK and not benchmarks:
        raise DedupInvalid("a leak check needs at least one registered benchmark")
    threshold = settings.FINECURATE_DUPLICATE_THRESHOLD if threshold is None else float(threshold)
    verify_threshold = settings.FINECURATE_VERIFY_THRESHOLD if verify_threshold is None else float(verify_threshold)
    if not (0.0 <= verify_threshold <= threshold <= 1.0):
        raise DedupInvalid(f"thresholds must satisfy 0 <= verify ({verify_threshold}) <= flag ({threshold}) <= 1")
    embedder = embedding_engine(engine)
    status = embedder.available()
    if not status.ok:
        raise DedupInvalid(f"the embedding engine {embedder.name} cannot run: {status.reason}")
    for bench in benchmarks:
        if bench.vector_engine and bench.vector_engine != embedder.name:
            raise DedupInvalid(
                f"benchmark {bench.name} has precomputed vectors of {bench.vector_engine}, not {embedder.name}: "
                "they cannot be compared"
            )
    verifier = OrbRansacVerifier()
    with transaction.atomic():
        scan = DuplicateScan.objects.create(
            kind=kind,
            threshold=threshold,
            verify_threshold=verify_threshold,
            engine=embedder.name,
            engine_version=embedder.version,
            verifier=f"{verifier.name} {verifier.version}",
            created_by=actor_user(by),
        )
        scan.subsets.set(subsets)
        scan.benchmarks.set(benchmarks)
        job = job_create(kind=job_kinds.EMBED_IMAGES.key, target=scan, params={"scan": scan.pk}, created_by=by)
        scan.embed_job = job
        scan.save(update_fields=["embed_job"])
        job_enqueue(job=job)
    return scan


# --- what a scan covers -----------------------------------------------------------------------------


def _corpus_images(scan: DuplicateScan) -> list[str]:
    rows = SampleImage.objects.filter(sample__subset__in=scan.subsets.all()).order_by().values_list("image_id", flat=True)
    return sorted(set(rows))


def _benchmark_rows(scan: DuplicateScan) -> list[tuple[int, str | None]]:
    rows = BenchmarkImage.objects.filter(benchmark__in=scan.benchmarks.all()).order_by("pk").values_list("pk", "image_id")
    return list(rows)


# --- stage 1: embed ---------------------------------------------------------------------------------


def dedup_embed_plan(*, job: Job) -> int:
    """Fan the scan's images that lack a vector out into embedding batches; returns how many batches."""
    scan = DuplicateScan.objects.get(pk=job.params["scan"])
    wanted = _corpus_images(scan) + [image for _, image in _benchmark_rows(scan) if image]
    missing = embeddings_missing(image_ids=wanted, engine=scan.engine)
    batches = [missing[i : i + EMBED_JOB_BATCH_SIZE] for i in range(0, len(missing), EMBED_JOB_BATCH_SIZE)]
    if not batches:
        job.result = {"images": len(wanted), "embedded": 0}
        return 0
    with transaction.atomic():
        job_fan_out(
            parent=job,
            kind=job_kinds.EMBED_BATCH.key,
            params_list=[{"scan": scan.pk, "images": batch} for batch in batches],
            totals=[len(b) for b in batches],
        )
    return len(batches)


def dedup_embed_batch(*, job: Job) -> dict[str, int]:
    scan = DuplicateScan.objects.get(pk=job.params["scan"])
    parent = Job.objects.get(pk=job.parent_id) if job.parent_id else None

    def beat(done: int) -> None:
        job_progress(job=job, done=done)
        if parent is not None:
            job_heartbeat(job=parent)  # a cancelled scan stops its batches too

    result = embeddings_compute(image_ids=list(job.params["images"]), engine=scan.engine, on_batch=beat)
    job.result = result
    return result


# --- stage 2: search --------------------------------------------------------------------------------


def dedup_scan_advance(*, scan_id: int) -> DuplicateScan:
    """Move the scan on when its current stage's job has finished; safe to call any number of times."""
    scan = DuplicateScan.objects.select_related("embed_job", "search_job").get(pk=scan_id)
    stage = scan.search_job or scan.embed_job
    if scan.state == DuplicateScan.State.FAILED and stage is not None and stage.state == Job.State.SUCCEEDED:
        # The stage's job failed (a batch failed, lost its worker and was cancelled, ...) and was then retried to
        # the end: the scan takes up again where it stopped.
        resumed = DuplicateScan.State.SEARCHING if scan.search_job else DuplicateScan.State.EMBEDDING
        DuplicateScan.objects.filter(pk=scan.pk, state=DuplicateScan.State.FAILED).update(state=resumed, message="", finished_at=None)
        scan.refresh_from_db()
    if scan.state == DuplicateScan.State.EMBEDDING and scan.embed_job and scan.embed_job.is_finished:
        if scan.embed_job.state != Job.State.SUCCEEDED:
            return _scan_fail(scan, f"embedding {scan.embed_job.state}: {scan.embed_job.message}")
        if DuplicateScan.objects.filter(pk=scan.pk, state=DuplicateScan.State.EMBEDDING).update(state=DuplicateScan.State.SEARCHING):
            with transaction.atomic():
                job = job_create(
                    kind=job_kinds.DEDUP_SEARCH.key, target=scan, params={"scan": scan.pk}, created_by=scan.created_by
                )
                DuplicateScan.objects.filter(pk=scan.pk).update(search_job=job)
                job_enqueue(job=job)
    elif scan.state == DuplicateScan.State.SEARCHING and scan.search_job and scan.search_job.is_finished:
        if scan.search_job.state != Job.State.SUCCEEDED:
            return _scan_fail(scan, f"search {scan.search_job.state}: {scan.search_job.message}")
        if DuplicateScan.objects.filter(pk=scan.pk, state=DuplicateScan.State.SEARCHING).update(state=DuplicateScan.State.FINISHING):
            dedup_scan_finish(scan=DuplicateScan.objects.get(pk=scan.pk))
    scan.refresh_from_db()
    return scan


def dedup_job_cancelled(*, job: Job) -> None:
    """A scan's job (or batch) cancelled while no worker ran it: the scan is moved on (to failed) as the task would
    have done on seeing the cancel; else it would show 'embedding' or 'searching' for ever (job_kinds settle)."""
    if "scan" in job.params:
        dedup_scan_advance(scan_id=int(job.params["scan"]))


def _scan_fail(scan: DuplicateScan, message: str) -> DuplicateScan:
    DuplicateScan.objects.filter(pk=scan.pk).exclude(state=DuplicateScan.State.DONE).update(
        state=DuplicateScan.State.FAILED, message=message[:5000], finished_at=timezone.now()
    )
    scan.refresh_from_db()
    return scan


def dedup_search_plan(*, job: Job) -> int:
    """Write the vectors and index under the scan's folder, then fan the queries out; returns how many batches."""
    scan = DuplicateScan.objects.get(pk=job.params["scan"])
    folder = _scan_dir(scan)
    folder.mkdir(parents=True, exist_ok=True)
    corpus_ids, corpus = embeddings_load(image_ids=_corpus_images(scan), engine=scan.engine)
    np.save(folder / "corpus.npy", corpus.astype(np.float16))
    (folder / "corpus.json").write_text(json.dumps(corpus_ids))
    if scan.kind == DuplicateScan.Kind.LEAK:
        bench_ids, base = _benchmark_vectors(scan)
        (folder / "bench.json").write_text(json.dumps(bench_ids))
    else:
        base = corpus
    label = scan_index_write(folder=folder, base=base).label if len(base) else ""
    DuplicateScan.objects.filter(pk=scan.pk).update(vectors=len(corpus) + (len(base) if base is not corpus else 0), index_kind=label)
    slices = scan_slices(len(corpus)) if len(base) else []
    if not slices:
        job.result = {"queries": 0}
        return 0
    with transaction.atomic():
        job_fan_out(
            parent=job,
            kind=job_kinds.DEDUP_SEARCH_BATCH.key,
            params_list=[{"scan": scan.pk, "start": start, "stop": stop} for start, stop in slices],
            totals=[stop - start for start, stop in slices],
        )
    return len(slices)


def _benchmark_vectors(scan: DuplicateScan) -> tuple[list[int], np.ndarray]:
    rows = _benchmark_rows(scan)
    with_image = [(pk, image) for pk, image in rows if image]
    image_ids, image_vectors = embeddings_load(image_ids=[image for _, image in with_image], engine=scan.engine)
    by_image = {image: i for i, image in enumerate(image_ids)}
    ids: list[int] = []
    parts: list[np.ndarray] = []
    keep = [(pk, by_image[image]) for pk, image in with_image if image in by_image]
    if keep:
        ids.extend(pk for pk, _ in keep)
        parts.append(image_vectors[[i for _, i in keep]])
    precomputed = list(
        BenchmarkImage.objects.filter(benchmark__in=scan.benchmarks.all(), image__isnull=True, vector__isnull=False)
        .order_by("pk")
        .values_list("pk", "vector")
    )
    if precomputed:
        ids.extend(pk for pk, _ in precomputed)
        parts.append(vectors_unpack(v for _, v in precomputed))
    if not parts:
        return [], np.zeros((0, 512), dtype=np.float32)
    return ids, np.concatenate(parts).astype(np.float32)


def dedup_search_batch(*, job: Job) -> dict[str, int]:
    """Search one slice of the corpus, verify the candidates, upsert the pairs."""
    scan = DuplicateScan.objects.get(pk=job.params["scan"])
    start, stop = int(job.params["start"]), int(job.params["stop"])
    folder = _scan_dir(scan)
    corpus = np.load(folder / "corpus.npy", mmap_mode="r")
    corpus_ids: list[str] = json.loads((folder / "corpus.json").read_text())
    leak = scan.kind == DuplicateScan.Kind.LEAK
    q, b, sims = scan_slice_search(
        folder=folder, queries=corpus, start=start, stop=stop, threshold=scan.verify_threshold, self_join=not leak
    )
    parent = Job.objects.get(pk=job.parent_id) if job.parent_id else None
    job_progress(job=job, done=0, total=len(q))
    if leak:
        written = _leak_pairs_write(scan, job, parent, corpus_ids, json.loads((folder / "bench.json").read_text()), q, b, sims)
    else:
        written = _duplicate_pairs_write(scan, job, parent, corpus_ids, q, b, sims)
    job_progress(job=job, done=len(q))  # the ticks come every 20 candidates; the last few are done too
    # The scan's candidates are summed from its batches' results when it finishes (dedup_scan_finish), not added
    # here: a batch whose worker died after such an addition would add its candidates twice when retried.
    job.result = {"queries": stop - start, "candidates": int(len(q)), "pairs": written}
    return job.result


def _samples_of(scan: DuplicateScan, image_ids: set[str]) -> dict[str, list[int]]:
    rows = SampleImage.objects.filter(image_id__in=image_ids, sample__subset__in=scan.subsets.all()).values_list("image_id", "sample_id")
    out: dict[str, list[int]] = defaultdict(list)
    for image, sample in rows:
        if sample not in out[image]:
            out[image].append(sample)
    return out


def _image_paths(image_ids: set[str]) -> dict[str, Path]:
    """Files of these images, in one query (not one per pair)."""
    return {img.pk: image_file_path(image=img) for img in Image.objects.filter(pk__in=image_ids)}


def _verify(verifier: OrbRansacVerifier, a_path: Path | None, b_path: Path | None) -> Verification | None:
    if a_path is None or b_path is None:
        return None
    try:
        return verifier.verify(a_path.read_bytes(), b_path.read_bytes())
    except (OSError, ValueError):
        return None


def _tick(job: Job, parent: Job | None, done: int) -> None:
    job_progress(job=job, done=done)
    if parent is not None:
        job_heartbeat(job=parent)


def _pair_values(scan: DuplicateScan, similarity: float, verification: Verification | None) -> dict[str, Any]:
    return {
        "scan": scan,
        "similarity": round(float(similarity), 6),
        "verify_score": verification.score if verification is not None else None,
        "verified": bool(verification and verification.verified),
        "flagged": copy_flagged(similarity=similarity, verification=verification, threshold=scan.threshold),
        "evidence": verification.evidence() if verification is not None else {},
        "engine": f"{scan.engine} {scan.engine_version}".strip(),
        "verifier": scan.verifier if verification is not None else "",
    }


def _upsert(pairs: list[DuplicatePair], unique: list[str]) -> None:
    for i in range(0, len(pairs), UPSERT_BATCH):
        DuplicatePair.objects.bulk_create(pairs[i : i + UPSERT_BATCH], update_conflicts=True, unique_fields=unique, update_fields=PAIR_FIELDS)


def _duplicate_pairs_write(
    scan: DuplicateScan, job: Job, parent: Job | None, ids: list[str], q: np.ndarray, b: np.ndarray, sims: np.ndarray
) -> int:
    verifier = OrbRansacVerifier()
    involved = {ids[i] for i in q} | {ids[i] for i in b}
    samples = _samples_of(scan, involved)
    paths = _image_paths(involved)
    pairs: list[DuplicatePair] = []
    for n, (qi, bi, sim) in enumerate(zip(q, b, sims, strict=True)):
        u, v = ids[qi], ids[bi]
        verification = _verify(verifier, paths.get(u), paths.get(v))
        values = _pair_values(scan, float(sim), verification)
        for sa in samples.get(u, []):
            for sb in samples.get(v, []):
                if sa == sb:
                    continue
                (a_s, a_i), (b_s, b_i) = sorted([(sa, u), (sb, v)])
                pairs.append(DuplicatePair(kind=DuplicatePair.Kind.DUPLICATE, a_sample_id=a_s, a_image_id=a_i, b_sample_id=b_s, b_image_id=b_i, **values))
        if n % 20 == 19:
            _tick(job, parent, n + 1)
    _upsert(pairs, ["a_sample", "a_image", "b_sample", "b_image"])
    return len(pairs)


def _leak_pairs_write(
    scan: DuplicateScan,
    job: Job,
    parent: Job | None,
    ids: list[str],
    bench_ids: list[int],
    q: np.ndarray,
    b: np.ndarray,
    sims: np.ndarray,
) -> int:
    verifier = OrbRansacVerifier()
    involved = {ids[i] for i in q}
    samples = _samples_of(scan, involved)
    paths = _image_paths(involved)
    bench_rows = {
        row.pk: row for row in BenchmarkImage.objects.filter(pk__in={bench_ids[i] for i in b}).select_related("image")
    }
    pairs: list[DuplicatePair] = []
    for n, (qi, bi, sim) in enumerate(zip(q, b, sims, strict=True)):
        row = bench_rows[bench_ids[bi]]
        path = image_file_path(image=row.image) if row.image is not None else None
        verification = _verify(verifier, paths.get(ids[qi]), path)
        values = _pair_values(scan, float(sim), verification)
        for sample in samples.get(ids[qi], []):
            pairs.append(
                DuplicatePair(
                    kind=DuplicatePair.Kind.LEAK, a_sample_id=sample, a_image_id=ids[qi], benchmark_id=row.benchmark_id, benchmark_image=row, **values
                )
            )
        if n % 20 == 19:
            _tick(job, parent, n + 1)
    _upsert(pairs, ["a_sample", "a_image", "benchmark_image"])
    return len(pairs)


# --- stage 3: finish --------------------------------------------------------------------------------


def _identical_pairs(scan: DuplicateScan) -> int:
    """Samples that share the very same image bytes (one Image row): copies at cosine 1, no search needed."""
    rows = SampleImage.objects.filter(sample__subset__in=scan.subsets.all()).order_by("image_id", "sample_id").values_list("image_id", "sample_id")
    by_image: dict[str, list[int]] = defaultdict(list)
    for image, sample in rows:
        if not by_image[image] or by_image[image][-1] != sample:
            by_image[image].append(sample)
    pairs = []
    for image, sample_ids in by_image.items():
        for i, sa in enumerate(sample_ids):
            for sb in sample_ids[i + 1 :]:
                pairs.append(
                    DuplicatePair(
                        kind=DuplicatePair.Kind.DUPLICATE, a_sample_id=sa, a_image_id=image, b_sample_id=sb, b_image_id=image,
                        scan=scan, similarity=1.0, verify_score=1.0, verified=True, flagged=True,
                        evidence={"identical": True}, engine="sha256", verifier="identical bytes",
                    )
                )
    _upsert(pairs, ["a_sample", "a_image", "b_sample", "b_image"])
    return len(pairs)


def dedup_clusters_assign(*, kind: str, subsets: Iterable[Subset]) -> int:
    """Connected components of the flagged pairs touching these subsets; cluster = the smallest pair id in it."""
    pairs = list(
        DuplicatePair.objects.filter(kind=kind, flagged=True, a_sample__subset__in=list(subsets))
        .order_by("pk")
        .values_list("pk", "a_sample_id", "b_sample_id", "benchmark_image_id")
    )
    parent: dict[tuple[str, int], tuple[str, int]] = {}

    def find(x: tuple[str, int]) -> tuple[str, int]:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for _, a, b_sample, b_bench in pairs:
        other = ("s", b_sample) if b_sample is not None else ("b", b_bench)
        ra, rb = find(("s", a)), find(other)
        if ra != rb:
            parent[rb] = ra
    cluster_of: dict[tuple[str, int], int] = {}
    updates = []
    for pk, a, _, _ in pairs:
        root = find(("s", a))
        cluster_of.setdefault(root, pk)
        updates.append(DuplicatePair(pk=pk, cluster=cluster_of[root]))
    DuplicatePair.objects.bulk_update(updates, ["cluster"], batch_size=UPSERT_BATCH)
    return len(cluster_of)


def _scan_candidates(scan: DuplicateScan) -> int:
    """The candidates of the scan's search: the sum over its batches, each counted once however often it ran."""
    if scan.search_job_id is None:
        return 0
    results = Job.objects.filter(parent_id=scan.search_job_id, state=Job.State.SUCCEEDED).values_list("result", flat=True)
    return sum(int((result or {}).get("candidates", 0)) for result in results)


def dedup_scan_finish(*, scan: DuplicateScan) -> DuplicateScan:
    if scan.kind == DuplicateScan.Kind.DUPLICATE:
        _identical_pairs(scan)
    subsets = list(scan.subsets.all())
    dedup_clusters_assign(kind=scan.kind, subsets=subsets)
    for subset in subsets:
        queue = review_queue_for(kind=scan.kind, subset=subset, by=scan.created_by)
        review_queue_fill(queue=queue)
    flagged = DuplicatePair.objects.filter(scan=scan, flagged=True).count()
    DuplicateScan.objects.filter(pk=scan.pk).update(
        state=DuplicateScan.State.DONE, flagged=flagged, candidates=_scan_candidates(scan), finished_at=timezone.now()
    )
    shutil.rmtree(_scan_dir(scan), ignore_errors=True)
    scan.refresh_from_db()
    return scan
