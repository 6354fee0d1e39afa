"""The judge on a local `transformers` causal language model (FINECURATE_TRANSFORMERS_MODEL_DIR).

The rubric prompt of each axis is scored in batches; the answer is the level whose digit token ("1".."5")
the model finds most likely next, so the reply is always the number alone (constrained to the five
levels). The model reads text only: image-question correspondence stays empty. Loaded from the
directory with the hub switched off, once per process and directory.
"""
import hashlib
import os
import threading
from pathlib import Path
from typing import Any

from django.conf import settings

from curation.engines.base import Availability
from curation.engines.judges import (
    LEVELS,
    PROMPTS_VERSION,
    RATING_AXES,
    AxisRating,
    TurnToRate,
    level_labels,
    prompt_text,
)
from curation.errors import ApplicationError

# Prompts scored per forward pass.
TRANSFORMERS_BATCH_SIZE = 16
# Prompts longer than this many tokens keep their end (the question, answer and instruction).
MAX_PROMPT_TOKENS = 1024
TEXT_AXES = ("formatting", "relevance", "visual_dependency")

_lock = threading.Lock()
_loaded: dict[str, tuple[Any, Any, list[int]]] = {}


class TransformersJudgeError(ApplicationError):
    code = "engine_unavailable"
    status = 503


def _model_fingerprint(path: Path) -> str:
    digest = hashlib.sha256()
    for name in ("config.json", "tokenizer.json", "tokenizer_config.json"):
        file = path / name
        if file.is_file():
            digest.update(file.read_bytes())
    for weights in sorted(path.glob("*.safetensors")) + sorted(path.glob("*.bin")):
        digest.update(f"{weights.name}:{weights.stat().st_size}".encode())
    return digest.hexdigest()[:12]


class TransformersJudge:
    needs_images = False

    def __init__(self, model_dir: str | Path, *, prompts: str = PROMPTS_VERSION, batch_size: int = TRANSFORMERS_BATCH_SIZE):
        self.path = Path(model_dir)
        self.prompts = prompts
        self.batch_size = batch_size
        self.name = f"transformers-judge:{self.path.name}"
        self.version = f"{_model_fingerprint(self.path) if self.path.is_dir() else 'missing'}, prompts {prompts}"

    def available(self) -> Availability:
        if not (self.path / "config.json").is_file():
            return Availability(False, f"no model (config.json) in {self.path}")
        return Availability(True)

    def _load(self) -> tuple[Any, Any, list[int]]:
        key = str(self.path.resolve())
        with _lock:
            if key in _loaded:
                return _loaded[key]
            os.environ["HF_HUB_OFFLINE"] = "1"
            os.environ["TRANSFORMERS_OFFLINE"] = "1"
            try:
                from transformers import (  # heavy: loaded only when this judge runs
                    AutoModelForCausalLM,
                    AutoTokenizer,
                )

                tokenizer = AutoTokenizer.from_pretrained(key, local_files_only=True)
                model: Any = AutoModelForCausalLM.from_pretrained(key, local_files_only=True)
                model = model.to(settings.FINECURATE_TORCH_DEVICE).eval()
            except Exception as exc:  # any loader failure becomes one readable error
                raise TransformersJudgeError(f"could not load the model in {self.path}: {exc}") from exc
            tokenizer.padding_side = "left"
            if tokenizer.pad_token is None:
                tokenizer.pad_token = tokenizer.eos_token or tokenizer.unk_token
            digits = []
            for level in LEVELS:
                ids = tokenizer.encode(str(level), add_special_tokens=False)
                if not ids:
                    raise TransformersJudgeError(f"the tokenizer in {self.path} has no token for the digit {level}")
                digits.append(ids[-1])
            _loaded[key] = (tokenizer, model, digits)
            return _loaded[key]

    def level_probabilities(self, prompts: list[str]) -> list[list[float]]:
        """P(level) for each prompt: softmax over the five digit tokens of the next-token logits."""
        import torch  # heavy: loaded only when this judge runs

        tokenizer, model, digits = self._load()
        out: list[list[float]] = []
        for start in range(0, len(prompts), self.batch_size):
            chunk = prompts[start : start + self.batch_size]
            tokenizer.truncation_side = "left"
            encoded = tokenizer(chunk, return_tensors="pt", padding=True, truncation=True, max_length=MAX_PROMPT_TOKENS)
            encoded = {k: v.to(model.device) for k, v in encoded.items() if k in ("input_ids", "attention_mask")}
            with torch.no_grad():
                logits = model(**encoded).logits[:, -1, :]
            probabilities = torch.softmax(logits[:, digits].float(), dim=-1)
            out.extend(probabilities.cpu().tolist())
        return out

    def rate(self, turns: list[TurnToRate]) -> list[dict[str, AxisRating]]:
        asked = [(index, axis) for index in range(len(turns)) for axis in TEXT_AXES]
        prompts = [prompt_text(axis, turns[index], self.prompts) + "\n" for index, axis in asked]
        probabilities = self.level_probabilities(prompts)
        out: list[dict[str, AxisRating]] = [
            {"image_correspondence": AxisRating(None, "a text-only model cannot see the image")} for _ in turns
        ]
        for (index, axis), probs in zip(asked, probabilities, strict=True):
            best = max(range(len(LEVELS)), key=lambda i: probs[i])
            level = LEVELS[best]
            out[index][axis] = AxisRating(level, f"rubric level {level}: {level_labels(axis, self.prompts)[level]} (p={probs[best]:.2f})")
        assert all(set(r) == set(RATING_AXES) for r in out)  # noqa: S101 (every axis answered or left empty)
        return out


def transformers_judge_from_settings() -> TransformersJudge | Availability:
    model_dir = settings.FINECURATE_TRANSFORMERS_MODEL_DIR
    if not model_dir:
        return Availability(False, "no model directory is configured (set FINECURATE_TRANSFORMERS_MODEL_DIR)")
    return TransformersJudge(model_dir)
