"""Unit vectors shaped like image embeddings for the search benchmarks: clustered, with planted near-copies.

Real SSCD embeddings of a corpus are not uniform on the sphere: images come in themes. Vectors are drawn
around CLUSTERS random centres (cosine to the centre ~0.5), and a share of them get a planted copy (an
edited image: the vector plus noise, cosine ~0.93-0.99 to its original).
"""
import numpy as np

DIM = 512


def _unit(x: np.ndarray) -> np.ndarray:
    return (x / np.linalg.norm(x, axis=1, keepdims=True)).astype(np.float32)


def clustered(n: int, *, clusters: int = 2_000, seed: int = 0, chunk: int = 100_000) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = _unit(rng.standard_normal((clusters, DIM), dtype=np.float32))
    out = np.empty((n, DIM), dtype=np.float32)
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        which = rng.integers(0, clusters, m)
        noise = _unit(rng.standard_normal((m, DIM), dtype=np.float32))
        out[start : start + m] = _unit(centres[which] + 1.1 * noise)
    return out


def plant_copies(vectors: np.ndarray, share: float, *, seed: int = 1) -> tuple[np.ndarray, int]:
    """Append edited copies of a random `share` of the vectors; returns (all vectors, how many planted)."""
    rng = np.random.default_rng(seed)
    k = int(len(vectors) * share)
    chosen = rng.choice(len(vectors), k, replace=False)
    scale = rng.uniform(0.12, 0.4, (k, 1)).astype(np.float32)
    noise = _unit(rng.standard_normal((k, DIM), dtype=np.float32))
    copies = _unit(vectors[chosen] + scale * noise)
    return np.concatenate([vectors, copies]), k
