"""Copy-detection embeddings: compute the missing ones in batches, store them once per image per engine, load them.

Decoding and resizing run in a small thread pool while the model runs on the previous batch, so the
pipeline goes at the pace of the slower of the two (bench/embed.py measures it).
"""
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
from django.conf import settings

from curation.engines.sscd import EMBEDDING_DIM, ImageEmbedder, embedding_engine, preprocess
from curation.models import Image, ImageEmbedding
from curation.services.images import image_file_path

EMBED_BATCH_SIZE = 32  # images per model call
EMBED_JOB_BATCH_SIZE = 512  # images per child job (one Celery task)
LOAD_BATCH_SIZE = 5_000  # vectors read from the database per query
DECODE_THREADS = 2


def vector_pack(vector: np.ndarray) -> bytes:
    return np.asarray(vector, dtype="<f2").tobytes()


def vectors_unpack(blobs: Iterable[bytes | memoryview | None], dim: int = EMBEDDING_DIM) -> np.ndarray:
    data = b"".join(bytes(b) for b in blobs if b is not None)
    return np.frombuffer(data, dtype="<f2").astype(np.float32).reshape(-1, dim)


def embeddings_missing(*, image_ids: Iterable[str], engine: str) -> list[str]:
    """The images among these that have no vector from this engine yet, in a stable order."""
    wanted = sorted(set(image_ids))
    missing: list[str] = []
    for start in range(0, len(wanted), LOAD_BATCH_SIZE):
        chunk = wanted[start : start + LOAD_BATCH_SIZE]
        have = set(ImageEmbedding.objects.filter(engine=engine, image_id__in=chunk).values_list("image_id", flat=True))
        missing.extend(pk for pk in chunk if pk not in have)
    return missing


def _decode(image: Image) -> np.ndarray | None:
    try:
        with open(image_file_path(image=image), "rb") as handle:
            return preprocess(handle.read())
    except (OSError, ValueError):
        return None  # a missing or unreadable file is reported by the caller, not embedded


def embed_pipeline(
    loaders: Sequence[Callable[[], np.ndarray | None]], embedder: ImageEmbedder, batch_size: int = EMBED_BATCH_SIZE
) -> Iterator[tuple[int, np.ndarray, list[int]]]:
    """Yields (start, vectors, failed positions) per batch; the next batch decodes while this one embeds."""
    with ThreadPoolExecutor(max_workers=DECODE_THREADS) as pool:
        def submit(start: int) -> list:
            return [pool.submit(load) for load in loaders[start : start + batch_size]]

        pending = submit(0) if loaders else []
        start = 0
        while pending:
            arrays = [f.result() for f in pending]
            nxt = start + batch_size
            pending = submit(nxt) if nxt < len(loaders) else []
            ok = [a for a in arrays if a is not None]
            failed = [start + i for i, a in enumerate(arrays) if a is None]
            yield start, embedder.embed(ok), failed
            start = nxt


def embeddings_compute(
    *, image_ids: list[str], engine: str | None = None, on_batch: Callable[[int], None] | None = None
) -> dict[str, int]:
    """Embed the images that lack a vector from the engine; safe to run twice (upsert by image and engine).

    on_batch(n) says how many of `image_ids` are done, the ones that already had a vector counted first: a run
    resumed after a crash starts from the batches the dead run committed and still ends at len(image_ids).
    """
    embedder = embedding_engine(engine)
    todo = embeddings_missing(image_ids=image_ids, engine=embedder.name)
    images = {img.pk: img for img in Image.objects.filter(pk__in=todo)}
    ordered = [images[pk] for pk in todo if pk in images]
    loaders = [lambda img=img: _decode(img) for img in ordered]
    already = len(set(image_ids)) - len(todo)
    done = failed_count = 0
    for start, vectors, failed in embed_pipeline(loaders, embedder):
        batch = [img for i, img in enumerate(ordered[start : start + EMBED_BATCH_SIZE]) if start + i not in failed]
        ImageEmbedding.objects.bulk_create(
            [
                ImageEmbedding(image=img, engine=embedder.name, engine_version=embedder.version, dim=vectors.shape[1], vector=vector_pack(v))
                for img, v in zip(batch, vectors, strict=True)
            ],
            update_conflicts=True,
            unique_fields=["image", "engine"],
            update_fields=["engine_version", "dim", "vector"],
        )
        done += len(batch) + len(failed)
        failed_count += len(failed)
        if on_batch is not None:
            on_batch(already + done)
    return {"embedded": done - failed_count, "unreadable": failed_count, "already": len(image_ids) - len(todo)}


def embeddings_load(*, image_ids: list[str], engine: str) -> tuple[list[str], np.ndarray]:
    """(image ids that have a vector, float32 matrix in that order)."""
    ids: list[str] = []
    blobs: list[bytes | memoryview] = []
    for start in range(0, len(image_ids), LOAD_BATCH_SIZE):
        chunk = image_ids[start : start + LOAD_BATCH_SIZE]
        rows = dict(ImageEmbedding.objects.filter(engine=engine, image_id__in=chunk).values_list("image_id", "vector"))
        for pk in chunk:
            if pk in rows:
                ids.append(pk)
                blobs.append(rows[pk])
    if not ids:
        return [], np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
    return ids, vectors_unpack(blobs)


def embedding_engine_name(engine: str | None = None) -> str:
    return embedding_engine(engine or settings.FINECURATE_EMBEDDING_ENGINE or None).name
