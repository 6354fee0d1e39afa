"""The cell-by-cell IVF search against brute force on the same vectors, through the files the scan's jobs share."""
import numpy as np

from curation.services.dedup_index import (
    SearchPlan,
    index_build,
    index_load,
    index_save,
    range_pairs,
    scan_index_write,
    scan_slice_search,
    scan_slices,
)

TAU = 0.9


def _vectors(n: int, copies: int, seed: int) -> np.ndarray:
    """Clustered unit vectors (float16 as stored) with `copies` near-copies of random ones appended."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((40, 128)).astype(np.float32)
    centres /= np.linalg.norm(centres, axis=1, keepdims=True)
    x = centres[rng.integers(0, 40, n)] + 1.1 * rng.standard_normal((n, 128)).astype(np.float32) / np.sqrt(128)
    x /= np.linalg.norm(x, axis=1, keepdims=True)
    picked = x[rng.choice(n, copies, replace=False)]
    y = picked + rng.uniform(0.1, 0.4, (copies, 1)).astype(np.float32) * rng.standard_normal((copies, 128)).astype(np.float32) / np.sqrt(128)
    y /= np.linalg.norm(y, axis=1, keepdims=True)
    return np.concatenate([x, y]).astype(np.float16).astype(np.float32)


def _brute_self(x: np.ndarray) -> set[tuple[int, int]]:
    sims = x @ x.T
    q, b = np.nonzero(np.triu(sims >= TAU, k=1))
    return set(zip(q.tolist(), b.tolist(), strict=True))


def test_ivf_self_join_finds_what_brute_force_finds_once_each_and_nothing_below_the_threshold(tmp_path):
    x = _vectors(6_000, 300, seed=1)
    truth = _brute_self(x)
    index = index_build(x, SearchPlan("ivf", nlist=64, nprobe=8))
    q, b, sims = range_pairs(index, x, TAU, query_offset=0)
    found = list(zip(q.tolist(), b.tolist(), strict=True))
    assert len(found) == len(set(found))  # each pair once
    assert all(i < j for i, j in found)
    assert np.all(sims >= TAU)
    assert np.allclose(sims, np.einsum("ij,ij->i", x[q], x[b]), atol=1e-5)  # exact cosines, not codes
    assert len(truth) >= 250 and len(truth & set(found)) / len(truth) >= 0.99

    # The jobs' path: save, load, one search per slice with absolute positions, same pairs.
    index_save(index, tmp_path)
    loaded = index_load(tmp_path)
    sliced: set[tuple[int, int]] = set()
    for lo, hi in ((0, 2_500), (2_500, len(x))):
        qq, bb, _ = range_pairs(loaded, x[lo:hi], TAU, query_offset=lo)
        sliced |= {(int(i) + lo, int(j)) for i, j in zip(qq, bb, strict=True)}
    assert sliced == set(found)


def test_scan_steps_on_files_match_brute_force_for_a_corpus_against_a_benchmark(tmp_path):
    bench = _vectors(60_000, 0, seed=2)  # above the exact limit: the plan picks IVF by size
    rng = np.random.default_rng(3)
    leaked = rng.choice(len(bench), 200, replace=False)
    corpus = bench[leaked] + 0.02 * rng.standard_normal((200, 128)).astype(np.float32)
    corpus = np.concatenate([_vectors(2_000, 0, seed=4), corpus / np.linalg.norm(corpus, axis=1, keepdims=True)]).astype(np.float16)
    plan = scan_index_write(folder=tmp_path, base=bench)
    assert plan.kind == "ivf"
    parts = [scan_slice_search(folder=tmp_path, queries=corpus, start=lo, stop=hi, threshold=TAU, self_join=False) for lo, hi in scan_slices(len(corpus))]
    found = {(int(i), int(j)) for q, b, _ in parts for i, j in zip(q, b, strict=True)}
    sims = corpus.astype(np.float32) @ bench.T
    truth = set(zip(*[v.tolist() for v in np.nonzero(sims >= TAU)], strict=True))
    assert len(truth) >= 200 and len(truth & found) / len(truth) >= 0.99
    assert found <= truth
