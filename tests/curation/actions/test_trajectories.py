"""Four public action syntaxes through suggestion and conversion, checked action by action."""
import pytest

from curation.actions.convert import action_convert
from curation.actions.parser import parse_actions
from curation.actions.schema import unified_schema_spec
from curation.actions.suggest import Observation, rules_suggest_all
from tests.curation.actions.trajectories import (
    AGUVIS,
    ANDROIDCONTROL,
    POINT_TAGS,
    PYAUTOGUI,
    TRAJECTORIES,
    Trajectory,
)


def _convert(trajectory: Trajectory) -> list[tuple[str, str, str]]:
    schema = unified_schema_spec()
    observations: dict[str, Observation] = {}
    parsed_steps = [parse_actions(text) for text, _ in trajectory.steps]
    for actions in parsed_steps:
        for action in actions:
            obs = observations.setdefault(action.signature, Observation(action.signature, action.syntax))
            obs.count += 1
            obs.examples.append(action)
            obs.image_sizes.append(trajectory.image_size)
    rules = {sig: s.rule for sig, s in rules_suggest_all(observations, schema=schema).items()}
    out = []
    for actions in parsed_steps:
        for action in actions:
            converted = action_convert(action, rule=rules.get(action.signature), schema=schema, image_size=trajectory.image_size)
            out.append((converted.canonical, converted.state, converted.reason))
    return out


@pytest.mark.parametrize("trajectory", TRAJECTORIES, ids=lambda t: t.name)
def test_each_action_of_the_trajectory_becomes_its_canonical_call(trajectory):
    got = _convert(trajectory)
    assert [(canonical, state) for canonical, state, _ in got] == trajectory.expected


def test_validation_reasons_say_what_failed():
    reasons = {canonical: reason for canonical, state, reason in _convert(PYAUTOGUI) + _convert(POINT_TAGS) if state != "valid"}
    assert reasons["move_mouse(x=1.25, y=0.0926)"] == "x=1.25 is outside [0, 1]"
    assert reasons["drag(from_coord=[0.0521, 0.1852])"] == "missing required parameter to_coord"
    assert reasons["final_answer()"] == "missing required parameter answer"
    assert reasons["ZOOM <point>[[10,20]]</point>"].startswith("no mapping for ZOOM <point>") or \
        "not mappable" in reasons["ZOOM <point>[[10,20]]</point>"]


def test_the_share_of_valid_actions_per_trajectory():
    shares = {t.name: round(t.valid_share, 3) for t in TRAJECTORIES}
    assert shares == {PYAUTOGUI.name: 0.778, ANDROIDCONTROL.name: 0.889, AGUVIS.name: 0.909, POINT_TAGS.name: 0.818}
    for trajectory in TRAJECTORIES:
        got = _convert(trajectory)
        assert sum(1 for _, state, _ in got if state == "valid") / len(got) == trajectory.valid_share

