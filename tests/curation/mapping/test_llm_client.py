"""The OpenAI-compatible client other areas reuse: one call, clear errors, endpoint URL conventions."""
import pytest

from curation.engines.chat import LLMConfig, LLMError, chat
from tests.curation.mapping.fake_llm import FakeLLM


def test_chat_posts_messages_and_returns_the_reply_text():
    with FakeLLM("Hello.") as llm:
        reply = chat([{"role": "user", "content": "Hi"}], config=LLMConfig(base_url=f"{llm.url}/v1", model="m"),
                     max_tokens=5)
    assert reply == "Hello."
    assert llm.requests[0]["path"] == "/v1/chat/completions"
    assert llm.requests[0]["body"] == {"messages": [{"role": "user", "content": "Hi"}], "temperature": 0.0,
                                       "model": "m", "max_tokens": 5}


def test_errors_say_what_went_wrong_and_where():
    with FakeLLM("x", status=401) as llm, pytest.raises(LLMError, match=r"answered HTTP 401"):
        chat([{"role": "user", "content": "Hi"}], config=LLMConfig(base_url=llm.url))
    with pytest.raises(LLMError, match="could not reach the LLM endpoint http://127.0.0.1:9/v1/chat/completions"):
        chat([], config=LLMConfig(base_url="http://127.0.0.1:9", timeout=2), attempts=1)
    with pytest.raises(LLMError, match="must be http or https"):
        chat([], config=LLMConfig(base_url="file:///etc/passwd"))


def test_without_configuration_there_is_no_endpoint(settings):
    settings.FINECURATE_LLM_BASE_URL = ""
    with pytest.raises(LLMError, match="no LLM endpoint is configured"):
        chat([{"role": "user", "content": "Hi"}])
