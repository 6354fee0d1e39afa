"""Copy detection on plain folders, without the web app: the same engine, index, verifier and decision rule
as a scan (services/dedup.py), for `manage.py scan_duplicates DIR [--against BENCH_DIR]`."""
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings

from curation.engines.sscd import embedding_engine, preprocess
from curation.engines.sscd_verify import OrbRansacVerifier
from curation.ingest.readers.base import IMAGE_EXTENSIONS
from curation.ingest.readers.imagefolder import image_files
from curation.services.dedup import DedupInvalid, copy_flagged
from curation.services.dedup_index import index_build, range_pairs, search_plan
from curation.services.embeddings import embed_pipeline


def _images_in(folder: Path) -> list[Path]:
    if not folder.is_dir():
        raise DedupInvalid(f"{folder} is not a folder")
    return [p for p in image_files(folder) if p.suffix.lower() in IMAGE_EXTENSIONS]


def _embed(paths: list[Path], engine: str | None) -> tuple[list[Path], np.ndarray, list[Path]]:
    embedder = embedding_engine(engine)

    def loader(path: Path):  # type: ignore[no-untyped-def]
        def load() -> np.ndarray | None:
            try:
                return preprocess(path.read_bytes())
            except (OSError, ValueError):
                return None

        return load

    kept: list[Path] = []
    unreadable: list[Path] = []
    parts = []
    for start, vectors, failed in embed_pipeline([loader(p) for p in paths], embedder):
        chunk = paths[start : start + len(vectors) + len(failed)]
        unreadable.extend(paths[i] for i in failed)
        kept.extend(p for i, p in enumerate(chunk, start) if i not in failed)
        parts.append(vectors)
    return kept, (np.concatenate(parts) if parts else np.zeros((0, 512), dtype=np.float32)), unreadable


def dedup_scan_folder(
    *,
    folder: Path,
    against: Path | None = None,
    threshold: float | None = None,
    verify_threshold: float | None = None,
    engine: str | None = None,
    unreadable: list[Path] | None = None,
) -> Iterator[dict[str, Any]]:
    """Flagged pairs inside `folder` (or of `folder` against `against`), best first per query image."""
    threshold = settings.FINECURATE_DUPLICATE_THRESHOLD if threshold is None else threshold
    verify_threshold = min(threshold, settings.FINECURATE_VERIFY_THRESHOLD if verify_threshold is None else verify_threshold)
    paths, vectors, bad = _embed(_images_in(folder), engine)
    if against is not None:
        base_paths, base, bad_base = _embed(_images_in(against), engine)
        bad += bad_base
    else:
        base_paths, base = paths, vectors
    if unreadable is not None:
        unreadable.extend(bad)
    if not len(vectors) or not len(base):
        return
    index = index_build(base, search_plan(len(base)))
    q, b, sims = range_pairs(index, vectors, verify_threshold, query_offset=None if against is not None else 0)
    verifier = OrbRansacVerifier()
    for qi, bi, sim in zip(q, b, sims, strict=True):
        a_path, b_path = paths[qi], base_paths[bi]
        verification = verifier.verify(a_path.read_bytes(), b_path.read_bytes())
        if copy_flagged(similarity=float(sim), verification=verification, threshold=threshold):
            yield {
                "a": str(a_path),
                "b": str(b_path),
                "similarity": round(float(sim), 6),
                "verify_score": verification.score,
                "verified": verification.verified,
            }
