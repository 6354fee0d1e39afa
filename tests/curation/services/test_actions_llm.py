"""Action mapping suggestions from an OpenAI-compatible endpoint (a loopback stand-in): checked like edits."""
import pytest

from curation.engines.chat import LLMError
from curation.services.actions import ActionMappingError, action_mapping_suggest
from tests.curation.actions.trajectories import POINT_TAGS
from tests.curation.mapping.fake_llm import FakeLLM
from tests.curation.services.test_actions import gui_source_make
from tests.curation.services.test_mapping_suggest import llm_settings

pytestmark = pytest.mark.django_db


def test_the_models_rules_are_used_where_valid_and_rules_fill_the_rest(settings):
    source, _, _ = gui_source_make((POINT_TAGS,))
    reply = {"rules": {
        "ZOOM <point>": {"target": "click", "params": {"x": "$0[0]", "y": "$0[1]"}, "coords": "thousand"},
        "COMPLETE": {"target": "final_answer", "params": {"answer": "='done'"}},
        "PRESS_BACK": {"target": "fly_away"},  # not in the schema: dropped, the rules' suggestion stands
        "NOT_IN_SOURCE": {"target": "click"},
    }}
    with FakeLLM(reply) as llm:
        llm_settings(settings, llm.url)
        mapping = action_mapping_suggest(source=source)
    prompt = llm.requests[0]["body"]["messages"][0]["content"]
    assert "CLICK <point>" in prompt and "final_answer" in prompt
    assert mapping.rules["ZOOM <point>"]["target"] == "click"
    assert mapping.rules["COMPLETE"]["params"] == {"answer": "='done'"}
    assert mapping.rules["PRESS_BACK"]["target"] == "navigate_back"
    assert "NOT_IN_SOURCE" not in mapping.rules
    assert mapping.reasons["ZOOM <point>"].startswith("proposed by llm:qwen-test")
    assert "llm:qwen-test" in mapping.engine and "action-rules@1" in mapping.engine


def test_a_broken_answer_fails_loudly_and_llm_without_endpoint_is_refused(settings):
    source, _, _ = gui_source_make((POINT_TAGS,))
    with FakeLLM("not json") as llm:
        llm_settings(settings, llm.url)
        with pytest.raises(LLMError, match="not the JSON"):
            action_mapping_suggest(source=source)
    settings.FINECURATE_LLM_BASE_URL = ""
    with pytest.raises(ActionMappingError, match="no LLM endpoint"):
        action_mapping_suggest(source=source, engine="llm")
    assert action_mapping_suggest(source=source, engine="rules").engine == "action-rules@1"
