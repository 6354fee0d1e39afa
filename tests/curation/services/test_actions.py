"""Action mapping services on the real database: suggest, edit, accept, apply (twice), stats, schema versions."""
import pytest

from curation.actions.schema import SchemaSpecError
from curation.models import ActionMapping, ActionSchema, Decision, SampleAction, SampleActionTurn
from curation.services.actions import (
    ActionMappingError,
    action_mapping_accept,
    action_mapping_apply,
    action_mapping_create_version,
    action_mapping_reject,
    action_mapping_suggest,
    action_schema_active,
    action_schema_create_version,
    action_schema_spec,
    subset_action_stats,
)
from tests.curation.actions.trajectories import TRAJECTORIES
from tests.factories import image_make, sample_make, source_make, subset_make

pytestmark = pytest.mark.django_db


def gui_source_make(trajectories=TRAJECTORIES, *, name="gui-mixed"):
    """One source mixing the trajectories: one sample per trajectory, one turn per step, its screenshot size."""
    source = source_make(name=name)
    subset = subset_make(name=f"{name}-subset", category="gui")
    samples = {}
    for trajectory in trajectories:
        image = image_make(size=trajectory.image_size)
        turns = [{"user": f"Step {i + 1}: what next?", "assistant": text} for i, (text, _) in enumerate(trajectory.steps)]
        samples[trajectory.name] = sample_make(subset=subset, source=source, turns=turns, images=[image])
    return source, subset, samples


def _stored(sample) -> list[tuple[str, str]]:
    return [(a.canonical, a.state) for a in SampleAction.objects.filter(sample=sample).order_by("turn", "position")]


def test_the_unified_schema_is_seeded_with_typed_parameters():
    schema = action_schema_active()
    spec = action_schema_spec(schema=schema)
    assert (schema.name, schema.version) == ("unified", 1)
    assert list(spec.actions) == ["click", "double_click", "right_click", "move_mouse", "drag", "scroll", "type", "press",
                                  "wait", "navigate_back", "navigate_home", "open_app", "swipe", "long_press", "final_answer"]
    direction = spec.actions["scroll"].param("direction")
    assert direction.choices == ("up", "down", "left", "right") and direction.required
    assert spec.actions["click"].param("x").type == "coordinate" and spec.actions["click"].param("x").maximum == 1.0


def test_suggest_then_apply_normalises_every_trajectory_action_by_action(curator):
    source, subset, samples = gui_source_make()
    mapping = action_mapping_suggest(source=source, by=curator)
    assert mapping.status == "suggested" and mapping.turns_scanned == sum(len(t.steps) for t in TRAJECTORIES)
    counts = {s["signature"]: s["count"] for s in mapping.signatures}
    assert counts["{action_type: click, x, y}"] == 2 and counts["CLICK <point>"] == 2
    assert mapping.rules["ZOOM <point>"]["target"] is None
    assert mapping.rules["pyautogui.click(_, _)"]["coords"] == "pixels"
    assert mapping.rules["CLICK <point>"]["coords"] == "thousand"
    action_mapping_accept(mapping=mapping, by=curator)
    result = action_mapping_apply(mapping=mapping)
    expected_total = sum(len(t.expected) for t in TRAJECTORIES)
    assert result["actions"] == expected_total
    for trajectory in TRAJECTORIES:
        sample = samples[trajectory.name]
        assert _stored(sample) == trajectory.expected, trajectory.name
        sample.refresh_from_db()
        assert [t["assistant"] for t in sample.turns] == ["\n".join(c for c, _ in actions) for _, actions in trajectory.steps]

    again = action_mapping_apply(mapping=mapping)  # idempotent: parses the kept original text, not the rewritten one
    assert again == result
    assert SampleAction.objects.filter(sample__subset=subset).count() == expected_total
    assert SampleActionTurn.objects.filter(sample__subset=subset).count() == sum(len(t.steps) for t in TRAJECTORIES)
    for trajectory in TRAJECTORIES:
        assert _stored(samples[trajectory.name]) == trajectory.expected

    stats = subset_action_stats(subset=subset)
    assert stats["total"] == expected_total
    assert stats["valid"] == sum(1 for t in TRAJECTORIES for _, s in t.expected if s == "valid")
    assert stats["samples_failed"] == 4
    reasons = {f["reason"] for f in stats["failed"]}
    assert "x=1.25 is outside [0, 1]" in reasons and "missing required parameter answer" in reasons
    assert any(r.startswith("ZOOM <point> is marked as not mappable") for r in reasons)
    click = next(row for row in stats["distribution"] if row["name"] == "click")
    assert (click["total"], click["invalid"]) == (8, 1)


def test_an_edited_version_fixes_a_rule_and_reapplying_uses_the_original_text(curator):
    source, subset, samples = gui_source_make()
    first = action_mapping_suggest(source=source, by=curator)
    action_mapping_accept(mapping=first, by=curator)
    action_mapping_apply(mapping=first)
    edited = action_mapping_create_version(
        based_on=first, by=curator,
        rules={"COMPLETE": {"target": "final_answer", "params": {"answer": "='done'"}},
               "ZOOM <point>": {"target": "click", "params": {"x": "$0[0]", "y": "$0[1]"}, "coords": "thousand"}},
    )
    assert edited.version == 2 and edited.rules["COMPLETE"]["params"] == {"answer": "='done'"}
    assert Decision.objects.filter(verdict="edit", target_id=str(edited.pk)).exists()
    action_mapping_accept(mapping=edited, by=curator)
    action_mapping_apply(mapping=edited)
    first.refresh_from_db()
    assert first.status == "superseded"
    tags = _stored(next(s for name, s in samples.items() if "point tags" in name))
    assert tags[-2:] == [("click(x=0.01, y=0.02)", "valid"), ('final_answer(answer="done")', "valid")]


def test_bad_rules_and_wrong_states_are_refused(curator):
    source, _, _ = gui_source_make(TRAJECTORIES[:1])
    mapping = action_mapping_suggest(source=source, by=curator)
    with pytest.raises(Exception, match="no parameter"):
        action_mapping_create_version(based_on=mapping, by=curator, rules={"pyautogui.scroll(_)": {"target": "scroll", "params": {"speed": "$0"}}})
    with pytest.raises(Exception, match="no such signature"):
        action_mapping_create_version(based_on=mapping, by=curator, rules={"fly()": {"target": None}})
    with pytest.raises(ActionMappingError, match="say why"):
        action_mapping_reject(mapping=mapping, by=curator, reason=" ")
    action_mapping_reject(mapping=mapping, by=curator, reason="wrong source")
    with pytest.raises(ActionMappingError, match="only a suggested version"):
        action_mapping_accept(mapping=mapping, by=curator)
    assert ActionMapping.objects.get(pk=mapping.pk).status == "rejected"


def test_editing_the_schema_writes_a_new_active_version(curator):
    schema = action_schema_active()
    spec = action_schema_spec(schema=schema).to_dict()
    spec["actions"].append({"name": "zoom", "params": [{"name": "factor", "type": "float", "required": True, "minimum": 0.1}]})
    created = action_schema_create_version(schema=schema, spec=spec, by=curator, note="add zoom")
    assert (created.version, created.status) == (2, "active")
    assert ActionSchema.objects.get(pk=schema.pk).status == "superseded"
    assert "zoom" in action_schema_spec(schema=action_schema_active()).actions
    with pytest.raises(SchemaSpecError):
        action_schema_create_version(schema=created, spec={"actions": [{"name": "x y"}]}, by=curator)
    assert action_schema_active().version == 2
