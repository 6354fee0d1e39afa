"""The agent loop against a chat-completions server this test starts on localhost: the verifier (which is sent
the image) rejects, the corrector fixes on its feedback, and a negative that never passes stops at the bound."""
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core.management import call_command

from curation.models import HardNegative
from curation.services.hard_negatives import MAX_CORRECTION_ROUNDS
from tests.factories import image_make, sample_make, source_make, subset_make

pytestmark = pytest.mark.django_db

POSITIVE = "A red bus parked on the street."
FIXABLE = "A crimson bus parked on the street."
FIXED = "A blue bus parked on the street."
STUBBORN = "A red bus parked in the street."


class AgentServer:
    """Answers as generator, verifier or corrector depending on the prompt; records every request."""

    def __init__(self) -> None:
        self.requests: list[dict] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append(body)
                payload = json.dumps({"choices": [{"message": {"role": "assistant", "content": json.dumps(server.answer(body))}}]}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def log_message(self, *args: object) -> None:
                pass

        self.http = HTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.http.serve_forever, daemon=True)

    @staticmethod
    def prompt(body: dict) -> str:
        content = body["messages"][0]["content"]
        return content if isinstance(content, str) else next(p["text"] for p in content if p["type"] == "text")

    def answer(self, body: dict) -> dict:
        prompt = self.prompt(body)
        if "generator agent" in prompt:
            return {"negatives": [
                {"text": FIXABLE, "changes": [{"attribute": "colour", "origin": "red", "target": "crimson"}]},
                {"text": STUBBORN, "changes": [{"attribute": "spatial_relation", "origin": "on", "target": "in"}]},
            ]}
        if "verifier agent" in prompt:
            if f"Candidate negative: {FIXED}" in prompt:
                return {"verdict": "pass", "reason": "", "message": "the bus in the image is red, not blue"}
            if f"Candidate negative: {FIXABLE}" in prompt:
                return {"verdict": "fail", "reason": "paraphrase", "message": "crimson is a shade of red"}
            return {"verdict": "fail", "reason": "actually_true", "message": "the image shows that too"}
        if "corrector agent" in prompt:
            if "crimson is a shade of red" in prompt:
                return {"text": FIXED, "changes": [{"attribute": "colour", "origin": "red", "target": "blue"}]}
            return {"text": STUBBORN, "changes": [{"attribute": "spatial_relation", "origin": "on", "target": "in"}]}
        return {"facts": []}

    def __enter__(self) -> "AgentServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.http.shutdown()
        self.http.server_close()


def test_the_verifier_rejects_the_corrector_fixes_and_the_loop_stops_at_the_bound(settings, curator):
    subset = subset_make()
    sample = sample_make(subset=subset, source=source_make(), images=[image_make()],
                         turns=[{"user": "Describe the image.", "assistant": POSITIVE}])
    with AgentServer() as server:
        settings.FINECURATE_LLM_BASE_URL = f"http://127.0.0.1:{server.http.server_port}"
        settings.FINECURATE_LLM_MODEL = "test-vlm"
        call_command("generate_hard_negatives", subset.name, "--engine", "llm", "--ratio", "2")

    fixed = HardNegative.objects.get(sample=sample, slot=0)
    assert (fixed.text, fixed.agent_verdict, fixed.correction_rounds) == (FIXED, "passed", 1)
    assert fixed.changes == [{"attribute": "colour", "origin": "red", "target": "blue"}] and fixed.level == "hard"
    assert fixed.visual_check == "agent" and fixed.engine_version == "hardneg_v1 / test-vlm"
    trace = list(fixed.steps.values_list("round", "agent", "verdict"))
    assert trace == [(0, "generator", ""), (0, "verifier", "fail"), (1, "corrector", ""), (1, "verifier", "pass")]
    corrector = fixed.steps.get(agent="corrector")
    assert corrector.input["feedback"]["reason"] == "paraphrase" and corrector.output["text"] == FIXED

    stubborn = HardNegative.objects.get(sample=sample, slot=1)
    assert stubborn.agent_verdict == "rejected" and stubborn.correction_rounds == MAX_CORRECTION_ROUNDS
    assert stubborn.agent_reason == "actually_true"
    assert stubborn.steps.filter(agent="verifier").count() == MAX_CORRECTION_ROUNDS + 1
    assert stubborn.steps.filter(agent="corrector").count() == MAX_CORRECTION_ROUNDS

    verifier_calls = [r for r in server.requests if "verifier agent" in AgentServer.prompt(r)]
    assert len(verifier_calls) == 2 + MAX_CORRECTION_ROUNDS + 1
    for call in verifier_calls:
        parts = call["messages"][0]["content"]
        assert any(p["type"] == "image_url" and p["image_url"]["url"].startswith("data:image/png;base64,") for p in parts)
    generator_calls = [r for r in server.requests if "generator agent" in AgentServer.prompt(r)]
    assert len(generator_calls) == 1 and isinstance(generator_calls[0]["messages"][0]["content"], str)
    assert all(r["model"] == "test-vlm" and r["response_format"] == {"type": "json_object"} for r in server.requests)
    # Only the negative that passed is put in front of reviewers.
    assert list(subset.review_queues.get(kind="hard_negative").items.values_list("target_id", flat=True)) == [str(fixed.pk)]
