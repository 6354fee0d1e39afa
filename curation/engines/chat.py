"""A client for any OpenAI-compatible chat endpoint (vLLM, TGI, llama.cpp server, Ollama, hosted APIs).

Plain HTTP (POST {base}/v1/chat/completions) with the standard library: `chat(messages) -> text` for one
request, `chat_many(requests, parse=...)` for many at bounded concurrency (a thread pool, one kept-alive
connection per thread). Busy answers (429, 5xx), timeouts, dropped connections, bodies that are not
JSON and replies `parse` refuses (MalformedAnswer) are retried with exponential backoff; anything else
fails at once. Images travel as data URLs in `image_url` parts (`image_part`), so VLM judges see them.
Every failure is an LLMError whose message says what went wrong and where, for the job's page.
"""
import base64
import http.client
import json
import random
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import urlsplit

from django.conf import settings

from curation.engines.base import Availability
from curation.errors import ApplicationError

# Statuses worth one more try: the server is busy or restarting, not refusing the request.
RETRY_STATUSES = {429, 500, 502, 503, 504}
RETRY_PAUSE_SECONDS = 1.0
# A Retry-After longer than this is not waited for in full (a job must keep beating).
MAX_RETRY_AFTER_SECONDS = 30.0

T = TypeVar("T")


class LLMError(ApplicationError):
    """The endpoint could not be reached, refused the request, or answered something unreadable."""

    code = "llm_error"
    status = 502


class MalformedAnswer(ValueError):
    """Raised by a `parse` callable when the reply text is not the answer asked for; the request is retried."""


@dataclass(frozen=True)
class LLMConfig:
    base_url: str
    model: str = ""
    api_key: str = ""
    timeout: float = 60.0
    # Requests in flight at once in chat_many (threads, each with its own connection).
    concurrency: int = 8
    # Tries per request (the first included) before its LLMError is final.
    attempts: int = 5
    # Backoff before retry n is retry_pause * 2**(n-1), with jitter; a Retry-After header wins when shorter.
    retry_pause: float = RETRY_PAUSE_SECONDS

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
        concurrency=settings.FINECURATE_LLM_CONCURRENCY,
    )


def _check(config: LLMConfig | None) -> LLMConfig:
    if config is None:
        raise LLMError("no LLM endpoint is configured (set FINECURATE_LLM_BASE_URL)")
    scheme = urlsplit(config.endpoint).scheme
    if scheme not in ("http", "https"):
        raise LLMError(f"the LLM endpoint must be http or https, not {scheme or 'nothing'}: {config.base_url}")
    return config


def _body(config: LLMConfig, messages: list[dict[str, Any]], temperature: float, max_tokens: int | None, json_mode: bool) -> dict[str, Any]:
    body: dict[str, Any] = {"messages": messages, "temperature": temperature}
    if config.model:
        body["model"] = config.model
    if max_tokens:
        body["max_tokens"] = max_tokens
    if json_mode:
        body["response_format"] = {"type": "json_object"}
    return body


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
    config = _check(config or llm_config())
    client = ChatClient(config)
    try:
        return client.request(_body(config, messages, temperature, max_tokens, json_mode), parse=None, attempts=max(1, attempts))
    finally:
        client.close()


def chat_many(
    requests: Sequence[list[dict[str, Any]]],
    *,
    parse: Callable[[str], T],
    config: LLMConfig | None = None,
    temperature: float = 0.0,
    max_tokens: int | None = None,
    json_mode: bool = False,
) -> list[T | LLMError]:
    """parse(reply) of each request (a message list), in order, `config.concurrency` at a time.

    A request that still fails after config.attempts tries gives its LLMError in its place, so one
    bad turn does not lose the others.
    """
    config = _check(config or llm_config())
    client = ChatClient(config)
    bodies = [_body(config, messages, temperature, max_tokens, json_mode) for messages in requests]

    def one(body: dict[str, Any]) -> T | LLMError:
        try:
            return client.request(body, parse=parse, attempts=config.attempts)
        except LLMError as exc:
            return exc

    try:
        if len(bodies) <= 1 or config.concurrency <= 1:
            return [one(body) for body in bodies]
        with ThreadPoolExecutor(max_workers=min(config.concurrency, len(bodies)), thread_name_prefix="chat") as pool:
            return list(pool.map(one, bodies))
    finally:
        client.close()


class _Retry(Exception):
    def __init__(self, message: str, wait: float | None = None):
        super().__init__(message)
        self.message = message
        self.wait = wait


class ChatClient:
    """Requests to one endpoint; each thread keeps its own HTTP/1.1 connection alive between requests."""

    def __init__(self, config: LLMConfig):
        self.config = config
        parts = urlsplit(config.endpoint)
        self._https = parts.scheme == "https"
        self._host = parts.hostname or ""
        self._port = parts.port
        self._path = parts.path + (f"?{parts.query}" if parts.query else "")
        self._local = threading.local()
        self._connections: list[http.client.HTTPConnection] = []
        self._lock = threading.Lock()
        self.headers = {"Content-Type": "application/json", "Accept": "application/json"}
        if config.api_key:
            self.headers["Authorization"] = f"Bearer {config.api_key}"

    def close(self) -> None:
        with self._lock:
            for connection in self._connections:
                connection.close()
            self._connections.clear()

    def _connection(self) -> http.client.HTTPConnection:
        connection = getattr(self._local, "connection", None)
        if connection is None:
            cls = http.client.HTTPSConnection if self._https else http.client.HTTPConnection
            connection = cls(self._host, self._port, timeout=self.config.timeout)
            self._local.connection = connection
            with self._lock:
                self._connections.append(connection)
        return connection

    def _drop_connection(self) -> None:
        connection = getattr(self._local, "connection", None)
        if connection is not None:
            connection.close()
            self._local.connection = None

    def request(self, body: dict[str, Any], *, parse: Callable[[str], T] | None, attempts: int) -> Any:
        """The reply text (or parse(text)); retries what is transient, raises LLMError when it gives up."""
        data = json.dumps(body).encode()
        last = ""
        for attempt in range(max(1, attempts)):
            try:
                content = self._once(data)
                return content if parse is None else parse(content)
            except _Retry as retry:
                last = retry.message
                wait = retry.wait
            except MalformedAnswer as exc:
                last = f"the LLM endpoint {self.config.endpoint} answered something that is not the answer asked for: {exc}"
                wait = None
            if attempt + 1 < attempts:
                backoff = self.config.retry_pause * (2**attempt) * (0.5 + random.random() / 2)  # noqa: S311 (jitter, not security)
                time.sleep(min(wait, MAX_RETRY_AFTER_SECONDS) if wait is not None else backoff)
        raise LLMError(last)

    def _once(self, data: bytes) -> str:
        endpoint = self.config.endpoint
        try:
            connection = self._connection()
            connection.request("POST", self._path, body=data, headers=self.headers)
            response = connection.getresponse()
            raw = response.read()
        except (TimeoutError, OSError, http.client.HTTPException) as exc:
            self._drop_connection()
            kind = "timed out" if isinstance(exc, TimeoutError) else str(exc) or type(exc).__name__
            raise _Retry(f"could not reach the LLM endpoint {endpoint}: {kind}") from exc
        if response.getheader("Connection", "").lower() == "close":
            self._drop_connection()
        if response.status >= 400:
            detail = raw[:300].decode(errors="replace")
            message = f"the LLM endpoint {endpoint} answered HTTP {response.status}: {detail}"
            if response.status in RETRY_STATUSES:
                raise _Retry(message, wait=_retry_after(response.getheader("Retry-After")))
            raise LLMError(message)
        try:
            payload = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise _Retry(f"the LLM endpoint {endpoint} answered something that is not JSON") from exc
        if not isinstance(payload, dict):
            raise _Retry(f"the LLM endpoint {endpoint} answered JSON that is not an object")
        try:
            content = payload["choices"][0]["message"]["content"]
        except (KeyError, IndexError, TypeError) as exc:
            raise _Retry(f"the LLM endpoint {endpoint} answered without choices[0].message.content") from exc
        if not isinstance(content, str):
            raise _Retry(f"the LLM endpoint {endpoint} answered content that is not text")
        return content


def _retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None
