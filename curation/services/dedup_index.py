"""All pairs above a cosine: exact for small sets, an inverted file (IVF) searched cell by cell beyond.

Vectors are L2-normalised, so inner product is cosine. Up to EXACT_LIMIT vectors every query is compared
with every base vector. Beyond it the base vectors are split into `nlist` cells by k-means (FAISS, trained
on a sample; both chosen by size) and each query is compared with the vectors of its `nprobe` nearest
cells only. The comparison is done a cell at a time: all the queries of a batch that probe a cell are
gathered and multiplied with that cell's vectors in one matrix product (BLAS), so each cell is read once
per batch instead of once per query, and the cosines are exact float32 (no codes, no re-check needed).
The vectors come as float16 from the store and are widened exactly, so the figures are those of Flat on
the stored vectors; the only approximation is which cells a query probes.

The index lives in a folder (index_save / index_load, memory-mapped) so the child jobs of a scan share it.
"""
import json
import math
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import faiss
import numpy as np
from threadpoolctl import threadpool_limits

EXACT_LIMIT = 50_000
TRAIN_PER_CELL = 16  # k-means sample: this many vectors per cell
KMEANS_ITERATIONS = 5  # rough cells are enough: a pair split across two cells is found by probing both
QUERY_BATCH = 50_000  # queries grouped by cell together (larger: bigger matrix products, more memory)
SEARCH_JOB_QUERIES = 50_000  # query vectors per search child job (one Celery task)
BLOCK_ROWS = 4_096  # query rows and base rows per matrix product, so a product stays within 64 MB


@dataclass(frozen=True)
class SearchPlan:
    kind: str  # "exact" or "ivf"
    nlist: int = 1
    nprobe: int = 1

    @property
    def label(self) -> str:
        return "exact (flat)" if self.kind == "exact" else f"IVF{self.nlist}, nprobe {self.nprobe}, exact float32 per cell"


def search_plan(n: int) -> SearchPlan:
    """The index for n vectors: exact up to EXACT_LIMIT, else IVF with ~4 sqrt(n) cells and nprobe by size."""
    if n <= EXACT_LIMIT:
        return SearchPlan("exact")
    nlist = int(min(65_536, max(256, 4 * math.sqrt(n))))
    nprobe = max(16, nlist // 128)
    return SearchPlan("ivf", nlist=nlist, nprobe=nprobe)


@dataclass
class CellIndex:
    """Base vectors grouped by cell: cell c is rows offsets[c]:offsets[c + 1] of `vectors`, whose base
    positions are `order[...]`. An exact index is one cell holding everything."""

    plan: SearchPlan
    centroids: np.ndarray  # (nlist, dim) float32
    offsets: np.ndarray  # (nlist + 1,) int64
    order: np.ndarray  # (n,) int64
    vectors: np.ndarray  # (n, dim) float32
    probes: np.ndarray  # (n, nprobe) int32: the cells each base vector probes as a query (a self-join reuses them)

    @property
    def ntotal(self) -> int:
        return len(self.order)


def index_build(vectors: np.ndarray, plan: SearchPlan, seed: int = 0) -> CellIndex:
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    n, dim = vectors.shape
    if plan.kind == "exact" or n == 0:
        exact = SearchPlan("exact")
        whole = np.zeros((n, 1), np.int32)
        return CellIndex(exact, np.zeros((1, dim), np.float32), np.array([0, n], np.int64), np.arange(n, dtype=np.int64), vectors, whole)
    rng = np.random.default_rng(seed)
    sample_size = min(n, plan.nlist * TRAIN_PER_CELL)
    sample = vectors[np.sort(rng.choice(n, sample_size, replace=False))]
    kmeans = faiss.Kmeans(dim, plan.nlist, niter=KMEANS_ITERATIONS, seed=seed, spherical=True, min_points_per_centroid=1)
    kmeans.train(sample)
    centroids = np.ascontiguousarray(kmeans.centroids, dtype=np.float32)
    # A vector's nearest cell holds it; its nprobe nearest are what it probes as a query (one product for both).
    probes = _nearest_cells(centroids, vectors, min(plan.nprobe, plan.nlist)).astype(np.int32)
    cell = probes[:, 0]
    order = np.argsort(cell, kind="stable").astype(np.int64)
    offsets = np.searchsorted(cell[order], np.arange(plan.nlist + 1)).astype(np.int64)
    return CellIndex(plan, centroids, offsets, order, vectors[order], probes)


def _nearest_cells(centroids: np.ndarray, vectors: np.ndarray, k: int) -> np.ndarray:
    quantizer = faiss.IndexFlatIP(centroids.shape[1])
    quantizer.add(centroids)
    _, cells = quantizer.search(np.ascontiguousarray(vectors, dtype=np.float32), k)
    return cells


def index_save(index: CellIndex, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name in ("centroids", "offsets", "order", "vectors", "probes"):
        np.save(folder / f"index_{name}.npy", getattr(index, name))
    plan = index.plan
    (folder / "index.json").write_text(json.dumps({"kind": plan.kind, "nlist": plan.nlist, "nprobe": plan.nprobe}))


def index_load(folder: Path) -> CellIndex:
    """The saved index, its vectors memory-mapped (the page cache is shared by the workers on one machine)."""
    meta = json.loads((folder / "index.json").read_text())
    arrays = {
        name: np.load(folder / f"index_{name}.npy", mmap_mode="r" if name in ("vectors", "probes") else None)
        for name in ("centroids", "offsets", "order", "vectors", "probes")
    }
    return CellIndex(SearchPlan(meta["kind"], meta["nlist"], meta["nprobe"]), **arrays)


def range_pairs(
    index: CellIndex,
    queries: np.ndarray,
    threshold: float,
    *,
    query_offset: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(query positions, base positions, cosines) of all pairs with cosine >= threshold among the probed cells.

    With query_offset (the queries are base[query_offset:...], a self-join), only pairs whose base position is
    greater than the query's are kept, so each pair appears once and no vector pairs with itself; the cells
    the queries probe are then those the build found for them.
    """
    parts: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    nlist = len(index.offsets) - 1
    nprobe = min(index.plan.nprobe, nlist)
    threads = max(1, faiss.omp_get_max_threads())
    for start in range(0, len(queries), QUERY_BATCH):
        batch = np.ascontiguousarray(queries[start : start + QUERY_BATCH], dtype=np.float32)
        m = len(batch)
        if nlist == 1:
            who = np.arange(m, dtype=np.int64)
            bounds = np.array([0, m], dtype=np.int64)
        else:
            if query_offset is not None:
                first = query_offset + start
                cells = np.asarray(index.probes[first : first + m, :nprobe], dtype=np.int64).ravel()
            else:
                cells = _nearest_cells(index.centroids, batch, nprobe).ravel()
            by_cell = np.argsort(cells, kind="stable")
            who = by_cell // nprobe  # the query of each (query, probed cell), grouped by cell
            bounds = np.searchsorted(cells[by_cell], np.arange(nlist + 1))
        # One product per (block of queries, block of a cell's rows); small products run one per thread
        # (BLAS held to one thread: splitting a small product across threads costs more than it saves).
        tasks = [
            (at, min(at + BLOCK_ROWS, int(bounds[c + 1])), lo, min(lo + BLOCK_ROWS, int(index.offsets[c + 1])))
            for c in np.flatnonzero((np.diff(bounds) > 0) & (np.diff(index.offsets) > 0))
            for at in range(int(bounds[c]), int(bounds[c + 1]), BLOCK_ROWS)
            for lo in range(int(index.offsets[c]), int(index.offsets[c + 1]), BLOCK_ROWS)
        ]

        def product(task: tuple[int, int, int, int], batch: np.ndarray = batch, who: np.ndarray = who, start: int = start) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
            at, stop, lo, hi = task
            qs = who[at:stop]
            sims = batch[qs] @ np.asarray(index.vectors[lo:hi]).T
            if sims.max() < threshold:
                return None
            rows, cols = np.nonzero(sims >= threshold)
            q = qs[rows] + start
            b = index.order[lo + cols]
            s = sims[rows, cols]
            if query_offset is not None:
                keep = b > q + query_offset
                q, b, s = q[keep], b[keep], s[keep]
            return q, b, s

        with threadpool_limits(limits=1, user_api="blas"), ThreadPoolExecutor(threads) as pool:
            parts.extend(part for part in pool.map(product, tasks, chunksize=16) if part is not None)
    if not parts:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.float32)
    return (
        np.concatenate([p[0] for p in parts]),
        np.concatenate([p[1] for p in parts]),
        np.concatenate([p[2] for p in parts]).astype(np.float32),
    )


# --- the scan's two steps on files (services/dedup.py runs them in its jobs; bench/ calls the same) ---


def scan_index_write(*, folder: Path, base: np.ndarray) -> SearchPlan:
    """The search plan step: build the index of the base vectors by size and save it for the child jobs."""
    plan = search_plan(len(base))
    index_save(index_build(base, plan), folder)
    return plan


def scan_slices(n: int) -> list[tuple[int, int]]:
    """The query slices the search fans out into, one child job each."""
    return [(start, min(start + SEARCH_JOB_QUERIES, n)) for start in range(0, n, SEARCH_JOB_QUERIES)]


def scan_slice_search(
    *, folder: Path, queries: np.ndarray, start: int, stop: int, threshold: float, self_join: bool
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """One child job's search: queries[start:stop] against the saved index; query positions are absolute."""
    index = index_load(folder)
    q, b, sims = range_pairs(index, np.asarray(queries[start:stop], dtype=np.float32), threshold, query_offset=start if self_join else None)
    return q + start, b, sims
