"""The judge on any OpenAI-compatible chat endpoint: one request per turn per axis, the rubric as prompt.

Requests run `concurrency` at a time (chat_many); a reply that is not a number 1-5 alone is retried like
a busy answer; a request that still fails leaves its axis unrated with the error (the run reports it as
a rejected row and a later run rates it), never a made-up score.
"""
from curation.engines.base import Availability
from curation.engines.chat import LLMConfig, LLMError, chat_many, llm_config
from curation.engines.judges import (
    PROMPTS_VERSION,
    RATING_AXES,
    AxisRating,
    TurnToRate,
    axis_messages,
    axis_not_applicable,
    level_parse,
    level_reason,
)


class ChatJudge:
    needs_images = True

    def __init__(self, config: LLMConfig, *, prompts: str = PROMPTS_VERSION):
        self.config = config
        self.prompts = prompts
        self.name = f"chat-judge:{config.engine_name}"
        self.version = f"{config.version}, prompts {prompts}"

    def available(self) -> Availability:
        return self.config.available()

    def rate(self, turns: list[TurnToRate]) -> list[dict[str, AxisRating]]:
        out: list[dict[str, AxisRating]] = [{} for _ in turns]
        asked: list[tuple[int, str]] = []
        requests = []
        for index, turn in enumerate(turns):
            for axis in RATING_AXES:
                why_not = axis_not_applicable(axis, turn)
                if why_not:
                    out[index][axis] = AxisRating(None, why_not)
                    continue
                asked.append((index, axis))
                requests.append(axis_messages(axis, turn, self.prompts))
        answers = chat_many(requests, parse=level_parse, config=self.config, max_tokens=4)
        for (index, axis), answer in zip(asked, answers, strict=True):
            if isinstance(answer, LLMError):
                out[index][axis] = AxisRating(None, "", error=str(answer))
            else:
                out[index][axis] = AxisRating(answer, level_reason(axis, answer, self.prompts))
        return out


def chat_judge_from_settings() -> ChatJudge | Availability:
    config = llm_config()
    if config is None:
        return Availability(False, "no endpoint is configured (set FINECURATE_LLM_BASE_URL and FINECURATE_LLM_MODEL)")
    return ChatJudge(config)
