"""mapping_suggest: stores the proposal as a version with engine, confidence and reasons; the text model and an
OpenAI-compatible LLM (stubbed here by a tiny local HTTP server: the only thing stubbed) behind one interface."""
import json

import pytest

from curation.engines.text_embedding import ENGINE_NAME
from curation.mapping.suggesters import SuggestionFailed
from curation.models import Job, Mapping
from curation.services import job_kinds
from curation.services.jobs import job_create
from curation.services.mapping import MappingStateError, mapping_suggest, mapping_suggest_start
from tests.curation.mapping import layouts
from tests.curation.mapping.fake_llm import FakeLLM
from workers.tasks.mapping import suggest_mapping

pytestmark = pytest.mark.django_db


def llm_settings(settings, url: str) -> None:
    settings.FINECURATE_LLM_BASE_URL = url
    settings.FINECURATE_LLM_MODEL = "qwen-test"
    settings.FINECURATE_LLM_API_KEY = "k-123"
    settings.FINECURATE_LLM_TIMEOUT = 5.0


LLM_SPEC = {
    "subset": {"name": "vqa_by_llm", "category": "general_vqa"},
    "images": [{"column": "image", "kind": "auto"}],
    "turns": {"mode": "template", "pairs": [{"user": "{question}", "assistant": "{multiple_choice_answer}"}]},
}


def test_the_llm_proposal_is_validated_and_stored_with_its_reasons(settings, curator):
    source = layouts.source_with_rows("vqav2", layouts.vqav2_records())
    reply = {"spec": LLM_SPEC, "confidence": 0.8,
             "reasons": [{"role": "answer", "column": "multiple_choice_answer", "text": "took it as answer because ..."}]}
    with FakeLLM(reply) as llm:
        llm_settings(settings, llm.url)
        mapping = mapping_suggest(source=source)
    assert mapping.engine == f"llm:qwen-test@127.0.0.1:{llm.server.server_port}"
    assert mapping.confidence == 0.8 and mapping.spec["subset"]["name"] == "vqa_by_llm"
    assert mapping.reasons[0]["text"] == "took it as answer because ..."
    request = llm.requests[0]
    assert request["path"] == "/v1/chat/completions" and request["auth"] == "Bearer k-123"
    assert request["body"]["model"] == "qwen-test" and "multiple_choice_answer" in request["body"]["messages"][1]["content"]


def test_an_invalid_llm_proposal_is_refused_like_a_humans_and_the_rules_answer(settings):
    source = layouts.source_with_rows("vqav2", layouts.vqav2_records())
    bad = json.loads(json.dumps(LLM_SPEC))
    bad["turns"]["pairs"][0]["assistant"] = "{best_answer}"
    with FakeLLM("Here you go:\n```json\n" + json.dumps({"spec": bad, "confidence": 0.99}) + "\n```") as llm:
        llm_settings(settings, llm.url)
        mapping = mapping_suggest(source=source)
    assert mapping.engine == "rules"
    notes = " ".join(r["text"] for r in mapping.reasons)
    assert "proposed a spec that is not valid" in notes and "{best_answer} is not a column" in notes


def test_an_unreachable_llm_is_noted_and_an_explicit_llm_request_fails_clearly(settings):
    source = layouts.source_with_rows("vqav2", layouts.vqav2_records())
    with FakeLLM({"error": "overloaded"}, status=400) as llm:
        llm_settings(settings, llm.url)
        mapping = mapping_suggest(source=source)
        assert mapping.engine == "rules"
        assert any("could not run" in r["text"] and "HTTP 400" in r["text"] for r in mapping.reasons)
        with pytest.raises(SuggestionFailed, match="HTTP 400"):
            mapping_suggest(source=source, engine="llm")


def test_the_text_model_matches_names_no_lexicon_knows():
    source = layouts.source_with_rows("oddly-named-vqa", [
        {"picture": None, "user_query": "What is on the table?", "reply": "A cup."},
        {"picture": None, "user_query": "Is it raining?", "reply": "No."},
    ])
    mapping = mapping_suggest(source=source)
    assert mapping.engine == ENGINE_NAME
    assert mapping.spec["turns"]["pairs"] == [{"user": "{user_query}", "assistant": "{reply}"}]
    texts = " ".join(r["text"] for r in mapping.reasons)
    assert "took column 'reply' as answer because its name is closest in meaning to 'answer' (cosine" in texts
    assert "suggester rules found no evidence for: answer" in texts
    assert 0.5 <= mapping.confidence < 1


def test_the_text_model_leaves_a_role_empty_when_names_are_ambiguous():
    source = layouts.source_with_rows("opaque", [{"col_a": "x" * 30, "col_b": "y" * 30}])
    mapping = mapping_suggest(source=source, engine="embedding")
    assert mapping.engine == ENGINE_NAME and mapping.confidence == 0.0
    assert {r["role"] for r in mapping.reasons if r["column"] is None} >= {"question", "answer"}


def test_a_redelivered_suggestion_job_does_not_make_a_second_version(curator):
    source = layouts.source_with_rows("trivia", layouts.textonly_records())
    job = job_create(kind=job_kinds.SUGGEST_MAPPING.key, target=source, params={"engine": "rules"}, created_by=curator)
    first = mapping_suggest(source=source, job=job)
    job.refresh_from_db()
    assert job.result["mapping_id"] == first.pk and job.result["valid"] is True
    assert mapping_suggest(source=source, job=job) == first
    assert Mapping.objects.filter(source=source).count() == 1 and first.created_by == curator


def test_suggesting_the_same_again_keeps_the_pending_version():
    source = layouts.source_with_rows("trivia", layouts.textonly_records())
    assert mapping_suggest(source=source) == mapping_suggest(source=source)


def test_a_source_that_is_not_ingested_cannot_be_suggested_for(curator):
    source = layouts.source_with_rows("fresh", layouts.textonly_records(), status="ingesting")
    with pytest.raises(MappingStateError, match="ingesting"):
        mapping_suggest_start(source=source, by=curator)
    empty = layouts.source_with_rows("empty", [])
    job = job_create(kind=job_kinds.SUGGEST_MAPPING.key, target=empty)
    suggest_mapping.run(job.pk)
    job.refresh_from_db()
    assert job.state == Job.State.FAILED and "has no rows yet" in job.message
