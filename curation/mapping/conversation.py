"""Turns from a conversation column: LLaVA / ShareGPT (from, value), OpenAI (role, content), Cauldron (user, assistant)."""
import json
import re
from typing import Any

from curation.errors import ApplicationError
from curation.ingest.records import IMAGE_KEY
from curation.mapping.spec import ConversationTurns

USER_ROLES = {"human", "user", "question", "q", "instruction", "prompt"}
ASSISTANT_ROLES = {"gpt", "assistant", "bot", "model", "chatgpt", "answer", "a", "response", "output"}
SYSTEM_ROLES = {"system", "developer"}
# "<image>" placeholders mark where LLaVA puts the image; the chat schema keeps images apart from the text.
IMAGE_TOKEN = re.compile(r"[ \t]*<image>[ \t]*\n?|\n?[ \t]*<image>[ \t]*")


class ConversationError(ApplicationError, ValueError):
    """The conversation column of a row cannot be read as turns; the message says why."""

    code = "invalid_conversation"
    status = 422


def conversation_turns(value: Any, turns: ConversationTurns) -> list[dict[str, str]]:
    messages = _as_list(value)
    if turns.style == "user_assistant":
        pairs = [_user_assistant(n, m) for n, m in enumerate(messages)]
    else:
        pairs = _pair_messages([_message(n, m, turns.style) for n, m in enumerate(messages)], turns.system)
    if turns.strip_image_tokens:
        pairs = [{k: IMAGE_TOKEN.sub("\n", v).strip() for k, v in p.items()} for p in pairs]
    for n, pair in enumerate(pairs):
        for role in ("user", "assistant"):
            if not pair[role].strip():
                raise ConversationError(f"turn {n + 1} has an empty {role} message")
    return pairs


def _as_list(value: Any) -> list[Any]:
    # Some files keep the conversation as a JSON string inside a text column.
    if isinstance(value, str) and value.lstrip().startswith("["):
        try:
            value = json.loads(value)
        except json.JSONDecodeError as exc:
            raise ConversationError(f"the conversation is text that is not valid JSON: {exc}") from exc
    if value is None:
        raise ConversationError("the conversation is empty")
    if not isinstance(value, list):
        raise ConversationError(f"the conversation must be a list of messages, not {type(value).__name__}")
    if not value:
        raise ConversationError("the conversation has no messages")
    return value


def _text(content: Any, where: str) -> str:
    """Message text; OpenAI content parts keep their text parts (image parts are images, not text)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, int | float) and not isinstance(content, bool):
        return str(content)
    if isinstance(content, list):
        texts = []
        for part in content:
            if isinstance(part, str):
                texts.append(part)
            elif isinstance(part, dict) and part.get("type") == "text":
                texts.append(str(part.get("text", "")))
            elif isinstance(part, dict) and (IMAGE_KEY in part or str(part.get("type", "")).startswith("image")):
                continue
            else:
                raise ConversationError(f"{where}: content part {part!r:.80} is neither text nor an image")
        return "\n".join(t for t in texts if t)
    raise ConversationError(f"{where}: content of type {type(content).__name__} is not text")


def _message(n: int, message: Any, style: str) -> tuple[str, str]:
    where = f"message {n + 1}"
    if not isinstance(message, dict):
        raise ConversationError(f"{where} is not an object")
    role_key, text_key = ("from", "value") if style == "from_value" else ("role", "content")
    if role_key not in message:
        raise ConversationError(f"{where} has no '{role_key}' (keys: {', '.join(map(str, message))})")
    role = str(message[role_key]).strip().lower()
    text = _text(message.get(text_key), where)
    if role in USER_ROLES:
        return "user", text
    if role in ASSISTANT_ROLES:
        return "assistant", text
    if role in SYSTEM_ROLES:
        return "system", text
    raise ConversationError(f"{where} has the unknown role {role!r}")


def _pair_messages(messages: list[tuple[str, str]], system: str) -> list[dict[str, str]]:
    """Pair user and assistant messages into turns; consecutive messages of one role are joined."""
    system_texts = [t for r, t in messages if r == "system" and t.strip()]
    chat = [(r, t) for r, t in messages if r != "system"]
    merged: list[list[str]] = []
    for role, text in chat:
        if merged and merged[-1][0] == role:
            merged[-1][1] = f"{merged[-1][1]}\n\n{text}"
        else:
            merged.append([role, text])
    if not merged:
        raise ConversationError("the conversation has no user or assistant message")
    if merged[0][0] != "user":
        raise ConversationError("the conversation starts with an assistant message, before any user message")
    if merged[-1][0] != "assistant":
        raise ConversationError("the conversation ends with a user message that has no answer")
    turns = [{"user": merged[i][1], "assistant": merged[i + 1][1]} for i in range(0, len(merged), 2)]
    if system == "prepend" and system_texts:
        turns[0]["user"] = "\n\n".join([*system_texts, turns[0]["user"]])
    return turns


def _user_assistant(n: int, message: Any) -> dict[str, str]:
    where = f"turn {n + 1}"
    if not isinstance(message, dict):
        raise ConversationError(f"{where} is not an object")
    missing = [k for k in ("user", "assistant") if k not in message]
    if missing:
        raise ConversationError(f"{where} has no '{missing[0]}' (keys: {', '.join(map(str, message))})")
    return {"user": _text(message["user"], where), "assistant": _text(message["assistant"], where)}
