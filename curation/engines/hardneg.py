"""What every hard-negative agent engine shares: the candidate a generator proposes, the verifier's verdict,
the protocol of the three agents (generator, verifier, corrector), FG-OVD's difficulty levels, and the
word spans that show a reviewer what changed.

Engines: hardneg_builtin.py (attribute-lexicon swaps and rules, no weights) and hardneg_llm.py (any
OpenAI-compatible chat endpoint, prompts in prompts/hardneg_v1/).
"""
import difflib
import re
from dataclasses import dataclass, field
from typing import Any, Protocol

from curation.engines.base import Availability

PHASE_GLOBAL = "global"
PHASE_ATTRIBUTE = "attribute"
PHASE_ATOMIC = "atomic"
PHASES = (PHASE_GLOBAL, PHASE_ATTRIBUTE, PHASE_ATOMIC)

# Who checked the negative against the image: the verifier agent itself, or (engines that cannot see) the reviewer.
VISUAL_BY_AGENT = "agent"
VISUAL_BY_REVIEWER = "reviewer"

# FG-OVD: one attribute changed is hard, two medium, three easy; another object's caption is trivial.
LEVEL_HARD = "hard"
LEVEL_MEDIUM = "medium"
LEVEL_EASY = "easy"
LEVEL_TRIVIAL = "trivial"


# What models call an attribute, in the lexicon's names (curation/engines/hardneg_lexicon.py).
ATTRIBUTE_ALIASES = {
    "color": "colour", "position": "spatial_relation", "spatial": "spatial_relation", "relation": "spatial_relation",
    "location": "spatial_relation", "text": "text_in_image", "ocr": "text_in_image", "number": "count", "quantity": "count",
    "verb": "action", "noun": "object",
}


def level_for(changes: list["Change"]) -> str:
    if any(change.attribute == "caption" for change in changes):
        return LEVEL_TRIVIAL
    n = len({(c.attribute, c.origin.lower()) for c in changes})
    if n <= 1:
        return LEVEL_HARD
    return LEVEL_MEDIUM if n == 2 else LEVEL_EASY


@dataclass(frozen=True)
class Change:
    """One typed change of the positive: the attribute, the value it had and the value the negative says."""

    attribute: str
    origin: str
    target: str

    def as_dict(self) -> dict[str, str]:
        return {"attribute": self.attribute, "origin": self.origin, "target": self.target}

    @classmethod
    def from_dict(cls, data: Any) -> "Change":
        if not isinstance(data, dict):
            raise ValueError(f"a change must be an object, not {type(data).__name__}")
        attribute = str(data.get("attribute", "")).strip().lower().replace(" ", "_").replace("-", "_")
        return cls(attribute=ATTRIBUTE_ALIASES.get(attribute, attribute), origin=str(data.get("origin", "")).strip(),
                   target=str(data.get("target", "")).strip())


@dataclass
class Candidate:
    """A proposed negative of `fact` (the whole positive, or one atomic sub-fact of it)."""

    phase: str
    fact: str
    text: str
    changes: list[Change]
    operation: str = ""
    # Engine-private bookkeeping (where each change sits), kept in the trace for audit.
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def attribute(self) -> str:
        return self.changes[0].attribute if self.changes else ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "phase": self.phase,
            "fact": self.fact,
            "text": self.text,
            "changes": [c.as_dict() for c in self.changes],
            "operation": self.operation,
            "meta": self.meta,
        }


@dataclass(frozen=True)
class AgentVerdict:
    """The verifier's answer: pass or not, a stable reason code, words for the corrector and the reviewer."""

    ok: bool
    reason: str = ""
    message: str = ""
    # VISUAL_BY_AGENT when the verifier looked at the image; VISUAL_BY_REVIEWER when it could not.
    visual: str = VISUAL_BY_REVIEWER

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "reason": self.reason, "message": self.message, "visual": self.visual}


@dataclass(frozen=True)
class Positive:
    """A caption to make negatives of, with its image (bytes, mime) when the sample has one."""

    text: str
    image: bytes | None = None
    image_mime: str = "image/jpeg"


class HardNegativeAgents(Protocol):
    """The three agents of FineGen's loop behind one engine (name and version are stored with every negative)."""

    name: str
    version: str
    sees_image: bool

    def available(self) -> Availability: ...

    def facts(self, positive: Positive) -> list[str]:
        """Atomic sub-facts of the positive (phase 3), each a short caption of its own."""
        ...

    def generate(self, *, positive: Positive, fact: str, phase: str, attributes: list[str], count: int,
                 others: list[str]) -> list[Candidate]:
        """Up to `count` candidate negatives of `fact` (the positive itself, or a sub-fact of it)."""
        ...

    def verify(self, *, positive: Positive, candidate: Candidate) -> AgentVerdict: ...

    def correct(self, *, positive: Positive, candidate: Candidate, verdict: AgentVerdict) -> Candidate | None:
        """A fixed candidate acting on the verifier's reason, or None when the corrector cannot fix it."""
        ...


_TOKEN = re.compile(r"\S+")


def change_spans(positive: str, negative: str) -> list[tuple[str, bool]]:
    """The negative as (text, changed) pieces, changed where its words differ from the positive's.

    Pages render the changed pieces highlighted from these spans, escaping every piece.
    """
    old = _TOKEN.findall(positive)
    new_matches = list(_TOKEN.finditer(negative))
    new = [m.group(0) for m in new_matches]
    matcher = difflib.SequenceMatcher(a=[w.lower().strip(".,;:!?") for w in old],
                                      b=[w.lower().strip(".,;:!?") for w in new], autojunk=False)
    changed = [False] * len(new)
    for tag, _i1, _i2, j1, j2 in matcher.get_opcodes():
        if tag in ("replace", "insert"):
            for j in range(j1, j2):
                changed[j] = True
    pieces: list[tuple[str, bool]] = []
    position = 0
    for index, match in enumerate(new_matches):
        gap = negative[position:match.start()]
        if gap:
            _append(pieces, gap, changed[index] and index > 0 and changed[index - 1])
        _append(pieces, match.group(0), changed[index])
        position = match.end()
    if position < len(negative):
        _append(pieces, negative[position:], False)
    return pieces


def _append(pieces: list[tuple[str, bool]], text: str, changed: bool) -> None:
    if pieces and pieces[-1][1] == changed:
        pieces[-1] = (pieces[-1][0] + text, changed)
    else:
        pieces.append((text, changed))


def changed_regions(positive: str, negative: str) -> int:
    """How many separate places the negative differs from the positive in (words inserted, removed or replaced)."""
    old = [w.lower().strip(".,;:!?") for w in _TOKEN.findall(positive)]
    new = [w.lower().strip(".,;:!?") for w in _TOKEN.findall(negative)]
    matcher = difflib.SequenceMatcher(a=old, b=new, autojunk=False)
    return sum(1 for tag, *_ in matcher.get_opcodes() if tag != "equal")
