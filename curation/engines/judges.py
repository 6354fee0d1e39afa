"""Quality judges: engines that rate one turn 1-5 on FineVision's four axes, and the registry of them.

Every judge follows the engine protocol (curation/engines/base.py: name, version, available()) and has
one call, rate(turns) -> one {axis: AxisRating} per turn. A judge leaves an axis empty (score None)
where it has no evidence, and says why in the reason. Prompts with a rubric per axis live in versioned
folders (prompts/ratings_v1/<axis>.txt); each axis sees only its own inputs (formatting and relevance:
question and answer; visual dependency: the question; image-question correspondence: image and
question), and the answer asked for is the level's number alone.

Judges: "builtin" (judges_builtin.py, no weights), "chat" (judges_chat.py, any OpenAI-compatible
endpoint), "transformers" (judges_transformers.py, a local model directory); judges_registry.py lists them.
"""
import functools
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from curation.engines.base import Availability
from curation.engines.chat import MalformedAnswer, image_part
from curation.models.ratings import RATING_AXES

__all__ = ["RATING_AXES", "AxisRating", "Judge", "TurnImage", "TurnToRate", "axis_messages", "level_parse", "prompt_text"]

PROMPTS_VERSION = "ratings_v1"
PROMPTS_DIR = Path(__file__).resolve().parent / "prompts"
# What each axis's prompt is given: the rubric formats only these fields.
AXIS_INPUTS: dict[str, tuple[str, ...]] = {
    "formatting": ("question", "answer"),
    "relevance": ("question", "answer"),
    "visual_dependency": ("question",),
    "image_correspondence": ("question", "image"),
}
LEVELS = (1, 2, 3, 4, 5)
_LEVEL_LINE = re.compile(r"^([1-5]) - ([^:]+):", re.MULTILINE)
# The number alone; a trailing full stop or surrounding markdown emphasis is tolerated.
_ANSWER = re.compile(r"^[\s*_`\"']*([1-5])[\s.*_`\"']*$")


@dataclass(frozen=True)
class TurnImage:
    data: bytes
    mime: str


@dataclass(frozen=True)
class TurnToRate:
    """What a judge sees of one turn; images carry bytes only for judges that look at pixels."""

    question: str
    answer: str
    image_count: int = 0
    images: tuple[TurnImage, ...] = ()


@dataclass(frozen=True)
class AxisRating:
    """One axis of one turn: the score (None = no evidence), a short reason, or the error that kept it from being rated."""

    score: int | None
    reason: str = ""
    error: str = ""


class Judge(Protocol):
    name: str
    version: str
    needs_images: bool

    def available(self) -> Availability: ...

    def rate(self, turns: list[TurnToRate]) -> list[dict[str, AxisRating]]: ...


@functools.cache
def prompt_template(axis: str, version: str = PROMPTS_VERSION) -> str:
    path = PROMPTS_DIR / version / f"{axis}.txt"
    if not path.is_file():
        raise FileNotFoundError(f"no prompt for axis {axis!r} in {version} ({path})")
    return path.read_text(encoding="utf-8")


@functools.cache
def level_labels(axis: str, version: str = PROMPTS_VERSION) -> dict[int, str]:
    """{1: "Broken", ...}: the five labelled levels of the axis's rubric."""
    labels = {int(n): label.strip() for n, label in _LEVEL_LINE.findall(prompt_template(axis, version))}
    if sorted(labels) != list(LEVELS):
        raise ValueError(f"the {version} rubric for {axis} must label the five levels 1-5")
    return labels


def prompt_text(axis: str, turn: TurnToRate, version: str = PROMPTS_VERSION) -> str:
    """The axis's rubric filled with the turn's inputs for that axis, and nothing else of the turn."""
    fields = {name: getattr(turn, name) for name in AXIS_INPUTS[axis] if name != "image"}
    return prompt_template(axis, version).format(**fields)


def axis_messages(axis: str, turn: TurnToRate, version: str = PROMPTS_VERSION) -> list[dict[str, Any]]:
    """Chat messages for one axis of one turn; image-question correspondence carries the images as data URLs."""
    text = prompt_text(axis, turn, version)
    if "image" in AXIS_INPUTS[axis]:
        parts: list[dict[str, Any]] = [image_part(image.data, mime=image.mime) for image in turn.images]
        return [{"role": "user", "content": [*parts, {"type": "text", "text": text}]}]
    return [{"role": "user", "content": text}]


def level_parse(text: str) -> int:
    """The level a judge answered; anything but a number 1-5 alone is MalformedAnswer (retried)."""
    match = _ANSWER.match(text or "")
    if not match:
        raise MalformedAnswer(f"expected a number 1-5 alone, got {text[:60]!r}")
    return int(match.group(1))


def level_reason(axis: str, score: int, version: str = PROMPTS_VERSION) -> str:
    return f"rubric level {score}: {level_labels(axis, version)[score]}"


def axis_not_applicable(axis: str, turn: TurnToRate) -> str:
    """Why the axis cannot be rated for this turn by any judge ('' when it can)."""
    if axis == "image_correspondence" and turn.image_count == 0:
        return "text-only sample: no image to correspond to"
    return ""
