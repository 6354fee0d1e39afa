"""The OpenAI-compatible client against a loopback chat-completions server: good answers, malformed
JSON bodies and malformed answers (retried), timeouts, 429s with Retry-After, bounded concurrency."""
import time

import pytest

from curation.engines.chat import LLMConfig, LLMError, MalformedAnswer, chat, chat_many
from curation.engines.judges import TurnImage, TurnToRate, level_parse
from curation.engines.judges_chat import ChatJudge
from tests.curation.ratings.chat_server import ChatServer, prompt_of


def _config(server: ChatServer, **overrides) -> LLMConfig:
    return LLMConfig(**{"base_url": server.url, "model": "judge-m", "retry_pause": 0.01, "timeout": 2.0, **overrides})


def test_good_answers_come_back_in_order_and_concurrency_is_bounded():
    def echo(body, n):
        return 200, prompt_of(body)[-1], {}

    with ChatServer(echo, latency=0.05) as server:
        requests = [[{"role": "user", "content": f"say {i % 5 + 1}"}] for i in range(40)]
        answers = chat_many(requests, parse=level_parse, config=_config(server, concurrency=8))
    assert answers == [i % 5 + 1 for i in range(40)]
    assert server.max_in_flight <= 8 and server.max_in_flight >= 4
    assert server.requests[0]["model"] == "judge-m"


def test_malformed_json_bodies_and_answers_are_retried_until_good():
    seen: dict[str, int] = {}

    def flaky(body, n):
        key = prompt_of(body)
        seen[key] = seen.get(key, 0) + 1
        if seen[key] == 1:
            return 200, b"{not json", {}
        if seen[key] == 2:
            return 200, "I would say it is a four.", {}
        return 200, "4", {}

    with ChatServer(flaky) as server:
        answers = chat_many([[{"role": "user", "content": f"q{i}"}] for i in range(5)], parse=level_parse,
                            config=_config(server, attempts=3))
    assert answers == [4] * 5
    assert len(server.requests) == 15


def test_a_429_is_retried_after_the_servers_retry_after():
    calls = []

    def busy_once(body, n):
        calls.append(time.monotonic())
        return (429, b'{"error": "slow down"}', {"Retry-After": "0.2"}) if n == 1 else (200, "3", {})

    with ChatServer(busy_once) as server:
        assert chat([{"role": "user", "content": "hi"}], config=_config(server)) == "3"
    assert len(calls) == 2 and calls[1] - calls[0] >= 0.19


def test_timeouts_are_retried_then_reported_with_the_endpoint():
    def slow(body, n):
        time.sleep(1.5 if n <= 2 else 0)
        return 200, "5", {}

    with ChatServer(slow) as server:
        assert chat_many([[{"role": "user", "content": "x"}]], parse=level_parse, config=_config(server, timeout=0.5, attempts=3)) == [5]
    with ChatServer(lambda body, n: (time.sleep(1.0), (200, "5", {}))[1]) as server:
        [failure] = chat_many([[{"role": "user", "content": "x"}]], parse=level_parse, config=_config(server, timeout=0.3, attempts=2))
    assert isinstance(failure, LLMError) and "timed out" in str(failure) and server.url in str(failure)


def test_a_refused_request_fails_at_once_and_one_bad_turn_does_not_lose_the_others():
    def refuse_third(body, n):
        return (400, b'{"error": "bad request"}', {}) if prompt_of(body) == "q2" else (200, "2", {})

    with ChatServer(refuse_third) as server:
        answers = chat_many([[{"role": "user", "content": f"q{i}"}] for i in range(4)], parse=level_parse, config=_config(server))
    assert answers[:2] == [2, 2] and answers[3] == 2
    assert isinstance(answers[2], LLMError) and "HTTP 400" in str(answers[2])
    assert len(server.requests) == 4


def test_the_old_chat_signature_still_works_and_a_malformed_answer_is_an_error_after_the_tries():
    with ChatServer(lambda body, n: (200, "not a number", {})) as server:
        assert chat([{"role": "user", "content": "hi"}], config=_config(server), max_tokens=4, json_mode=True) == "not a number"
        [failure] = chat_many([[{"role": "user", "content": "hi"}]], parse=level_parse, config=_config(server, attempts=2))
    assert isinstance(failure, LLMError) and "not the answer asked for" in str(failure)
    assert server.requests[0]["response_format"] == {"type": "json_object"}
    with pytest.raises(MalformedAnswer):
        level_parse("six")


def test_the_chat_judge_sends_each_axis_only_its_inputs_and_images_as_data_urls():
    def by_axis(body, n):
        text = prompt_of(body)
        return 200, "2" if "FORMATTING" in text else "4", {}

    turn = TurnToRate(question="What colour is the bus?", answer="The bus is yellow.", image_count=1,
                      images=(TurnImage(b"\x89PNG fake", "image/png"),))
    with ChatServer(by_axis) as server:
        judge = ChatJudge(_config(server))
        [rated] = judge.rate([turn])
    assert {axis: r.score for axis, r in rated.items()} == {
        "formatting": 2, "relevance": 4, "visual_dependency": 4, "image_correspondence": 4
    }
    assert rated["formatting"].reason == "rubric level 2: Poor"
    prompts = {prompt_of(body).split("\n")[0]: body for body in server.requests}
    visual = next(b for k, b in prompts.items() if "VISUAL DEPENDENCY" in k)
    assert "The bus is yellow." not in prompt_of(visual)  # the question alone
    image = next(b for k, b in prompts.items() if "IMAGE-QUESTION" in k)
    parts = image["messages"][0]["content"]
    assert parts[0]["image_url"]["url"].startswith("data:image/png;base64,")
    assert "The bus is yellow." not in prompt_of(image)
    assert judge.name.startswith("chat-judge:llm:judge-m@127.0.0.1") and "ratings_v1" in judge.version
