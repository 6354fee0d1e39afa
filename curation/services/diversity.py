"""Diversity of a subset's images, as FineVision measured it: effective rank and participation ratio of the
uncentred covariance of the SSCD embeddings, accumulated in one streaming pass over the stored vectors.

effective rank = exp(entropy of the normalised eigenvalues); participation ratio = (sum l)^2 / sum l^2.
FineVision's values: Cauldron 324.05 / 129.22, Cambrian 359.73 / 152.70, FineVision 359.22 / 182.52.
"""
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import numpy as np
from django.core.cache import cache

from curation.engines.sscd import EMBEDDING_DIM
from curation.models import ImageEmbedding, SampleImage, Subset
from curation.services.embeddings import vectors_unpack

STREAM_BATCH_SIZE = 5_000
SPECTRUM_POINTS = 64  # eigenvalues drawn in the plot


@dataclass
class Diversity:
    images: int
    engine: str
    effective_rank: float | None
    participation_ratio: float | None
    eigenvalues: list[float] = field(default_factory=list)


def covariance_stream(batches: Iterable[np.ndarray]) -> tuple[np.ndarray, int]:
    """Sum of v v^T over all batches (float64) and the count: the one pass."""
    total = np.zeros((EMBEDDING_DIM, EMBEDDING_DIM), dtype=np.float64)
    count = 0
    for batch in batches:
        batch = np.asarray(batch, dtype=np.float64)
        total += batch.T @ batch
        count += len(batch)
    return total, count


def spectrum_measures(eigenvalues: np.ndarray) -> tuple[float, float]:
    lam = np.clip(np.asarray(eigenvalues, dtype=np.float64), 0.0, None)
    s = lam.sum()
    if s <= 0:
        return 0.0, 0.0
    p = lam / s
    nz = p[p > 0]
    effective_rank = float(np.exp(-(nz * np.log(nz)).sum()))
    participation_ratio = float(s**2 / (lam**2).sum())
    return effective_rank, participation_ratio


def _subset_vector_batches(subset: Subset, engine: str) -> Iterator[np.ndarray]:
    image_ids = (
        SampleImage.objects.filter(sample__subset=subset).order_by("image_id").values_list("image_id", flat=True).distinct()
    )
    last = ""
    while True:
        chunk = list(image_ids.filter(image_id__gt=last)[:STREAM_BATCH_SIZE])
        if not chunk:
            return
        last = chunk[-1]
        blobs = ImageEmbedding.objects.filter(engine=engine, image_id__in=chunk).values_list("vector", flat=True)
        vectors = vectors_unpack(blobs)
        if len(vectors):
            yield vectors


def subset_diversity(*, subset: Subset, engine: str) -> Diversity:
    """Effective rank and participation ratio of the subset's embedded images (cached until the count changes)."""
    embedded = ImageEmbedding.objects.filter(engine=engine, image__in=SampleImage.objects.filter(sample__subset=subset).values("image_id")).count()
    key = f"diversity:{subset.pk}:{engine}:{embedded}"
    cached = cache.get(key)
    if cached is not None:
        return cached
    total, count = covariance_stream(_subset_vector_batches(subset, engine))
    if count < 2:
        result = Diversity(images=count, engine=engine, effective_rank=None, participation_ratio=None)
    else:
        eigenvalues = np.sort(np.linalg.eigvalsh(total / count))[::-1]
        effective_rank, participation_ratio = spectrum_measures(eigenvalues)
        result = Diversity(
            images=count,
            engine=engine,
            effective_rank=round(effective_rank, 2),
            participation_ratio=round(participation_ratio, 2),
            eigenvalues=[float(x) for x in np.clip(eigenvalues, 0, None)[:SPECTRUM_POINTS]],
        )
    cache.set(key, result, 3600)
    return result
