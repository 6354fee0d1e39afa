"""The one list of quality judges a curator can choose, each built from settings when chosen."""
from collections.abc import Callable
from dataclasses import dataclass

from curation.engines.base import Availability
from curation.engines.judges import Judge
from curation.engines.judges_builtin import BuiltinJudge
from curation.engines.judges_chat import chat_judge_from_settings
from curation.engines.judges_transformers import transformers_judge_from_settings
from curation.errors import ApplicationError


class UnknownJudge(ApplicationError):
    code = "unknown_judge"
    status = 400


class JudgeUnavailable(ApplicationError):
    code = "judge_unavailable"
    status = 409


@dataclass(frozen=True)
class JudgeChoice:
    key: str
    label: str
    factory: Callable[[], Judge | Availability]
    description: str


JUDGES: dict[str, JudgeChoice] = {
    choice.key: choice
    for choice in (
        JudgeChoice(
            "builtin", "Built-in rules (no weights)", BuiltinJudge,
            "Formatting rules; relevance from all-MiniLM-L6-v2 and answer-type checks; visual dependency from the "
            "question's reliance on the image; image-question correspondence left empty (it needs a VLM).",
        ),
        JudgeChoice(
            "chat", "OpenAI-compatible endpoint", chat_judge_from_settings,
            "Any chat-completions server (vLLM, TGI, llama.cpp, Ollama, hosted) from FINECURATE_LLM_*; images as data URLs.",
        ),
        JudgeChoice(
            "transformers", "Local transformers model", transformers_judge_from_settings,
            "A causal language model in FINECURATE_TRANSFORMERS_MODEL_DIR; it reads text only, so image-question "
            "correspondence stays empty.",
        ),
    )
}


def judge_get(key: str) -> Judge:
    """The judge registered under `key`, ready to run, or UnknownJudge / JudgeUnavailable saying why not."""
    try:
        choice = JUDGES[key]
    except KeyError:
        raise UnknownJudge(f"no judge {key!r}; choose one of {', '.join(JUDGES)}") from None
    judge = choice.factory()
    availability = judge if isinstance(judge, Availability) else judge.available()
    if isinstance(judge, Availability) or not availability.ok:
        raise JudgeUnavailable(f"the {choice.label} judge cannot run here: {availability.reason}")
    return judge


def judge_availability() -> list[tuple[JudgeChoice, Availability]]:
    """Every judge with whether it can run here (for the run form), without loading any model."""
    out = []
    for choice in JUDGES.values():
        made = choice.factory()
        out.append((choice, made if isinstance(made, Availability) else made.available()))
    return out
