"""Rule-based suggestion of a mapping rule for each action signature of a source.

Names are matched through a table of the spellings public GUI datasets use (tap, left_click, CLICK,
input_text, hotkey, PRESS_BACK, terminate, ...); parameters by the names they are written with, then by
position; points written as one argument ([[523, 311]]) are split into x and y. The coordinate convention
comes from the values seen with each sample's image size: all within [0, 1] -> relative; within the image ->
pixels; within [0, 1000] -> thousand. Where a rule cannot be found the signature is left unmapped, with why.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from curation.actions.convert import Rule, ref_resolve
from curation.actions.parser import ParsedAction
from curation.actions.schema import COORDINATE_TYPES, ActionSpec, ParamSpec, SchemaSpec

RULES_ENGINE = "action-rules"
RULES_VERSION = "1"

NAME_ALIASES: dict[str, str] = {
    **{n: "click" for n in ("click", "tap", "left_click", "leftclick", "single_click", "touch", "select", "dual_point")},
    **{n: "double_click" for n in ("double_click", "doubleclick", "dblclick", "double_tap")},
    **{n: "right_click" for n in ("right_click", "rightclick", "context_click")},
    **{n: "move_mouse" for n in ("move_mouse", "move_to", "moveto", "mouse_move", "hover", "move")},
    **{n: "drag" for n in ("drag", "drag_to", "dragto", "drag_and_drop", "left_drag")},
    **{n: "scroll" for n in ("scroll", "vscroll", "hscroll", "scroll_down", "scroll_up", "scroll_left", "scroll_right")},
    **{n: "type" for n in ("type", "write", "typewrite", "input_text", "input", "type_text", "enter_text", "text")},
    **{n: "press" for n in ("press", "hotkey", "key", "key_press", "keypress", "press_key", "keyboard_press")},
    **{n: "wait" for n in ("wait", "sleep", "pause")},
    **{n: "navigate_back" for n in ("navigate_back", "back", "press_back", "go_back")},
    **{n: "navigate_home" for n in ("navigate_home", "home", "press_home", "go_home")},
    **{n: "open_app" for n in ("open_app", "open", "launch", "launch_app", "start_app", "open_application")},
    **{n: "swipe" for n in ("swipe", "fling")},
    **{n: "long_press" for n in ("long_press", "longpress", "long_tap", "press_and_hold")},
    **{n: "final_answer" for n in ("final_answer", "answer", "terminate", "finish", "finished", "complete", "done",
                                   "status_complete", "stop", "response")},
}

PARAM_ALIASES: dict[str, tuple[str, ...]] = {
    "x": ("x", "x_coord", "coord_x", "left"),
    "y": ("y", "y_coord", "coord_y", "top"),
    "from_coord": ("from_coord", "start", "start_point", "start_coord", "startcoordinate", "from", "touch_point",
                   "start_box", "from_point", "source"),
    "to_coord": ("to_coord", "end", "end_point", "end_coord", "endcoordinate", "to", "lift_point", "end_box",
                 "to_point", "target"),
    "direction": ("direction", "dir", "scroll_direction"),
    "amount": ("amount", "clicks", "distance", "steps", "magnitude"),
    "text": ("text", "content", "message", "string", "typed_text", "value", "input"),
    "keys": ("keys", "key", "hotkey", "combo", "key_comb", "button"),
    "seconds": ("seconds", "time", "duration", "secs", "second"),
    "app_name": ("app_name", "app", "name", "package", "application"),
    "answer": ("answer", "text", "content", "response", "status", "message"),
}
# The share of coordinates within [0, 1] from which a signature reads as relative.
RELATIVE_SHARE = 0.75
# Keyword names that hold a whole point ([x, y] or [[x, y]]) for x and y.
POINT_KEYS = ("coordinate", "coords", "coord", "point", "position", "pos", "location", "touch_point", "start_box",
              "box", "bbox", "center")


def name_key(name: str) -> str:
    """snake_case, lower: doubleClick -> double_click, PRESS_BACK -> press_back, long-press -> long_press."""
    name = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


@dataclass
class Observation:
    """Every occurrence of one signature in a source: how many, a few examples and the image sizes seen."""

    signature: str
    syntax: str
    count: int = 0
    examples: list[ParsedAction] = field(default_factory=list)
    image_sizes: list[tuple[int, int] | None] = field(default_factory=list)


@dataclass(frozen=True)
class Suggestion:
    rule: Rule
    confidence: float
    reason: str
    # The share of the coordinates seen that fit the chosen convention (0 without coordinates).
    convention_share: float = 0.0


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def _is_point(v: Any) -> bool:
    while isinstance(v, list) and len(v) == 1:
        v = v[0]
    return isinstance(v, list) and len(v) in (2, 4) and all(_is_number(i) for i in v)


def _point_ref(ref: str, value: Any) -> str:
    depth = 0
    while isinstance(value, list) and len(value) == 1:
        value, depth = value[0], depth + 1
    return ref + "[0]" * depth


def _target_for(example: ParsedAction, schema: SchemaSpec) -> str | None:
    key = name_key(example.name)
    if key in schema.actions:
        return key
    target = NAME_ALIASES.get(key)
    return target if target in schema.actions else None


def _params_for(spec: ActionSpec, example: ParsedAction, name: str) -> tuple[dict[str, str], list[str]]:
    """References for each parameter of the target, found by name then by position; notes say what was guessed."""
    kwargs = {name_key(k): k for k in example.kwargs}
    refs: dict[str, str] = {}
    notes: list[str] = []
    used_positions: set[int] = set()
    points = [(f"${i}", v) for i, v in enumerate(example.args) if _is_point(v)]
    points += [(k, example.kwargs[k]) for key, k in kwargs.items() if key in POINT_KEYS and _is_point(example.kwargs[k])]
    numbers = [i for i, v in enumerate(example.args) if _is_number(v)]
    strings = [i for i, v in enumerate(example.args) if isinstance(v, str)]

    def by_name(param: ParamSpec) -> str | None:
        for alias in PARAM_ALIASES.get(param.name, (param.name,)):
            if alias in kwargs and not (param.type == "string" and not isinstance(example.kwargs[kwargs[alias]], str)):
                return kwargs[alias]
        return None

    for param in spec.params:
        ref = by_name(param)
        if ref is not None and param.type == "coordinate" and _is_point(example.kwargs[ref]):
            ref = _point_ref(ref, example.kwargs[ref]) + ("[1]" if param.axis == "y" else "[0]")
        if ref is None and param.type == "coordinate":
            if points:
                ref = _point_ref(points[0][0], ref_resolve(points[0][0], example)) + ("[1]" if param.axis == "y" else "[0]")
            else:
                free = [i for i in numbers if i not in used_positions]
                if free:
                    ref = f"${free[0]}"
                    used_positions.add(free[0])
        elif ref is None and param.type == "point":
            taken = {r for r in refs.values()}
            free_points = [p for p in points if _point_ref(p[0], p[1]) not in taken]
            if free_points:
                ref = _point_ref(free_points[0][0], free_points[0][1])
            else:
                free = [i for i in numbers if i not in used_positions]
                if len(free) >= 2:
                    ref = f"[${free[0]}, ${free[1]}]"
                    used_positions.update(free[:2])
        elif ref is None and param.type == "keys" and example.args:
            ref = "$*"
        elif ref is None and param.type in ("string", "enum"):
            free = [i for i in strings if i not in used_positions]
            if free:
                ref = f"${free[0]}"
                used_positions.add(free[0])
            elif param.type == "enum":
                suffix = name_key(name).rpartition("_")[2]
                if suffix in param.choices:
                    ref = f"='{suffix}'"
                    notes.append(f"{param.name} from the name ({suffix})")
        elif ref is None and param.type in ("float", "int"):
            free = [i for i in numbers if i not in used_positions]
            if free:
                ref = f"${free[0]}"
                used_positions.add(free[0])
        if ref is not None:
            refs[param.name] = ref
    # pyautogui.scroll(-3): the sign is the direction, the magnitude the amount.
    if spec.name == "scroll" and "direction" not in refs and refs.get("amount", "").startswith("$"):
        refs["direction"] = f"updown:{refs['amount']}"
        refs["amount"] = f"abs:{refs['amount']}"
        notes.append("direction from the sign of the amount")
    return refs, notes


def _coordinate_values(rule: Rule, spec: ActionSpec, example: ParsedAction) -> list[tuple[str, float]]:
    values: list[tuple[str, float]] = []
    for param in spec.params:
        if param.type not in COORDINATE_TYPES or param.name not in rule.params:
            continue
        value = ref_resolve(rule.params[param.name], example)
        if param.type == "coordinate" and _is_number(value):
            values.append((param.axis, float(value)))
        elif param.type == "point" and isinstance(value, list) and len(value) >= 2 and all(_is_number(v) for v in value[:2]):
            values += [("x", float(value[0])), ("y", float(value[1]))]
    return values


def _convention(observation: Observation, rule: Rule, spec: ActionSpec) -> tuple[str, str, float]:
    seen = [(v, size) for ex, size in zip(observation.examples, observation.image_sizes, strict=False)
            for v in _coordinate_values(rule, spec, ex)]
    if not seen:
        return "relative", "no coordinates", 0.0
    unit = sum(1 for (_, value), _ in seen if 0 <= value <= 1) / len(seen)
    # Pixel coordinates are almost never all below 1: mostly-[0, 1] values are relative, outliers fail validation.
    if unit >= RELATIVE_SHARE:
        return "relative", f"{unit:.0%} of the coordinates seen are within [0, 1]", unit
    in_image = sum(1 for (axis, value), size in seen
                   if size is not None and 0 <= value <= (size[0] if axis == "x" else size[1])) / len(seen)
    in_thousand = sum(1 for (_, value), _ in seen if 0 <= value <= 1000) / len(seen)
    if in_image >= in_thousand and in_image > 0:
        return "pixels", f"{in_image:.0%} of the coordinates seen are within their image's size", in_image
    if in_thousand > 0:
        return "thousand", f"{in_thousand:.0%} of the coordinates seen are within [0, 1000], fewer within the image", in_thousand
    return "pixels", "coordinates exceed both the image and 1000: check the convention", 0.0


def rules_suggest(observation: Observation, *, schema: SchemaSpec) -> Suggestion:
    """A rule for one signature from its examples; target None (with the reason) when no action fits."""
    if not observation.examples:
        return Suggestion(Rule(target=None), 0.0, "no example to learn from")
    example = observation.examples[0]
    target = _target_for(example, schema)
    if target is None:
        return Suggestion(Rule(target=None), 0.0, f"no action of the schema is called {example.name!r} or an alias of it")
    spec = schema.actions[target]
    refs, notes = _params_for(spec, example, example.name)
    missing = [p.name for p in spec.params if p.required and p.name not in refs]
    rule = Rule(target=target, params=refs)
    convention, why, share = _convention(observation, rule, spec)
    rule = Rule(target=target, params=refs, coords=convention)
    renamed = "same name" if name_key(example.name) == target else f"{example.name} -> {target}"
    reason = "; ".join([renamed, f"coordinates {convention} ({why})" if any(
        p.type in COORDINATE_TYPES for p in spec.params) else "no coordinates", *notes])
    if missing:
        reason += f"; no source for required {', '.join(missing)}"
    confidence = 0.9 if not missing and name_key(example.name) == target else (0.7 if not missing else 0.3)
    return Suggestion(rule, confidence, reason, share)


def _family(observation: Observation) -> str:
    example = observation.examples[0] if observation.examples else None
    return f"{observation.syntax}:{example.module if example else ''}"


def rules_suggest_all(observations: dict[str, Observation], *, schema: SchemaSpec) -> dict[str, Suggestion]:
    """A rule per signature; a signature whose coordinates fit no convention fully takes the one most other
    signature of its family (same syntax and module prefix) agrees on, as a source mostly keeps one convention."""
    suggestions = {sig: rules_suggest(obs, schema=schema) for sig, obs in observations.items()}
    agreed: dict[str, Counter[str]] = {}
    for sig, suggestion in suggestions.items():
        if suggestion.convention_share == 1.0:
            agreed.setdefault(_family(observations[sig]), Counter())[suggestion.rule.coords] += 1
    for sig, suggestion in suggestions.items():
        if not 0 < suggestion.convention_share < 1.0:
            continue
        votes = agreed.get(_family(observations[sig]), Counter())
        if not votes:
            continue
        convention, n = votes.most_common(1)[0]
        if n * 2 > sum(votes.values()) and convention != suggestion.rule.coords:
            rule = Rule(target=suggestion.rule.target, params=suggestion.rule.params, coords=convention)
            reason = (f"{suggestion.reason}; coordinates {convention} like most other "
                      f"{_family(observations[sig])} actions of the source")
            suggestions[sig] = Suggestion(rule, suggestion.confidence, reason, suggestion.convention_share)
    return suggestions
