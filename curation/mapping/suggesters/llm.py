"""The LLM suggester: asks any OpenAI-compatible endpoint for a spec; its answer is validated like a curator's."""
import json
import re
from typing import Any

from curation.engines.chat import LLMError, chat, llm_config
from curation.ingest.records import IMAGE_KEY
from curation.mapping.spec import (
    ANSWER_BY,
    ANSWER_FORMATS,
    CONVERSATION_STYLES,
    FILTER_OPS,
    IMAGE_KINDS,
    OPTION_STYLES,
)
from curation.mapping.spec import __doc__ as SPEC_DOC
from curation.mapping.suggesters.base import Reason, SourceProfile, Suggestion, SuggestionFailed
from curation.mapping.suggesters.build import subset_slug
from curation.models import Subset

ROWS_SHOWN = 3
VALUE_CHARS = 300
JSON_BLOCK = re.compile(r"\{.*\}", re.DOTALL)

SYSTEM_PROMPT = """You map rows of a dataset to a chat schema for training vision-language models.
Reply with ONE JSON object and nothing else:
{"spec": <mapping spec>, "confidence": <0..1>, "reasons": [{"role": "...", "column": "... or null", "text": "took column X as Y because ..."}]}
If no column gives evidence for a role, give a reason with "column": null saying so; do not guess.

The mapping spec:
""" + (SPEC_DOC or "") + f"""
Allowed values: images[].kind {list(IMAGE_KINDS)}; turns.style {list(CONVERSATION_STYLES)};
turns.options.style {list(OPTION_STYLES)}; turns.answer.by {list(ANSWER_BY)}; turns.answer.format {list(ANSWER_FORMATS)};
filters[].op {list(FILTER_OPS)}; subset.category {list(Subset.Category.values)}.
Templates: {{column}} required, {{column?}} optional, [[...]] kept only when its placeholders have values,
{{options}} {{answer}} {{instruction}} are computed from turns.options / turns.answer / turns.instructions.
Images are stored as {{"{IMAGE_KEY}": "<sha256>"}}; use kind "auto" for such columns.
"""


def _shorten(value: Any) -> Any:
    if isinstance(value, str):
        return value if len(value) <= VALUE_CHARS else value[:VALUE_CHARS] + "…"
    if isinstance(value, list):
        return [_shorten(v) for v in value[:8]] + (["…"] if len(value) > 8 else [])
    if isinstance(value, dict):
        if IMAGE_KEY in value:
            return {IMAGE_KEY: "…"}
        return {k: _shorten(v) for k, v in list(value.items())[:20]}
    return value


def prompt_for(profile: SourceProfile) -> list[dict[str, str]]:
    rows = [_shorten(row) for row in profile.rows[:ROWS_SHOWN]]
    user = (
        f"Source name: {profile.name}\nDetected layout: {profile.layout or 'unknown'}\n"
        f"Columns and types: {json.dumps(profile.columns)}\n"
        f"Suggested subset name: {subset_slug(profile.name)}\n"
        f"First rows:\n" + "\n".join(json.dumps(r, ensure_ascii=False) for r in rows)
    )
    return [{"role": "system", "content": SYSTEM_PROMPT}, {"role": "user", "content": user}]


def parse_reply(text: str) -> dict[str, Any]:
    """The JSON object in the reply (models sometimes wrap it in prose or a code fence)."""
    try:
        parsed = json.loads(text)
    except json.JSONDecodeError:
        block = JSON_BLOCK.search(text)
        if block is None:
            raise SuggestionFailed(f"the LLM replied without a JSON object: {text[:200]!r}") from None
        try:
            parsed = json.loads(block.group(0))
        except json.JSONDecodeError as exc:
            raise SuggestionFailed(f"the LLM replied with invalid JSON: {exc}") from exc
    if not isinstance(parsed, dict):
        raise SuggestionFailed("the LLM replied with JSON that is not an object")
    return parsed


def _reasons(raw: Any) -> list[Reason]:
    reasons = []
    for item in raw if isinstance(raw, list) else []:
        if isinstance(item, str):
            reasons.append(Reason(role="note", column=None, text=item))
        elif isinstance(item, dict) and isinstance(item.get("text"), str):
            column = item.get("column")
            reasons.append(Reason(role=str(item.get("role") or "note"), column=column if isinstance(column, str) else None,
                                  text=item["text"]))
    return reasons


class LLMSuggester:
    name = "llm"

    def available(self) -> bool:
        return llm_config() is not None

    def suggest(self, profile: SourceProfile) -> Suggestion:
        config = llm_config()
        if config is None:
            raise SuggestionFailed("no LLM endpoint is configured")
        try:
            reply = chat(prompt_for(profile), config=config, json_mode=True)
        except LLMError as exc:
            raise SuggestionFailed(str(exc)) from exc
        parsed = parse_reply(reply)
        spec = parsed.get("spec")
        confidence = parsed.get("confidence")
        if not isinstance(confidence, int | float) or isinstance(confidence, bool):
            confidence = 0.0
        return Suggestion(
            engine=config.engine_name,
            spec=None,  # read (spec_from_dict) and checked by suggestion_validate, like a curator's JSON
            proposed=spec if isinstance(spec, dict) else {},
            confidence=max(0.0, min(1.0, float(confidence))),
            reasons=_reasons(parsed.get("reasons")),
        )
