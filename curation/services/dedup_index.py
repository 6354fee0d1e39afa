"""FAISS search for all pairs above a cosine: exact for small sets, IVF range search with a re-check beyond.

Vectors are L2-normalised, so inner product is cosine. Below EXACT_LIMIT vectors a flat index answers
exactly. Beyond it an inverted-file index (IVF, vectors kept as float16 in the lists) is trained on a
sample, probed at `nprobe` cells per query (both chosen by size), searched at a radius a little under the
threshold, and every pair it returns is re-checked against the stored vectors, so no pair below the
threshold survives and pairs near it are not lost to the float16 codes.
"""
import math
from dataclasses import dataclass

import faiss
import numpy as np

EXACT_LIMIT = 50_000
RECHECK_MARGIN = 0.01  # search this much below the threshold, then keep what the exact re-check passes
TRAIN_PER_CELL = 30
KMEANS_ITERATIONS = 10
QUERY_BATCH = 4_096


@dataclass(frozen=True)
class SearchPlan:
    kind: str  # "exact" or "ivf"
    nlist: int = 0
    nprobe: int = 0

    @property
    def label(self) -> str:
        return "exact (flat)" if self.kind == "exact" else f"IVF{self.nlist} fp16, nprobe {self.nprobe}, re-checked"


def search_plan(n: int) -> SearchPlan:
    """The index for n vectors: flat up to EXACT_LIMIT, else IVF with ~4 sqrt(n) cells and nprobe by size."""
    if n <= EXACT_LIMIT:
        return SearchPlan("exact")
    nlist = int(min(65_536, max(256, 4 * math.sqrt(n))))
    nprobe = max(8, nlist // 128)
    return SearchPlan("ivf", nlist=nlist, nprobe=nprobe)


def index_build(vectors: np.ndarray, plan: SearchPlan, seed: int = 0) -> faiss.Index:
    vectors = np.ascontiguousarray(vectors, dtype=np.float32)
    dim = vectors.shape[1]
    if plan.kind == "exact":
        flat = faiss.IndexFlatIP(dim)
        flat.add(vectors)
        return flat
    quantizer = faiss.IndexFlatIP(dim)
    index = faiss.IndexIVFScalarQuantizer(quantizer, dim, plan.nlist, faiss.ScalarQuantizer.QT_fp16, faiss.METRIC_INNER_PRODUCT)
    index.cp.niter = KMEANS_ITERATIONS
    index.cp.seed = seed
    rng = np.random.default_rng(seed)
    sample_size = min(len(vectors), plan.nlist * TRAIN_PER_CELL)
    sample = vectors[np.sort(rng.choice(len(vectors), sample_size, replace=False))]
    index.train(sample)
    index.add(vectors)
    index.nprobe = plan.nprobe
    return index


def range_pairs(
    index: faiss.Index,
    base: np.ndarray,
    queries: np.ndarray,
    threshold: float,
    *,
    query_offset: int | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(query positions, base positions, cosines) of all pairs with cosine >= threshold.

    With query_offset (the queries are base[query_offset:...], a self-join), only pairs whose base position is
    greater than the query's are kept, so each pair appears once and no vector pairs with itself.
    """
    exact = isinstance(index, faiss.IndexFlat)
    radius = threshold if exact else threshold - RECHECK_MARGIN
    out_q, out_b, out_s = [], [], []
    for start in range(0, len(queries), QUERY_BATCH):
        batch = np.ascontiguousarray(queries[start : start + QUERY_BATCH], dtype=np.float32)
        lims, sims, ids = index.range_search(batch, float(radius))
        q = np.repeat(np.arange(len(batch), dtype=np.int64), np.diff(lims).astype(np.int64)) + start
        b = ids.astype(np.int64)
        if not exact and len(b):
            sims = np.einsum("ij,ij->i", batch[q - start], np.asarray(base[b], dtype=np.float32))
        keep = sims >= threshold
        if query_offset is not None:
            keep &= b > q + query_offset
        out_q.append(q[keep])
        out_b.append(b[keep])
        out_s.append(sims[keep].astype(np.float32))
    if not out_q:
        empty = np.zeros(0, dtype=np.int64)
        return empty, empty, np.zeros(0, dtype=np.float32)
    return np.concatenate(out_q), np.concatenate(out_b), np.concatenate(out_s)
