"""Benchmark: all pairs with cosine >= tau among N vectors with planted near-duplicates (200k and 1M).

The search is the scan's own, through the functions its jobs run (services/dedup_index.py): the vectors
rounded to float16 as the store keeps them, the index built by size and saved to a folder as the search
plan step does (scan_index_write), then one scan_slice_search per child job's slice (scan_slices), each
loading the saved index. The time is all of that: training, adding, saving, loading, searching. Recall is
against exact FAISS Flat range search on the same vectors for a sample of queries (every pair Flat finds
for those queries); Flat's time for all N queries is its measured time on the sample, scaled by N / sample
(Flat's cost is linear in the queries). Both use every core FAISS sees. Pair verification and writing to
PostgreSQL are not in it (they depend on the images and the pairs found, not on the search).

Goal: 1M in <= 10 min on 2 cores, recall >= 0.99, >= 10x faster than Flat at 200k.
Usage: .venv/bin/python bench/dedup.py [--quick]   (quick: 60k only)
"""
import argparse
import json
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import tempfile  # noqa: E402

import faiss  # noqa: E402
import numpy as np  # noqa: E402
from synthetic_vectors import clustered, plant_copies  # noqa: E402

from curation.services.dedup_index import scan_index_write, scan_slice_search, scan_slices, search_plan  # noqa: E402

TAU = 0.90
FLAT_SAMPLE = 2_000


def run(n: int, seed: int) -> dict:
    base, planted = plant_copies(clustered(int(n / 1.01), seed=seed), 0.01, seed=seed + 1)
    base = base.astype(np.float16)  # as the store keeps them (ImageEmbedding.vector) and the scan saves them
    n = len(base)
    plan = search_plan(n)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        start = time.perf_counter()
        scan_index_write(folder=folder, base=base.astype(np.float32))
        build_s = time.perf_counter() - start
        parts = [
            scan_slice_search(folder=folder, queries=base, start=lo, stop=hi, threshold=TAU, self_join=True) for lo, hi in scan_slices(n)
        ]
        ours_s = time.perf_counter() - start
    q = np.concatenate([p[0] for p in parts])
    b = np.concatenate([p[1] for p in parts])
    base = base.astype(np.float32)

    rng = np.random.default_rng(seed + 2)
    # Sample queries among the planted copies' originals and copies (where pairs are) and at random.
    sample = np.unique(np.concatenate([rng.choice(n, FLAT_SAMPLE // 2, replace=False), rng.integers(n - planted, n, FLAT_SAMPLE // 2)]))
    flat = faiss.IndexFlatIP(base.shape[1])
    flat.add(base)
    start = time.perf_counter()
    lims, _, ids = flat.range_search(np.ascontiguousarray(base[sample]), TAU)
    flat_sample_s = time.perf_counter() - start
    truth = set()
    for row, query in enumerate(sample):
        for other in ids[lims[row] : lims[row + 1]]:
            if other != query:
                truth.add((min(int(query), int(other)), max(int(query), int(other))))
    found = {(int(x), int(y)) for x, y in zip(q, b, strict=True)}
    recall = len(truth & found) / len(truth) if truth else 1.0
    flat_all_s = flat_sample_s * n / len(sample)
    return {
        "n": n,
        "planted": planted,
        "index": plan.label,
        "pairs_found": len(found),
        "seconds": round(ours_s, 1),
        "index_build_seconds": round(build_s, 1),
        "search_seconds": round(ours_s - build_s, 1),
        "search_jobs": len(scan_slices(n)),
        "flat_seconds_estimated": round(flat_all_s, 1),
        "speedup_vs_flat": round(flat_all_s / ours_s, 1),
        "recall_vs_flat": round(recall, 4),
        "flat_pairs_checked": len(truth),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    sizes = [60_000] if args.quick else [200_000, 1_000_000]
    runs = [run(n, seed=i) for i, n in enumerate(sizes)]
    by_n = {r["n"]: r for r in runs}
    recall_ok = all(r["recall_vs_flat"] >= 0.99 for r in runs)
    smaller = runs[0]
    speed_ok = smaller["speedup_vs_flat"] >= 10
    time_ok = all(r["seconds"] <= 600 for r in runs if r["n"] >= 900_000)
    print(json.dumps({
        "bench": "dedup",
        "tau": TAU,
        "threads": faiss.omp_get_max_threads(),
        "runs": runs,
        "sizes": sorted(by_n),
        "goal": "1M vectors in <= 10 min on 2 cores, recall >= 0.99 against Flat, >= 10x faster than Flat at 200k"
        + (" (quick: 60k only, the speed-up floor is checked at 60k)" if args.quick else ""),
        "met": recall_ok and speed_ok and time_ok,
    }))


if __name__ == "__main__":
    main()
