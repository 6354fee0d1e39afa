"""The hard-negative agents as prompts to any OpenAI-compatible chat endpoint (vLLM, TGI, Ollama, hosted APIs).

Prompts are versioned files (prompts/hardneg_v1/); the version is part of the engine's version. The verifier is
sent the image as a data URL, so it checks the visual contradiction that FineGen's text-only verifier could not.
"""
import json
from pathlib import Path
from string import Template
from typing import Any

from curation.engines.base import Availability
from curation.engines.chat import LLMConfig, chat, image_part
from curation.engines.hardneg import (
    PHASE_ATOMIC,
    PHASE_GLOBAL,
    VISUAL_BY_AGENT,
    VISUAL_BY_REVIEWER,
    AgentVerdict,
    Candidate,
    Change,
    Positive,
)
from curation.errors import ApplicationError

PROMPT_VERSION = "hardneg_v1"
PROMPTS = Path(__file__).parent / "prompts"
PHASE_HELP = {
    PHASE_GLOBAL: "the whole description; change two or three attributes at once",
    "attribute": "change exactly one attribute",
    PHASE_ATOMIC: "this is one atomic sub-fact of a longer caption; change exactly one attribute of it",
}


class HardNegativeAnswerError(ApplicationError):
    """The model answered something the agent cannot read (not JSON, or not the asked shape)."""

    code = "hard_negative_answer"
    status = 502


def prompt_load(name: str, version: str = PROMPT_VERSION) -> Template:
    return Template((PROMPTS / version / f"{name}.txt").read_text(encoding="utf-8"))


def _json(reply: str, agent: str) -> dict[str, Any]:
    text = reply.strip()
    if text.startswith("```"):
        text = text.strip("`").removeprefix("json").strip()
    start, end = text.find("{"), text.rfind("}")
    try:
        data = json.loads(text[start : end + 1] if start >= 0 else text)
    except json.JSONDecodeError as exc:
        raise HardNegativeAnswerError(f"the {agent} answered something that is not JSON: {reply[:200]!r}") from exc
    if not isinstance(data, dict):
        raise HardNegativeAnswerError(f"the {agent} answered JSON that is not an object")
    return data


def _changes(raw: Any, agent: str) -> list[Change]:
    if not isinstance(raw, list):
        raise HardNegativeAnswerError(f"the {agent} gave no list of changes")
    try:
        return [Change.from_dict(item) for item in raw]
    except ValueError as exc:
        raise HardNegativeAnswerError(f"the {agent}: {exc}") from exc


class LLMHardNegativeEngine:
    sees_image = True

    def __init__(self, config: LLMConfig, *, prompt_version: str = PROMPT_VERSION):
        self.config = config
        self.prompt_version = prompt_version
        self.name = f"hardneg-agents {config.engine_name}"
        self.version = f"{prompt_version} / {config.version}"

    def available(self) -> Availability:
        return self.config.available()

    def _ask(self, prompt: str, *, image: Positive | None = None) -> str:
        content: Any = prompt
        if image is not None and image.image is not None:
            content = [{"type": "text", "text": prompt}, image_part(image.image, mime=image.image_mime)]
        return chat([{"role": "user", "content": content}], config=self.config, json_mode=True)

    def facts(self, positive: Positive) -> list[str]:
        data = _json(self._ask(prompt_load("facts", self.prompt_version).substitute(positive=positive.text)), "fact splitter")
        facts = data.get("facts", [])
        if not isinstance(facts, list):
            raise HardNegativeAnswerError("the fact splitter gave no list of facts")
        return [str(f).strip() for f in facts if str(f).strip()]

    def generate(self, *, positive: Positive, fact: str, phase: str, attributes: list[str], count: int,
                 others: list[str]) -> list[Candidate]:
        del others
        if count <= 0:
            return []
        prompt = prompt_load("generator", self.prompt_version).substitute(
            fact=fact, phase=phase, phase_help=PHASE_HELP.get(phase, ""), attributes=", ".join(attributes), count=count
        )
        data = _json(self._ask(prompt), "generator")
        negatives = data.get("negatives")
        if not isinstance(negatives, list):
            raise HardNegativeAnswerError("the generator gave no list of negatives")
        out = []
        for item in negatives[:count]:
            if not isinstance(item, dict) or not str(item.get("text", "")).strip():
                continue
            out.append(Candidate(phase=phase, fact=fact, text=str(item["text"]).strip(),
                                 changes=_changes(item.get("changes", []), "generator"), operation="llm"))
        return out

    def verify(self, *, positive: Positive, candidate: Candidate) -> AgentVerdict:
        prompt = prompt_load("verifier", self.prompt_version).substitute(
            fact=candidate.fact, text=candidate.text, changes=json.dumps([c.as_dict() for c in candidate.changes])
        )
        data = _json(self._ask(prompt, image=positive), "verifier")
        verdict = str(data.get("verdict", "")).strip().lower()
        if verdict not in ("pass", "fail"):
            raise HardNegativeAnswerError(f"the verifier's verdict {verdict!r} is neither pass nor fail")
        visual = VISUAL_BY_AGENT if positive.image is not None else VISUAL_BY_REVIEWER
        return AgentVerdict(verdict == "pass", str(data.get("reason", "") or "")[:64], str(data.get("message", "") or ""), visual)

    def correct(self, *, positive: Positive, candidate: Candidate, verdict: AgentVerdict) -> Candidate | None:
        prompt = prompt_load("corrector", self.prompt_version).substitute(
            fact=candidate.fact, text=candidate.text, changes=json.dumps([c.as_dict() for c in candidate.changes]),
            reason=verdict.reason or "other", message=verdict.message,
        )
        data = _json(self._ask(prompt), "corrector")
        if data.get("give_up") or not str(data.get("text", "")).strip():
            return None
        return Candidate(phase=candidate.phase, fact=candidate.fact, text=str(data["text"]).strip(),
                         changes=_changes(data.get("changes", [c.as_dict() for c in candidate.changes]), "corrector"),
                         operation=candidate.operation)
