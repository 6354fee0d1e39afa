"""A client for any OpenAI-compatible chat endpoint (vLLM, TGI, llama.cpp server, Ollama, hosted APIs).

Plain HTTP (POST {base}/v1/chat/completions) with the standard library: `chat(messages) -> text`.
Images travel as data URLs in `image_url` parts (`image_part`), so VLM judges and agents see them.
Every failure is an LLMError whose message says what went wrong and where, for the job's page.
"""
import base64
import json
import time
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.conf import settings

from curation.engines.base import Availability
from curation.errors import ApplicationError

# Statuses worth one more try: the server is busy or restarting, not refusing the request.
RETRY_STATUSES = {429, 500, 502, 503, 504}
RETRY_PAUSE_SECONDS = 1.0


class LLMError(ApplicationError):
    """The endpoint could not be reached, refused the request, or answered something unreadable."""

    code = "llm_error"
    status = 502


@dataclass(frozen=True)
class LLMConfig:
    base_url: str
    model: str = ""
    api_key: str = ""
    timeout: float = 60.0

    @property
    def endpoint(self) -> str:
        base = self.base_url.rstrip("/")
        return f"{base}/chat/completions" if base.endswith("/v1") else f"{base}/v1/chat/completions"

    @property
    def engine_name(self) -> str:
        return f"llm:{self.model or 'default'}@{urlsplit(self.base_url).netloc}"

    # The engine protocol (curation/engines/base.py): the served model names what produced a result.
    @property
    def name(self) -> str:
        return self.engine_name

    @property
    def version(self) -> str:
        return self.model or "default"

    def available(self) -> Availability:
        scheme = urlsplit(self.endpoint).scheme
        if scheme not in ("http", "https"):
            return Availability(False, f"the endpoint must be http or https: {self.base_url}")
        return Availability(True)


def image_part(data: bytes, *, mime: str = "image/jpeg") -> dict[str, Any]:
    """An OpenAI-style content part carrying an image as a data URL."""
    encoded = base64.b64encode(data).decode("ascii")
    return {"type": "image_url", "image_url": {"url": f"data:{mime};base64,{encoded}"}}


def llm_config() -> LLMConfig | None:
    """The configured endpoint (settings.FINECURATE_LLM_*), or None when none is configured."""
    if not settings.FINECURATE_LLM_BASE_URL:
        return None
    return LLMConfig(
        base_url=settings.FINECURATE_LLM_BASE_URL,
        model=settings.FINECURATE_LLM_MODEL,
        api_key=settings.FINECURATE_LLM_API_KEY,
        timeout=settings.FINECURATE_LLM_TIMEOUT,
    )


def chat(
    messages: list[dict[str, Any]],
    *,
    config: LLMConfig | None = None,
    temperature: float = 0.0,
    max_tokens: int | None = None,
    json_mode: bool = False,
    attempts: int = 2,
) -> str:
    """The assistant's reply text to `messages` ([{"role": ..., "content": ...}])."""
    config = config or llm_config()
    if config is None:
        raise LLMError("no LLM endpoint is configured (set FINECURATE_LLM_BASE_URL)")
    scheme = urlsplit(config.endpoint).scheme
    if scheme not in ("http", "https"):
        raise LLMError(f"the LLM endpoint must be http or https, not {scheme or 'nothing'}: {config.base_url}")
    body: dict[str, Any] = {"messages": messages, "temperature": temperature}
    if config.model:
        body["model"] = config.model
    if max_tokens:
        body["max_tokens"] = max_tokens
    if json_mode:
        body["response_format"] = {"type": "json_object"}
    payload = _post(config, body, attempts=max(1, attempts))
    try:
        content = payload["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as exc:
        raise LLMError(f"the LLM endpoint {config.endpoint} answered without choices[0].message.content") from exc
    if not isinstance(content, str):
        raise LLMError(f"the LLM endpoint {config.endpoint} answered content that is not text")
    return content


def _post(config: LLMConfig, body: dict[str, Any], *, attempts: int) -> dict[str, Any]:
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if config.api_key:
        headers["Authorization"] = f"Bearer {config.api_key}"
    data = json.dumps(body).encode()
    last_error = ""
    for attempt in range(attempts):
        if attempt:
            time.sleep(RETRY_PAUSE_SECONDS * attempt)
        request = urllib.request.Request(config.endpoint, data=data, headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=config.timeout) as response:  # noqa: S310 (scheme checked)
                raw = response.read()
        except urllib.error.HTTPError as exc:
            detail = exc.read()[:300].decode(errors="replace")
            last_error = f"the LLM endpoint {config.endpoint} answered HTTP {exc.code}: {detail}"
            if exc.code in RETRY_STATUSES:
                continue
            raise LLMError(last_error) from exc
        except (urllib.error.URLError, TimeoutError, ConnectionError) as exc:
            reason = getattr(exc, "reason", exc)
            last_error = f"could not reach the LLM endpoint {config.endpoint}: {reason}"
            continue
        try:
            parsed = json.loads(raw)
        except json.JSONDecodeError as exc:
            raise LLMError(f"the LLM endpoint {config.endpoint} answered something that is not JSON") from exc
        if not isinstance(parsed, dict):
            raise LLMError(f"the LLM endpoint {config.endpoint} answered JSON that is not an object")
        return parsed
    raise LLMError(last_error)
