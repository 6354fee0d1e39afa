"""The action parser: each syntax, the hard cases, and the canonical form parsing back to itself (hypothesis)."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curation.actions.convert import action_convert, rule_from_dict
from curation.actions.parser import ActionSyntaxError, action_format, parse_actions, parse_call, parse_value
from curation.actions.schema import SchemaSpecError, schema_spec_from_dict, unified_schema_spec


def test_keyword_and_positional_arguments_with_a_module_prefix():
    (action,) = parse_actions("pyautogui.click(523, y=311)")
    assert (action.module, action.name, action.args, action.kwargs) == ("pyautogui", "click", (523,), {"y": 311})
    assert action.signature == "pyautogui.click(_, y=)"


def test_quoted_strings_keep_commas_parentheses_quotes_and_escapes():
    (action,) = parse_actions("""type("hello (world), \\"quoted\\" it's\\n")""")
    assert action.args == ('hello (world), "quoted" it\'s\n',)
    (single,) = parse_actions("pyautogui.write(message='a, b) c(')")
    assert single.kwargs == {"message": "a, b) c("}


def test_nested_lists_tuples_and_dicts():
    (action,) = parse_actions("mobile.swipe(from_coord=[0.5, [0.8]], to_coord=(0.5, 0.2), extra={'k': [1, -2.5e-1]})")
    assert action.kwargs == {"from_coord": [0.5, [0.8]], "to_coord": [0.5, 0.2], "extra": {"k": [1, -0.25]}}


def test_several_calls_per_turn_among_prose_and_code():
    text = ("Thought: I can't see it (maybe below), so scroll.\n```python\nimport pyautogui\n"
            "pyautogui.scroll(-3); time.sleep(1)\npyautogui.click(x=10, y=20)\n```")
    assert [a.qualified_name for a in parse_actions(text)] == ["pyautogui.scroll", "time.sleep", "pyautogui.click"]


def test_json_action_objects_one_or_a_list():
    one = parse_actions('{"action_type": "click", "x": 523, "y": 311}')
    assert (one[0].name, one[0].kwargs["x"], one[0].syntax) == ("click", 523, "json")
    assert one[0].signature == "{action_type: click, x, y}"
    many = parse_actions('[{"action_type": "open_app", "app_name": "Clock"}, {"action_type": "navigate_back"}]')
    assert [a.name for a in many] == ["open_app", "navigate_back"]
    assert parse_actions('{"not": "an action"}') == []


def test_point_tags_and_bracket_arguments():
    actions = parse_actions("actions:\nCLICK <point>[[523,311]]</point>\nTYPE [a, b (c)]\nPRESS_BACK\nSWIPE <point>[[1,2]]</point> <point>[[3,4]]</point>")
    assert [(a.name, a.args) for a in actions] == [
        ("CLICK", ([523, 311],)), ("TYPE", ("a, b (c)",)), ("PRESS_BACK", ()), ("SWIPE", ([1, 2], [3, 4])),
    ]
    assert actions[0].signature == "CLICK <point>"
    assert parse_actions("The word OK inside a sentence is not an action.") == []


def test_bad_calls_are_errors_with_the_place_and_are_skipped_in_a_turn():
    with pytest.raises(ActionSyntaxError, match="not closed"):
        parse_call("click(x=1, y=2")
    with pytest.raises(ActionSyntaxError, match="positional argument follows"):
        parse_call("click(x=1, 2)")
    assert [a.name for a in parse_actions("click(x=1, 2)\nwait(1)")] == ["wait"]


def test_a_schema_edit_reports_every_problem():
    with pytest.raises(SchemaSpecError) as exc:
        schema_spec_from_dict({"actions": [
            {"name": "click", "params": [{"name": "x", "type": "pixel"}]},
            {"name": "click", "params": []},
            {"name": "scroll", "params": [{"name": "d", "type": "enum", "choices": []}]},
        ]})
    assert len(exc.value.errors) == 3


def test_rules_are_checked_against_the_schema():
    schema = unified_schema_spec()
    with pytest.raises(Exception, match="no parameter"):
        rule_from_dict({"target": "click", "params": {"z": "x"}}, schema=schema)
    with pytest.raises(Exception, match="not an action"):
        rule_from_dict({"target": "fly"}, schema=schema)
    rule = rule_from_dict({"target": "scroll", "params": {"direction": "='up'", "amount": "$0"}}, schema=schema)
    (action,) = parse_actions("scroll_up(3)")
    assert action_convert(action, rule=rule, schema=schema, image_size=None).canonical == 'scroll(direction="up", amount=3.0)'


def test_pixel_coordinates_without_an_image_fail_with_a_reason():
    schema = unified_schema_spec()
    rule = rule_from_dict({"target": "click", "params": {"x": "x", "y": "y"}, "coords": "pixels"}, schema=schema)
    (action,) = parse_actions("click(x=5, y=6)")
    converted = action_convert(action, rule=rule, schema=schema, image_size=None)
    assert converted.state == "invalid" and "no image" in converted.reason


# --- property: the canonical form parses back to itself ---

names = st.from_regex(r"[a-z_][a-z0-9_]{0,12}", fullmatch=True).filter(lambda n: n not in ("True", "False", "None"))
scalars = st.one_of(
    st.integers(min_value=-10**12, max_value=10**12),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=30),
    st.booleans(),
    st.none(),
)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4), max_leaves=10)


@settings(max_examples=300, deadline=None)
@given(name=names, params=st.dictionaries(names, values, max_size=5), args=st.lists(values, max_size=3))
def test_canonical_form_parses_back_to_itself(name, params, args):
    text = action_format(name, params, args=tuple(args))
    (parsed,) = parse_actions(text)
    assert parsed.name == name and parsed.module == ""
    assert list(parsed.args) == args and parsed.kwargs == params
    assert action_format(parsed.name, parsed.kwargs, args=parsed.args) == text


@settings(max_examples=200, deadline=None)
@given(value=values)
def test_values_round_trip(value):
    assert parse_value(action_format("f", {}, args=(value,))[2:-1]) == value


@settings(max_examples=100, deadline=None)
@given(x=st.floats(min_value=0, max_value=1), y=st.floats(min_value=0, max_value=1))
def test_converted_actions_are_canonical_and_stable(x, y):
    schema = unified_schema_spec()
    rule = rule_from_dict({"target": "click", "params": {"x": "x", "y": "y"}, "coords": "relative"}, schema=schema)
    first = action_convert(parse_actions(action_format("click", {"x": x, "y": y}))[0], rule=rule, schema=schema, image_size=None)
    again = action_convert(parse_actions(first.canonical)[0], rule=rule, schema=schema, image_size=None)
    assert first.state == "valid" and again.canonical == first.canonical and again.params == first.params
