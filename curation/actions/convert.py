"""From parsed actions to a schema's actions: mapping rules, coordinate normalisation, validation, canonical form.

A rule says, for one action signature of a source, which schema action it becomes, where each of that
action's parameters comes from (a reference into the parsed arguments) and the source's coordinate
convention. References:
- `x` (a keyword argument), `$0` (the first positional argument), `$*` (all positional arguments, as a list);
- `[1]` after either picks an element (`$0[1]` is y of a point written `[[523, 311]]`);
- `[ref, ref]` builds a list (`[$0, $1]` is a point from two numbers);
- `=value` is a constant in the call syntax (`='down'`);
- `abs:ref` the magnitude and `updown:ref` "up" for a positive number, "down" otherwise (pyautogui.scroll(-3)).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from curation.actions.parser import ActionSyntaxError, ParsedAction, action_format, parse_value
from curation.actions.schema import ParamSpec, SchemaSpec
from curation.errors import ApplicationError

COORDINATE_CONVENTIONS = ("pixels", "relative", "thousand")
# Digits kept in normalised coordinates and other floats of the canonical form.
FLOAT_DIGITS = 4

VALID = "valid"
INVALID = "invalid"
UNMAPPED = "unmapped"


class RuleError(ApplicationError):
    code = "action_rule_invalid"
    status = 400


@dataclass(frozen=True)
class Rule:
    """How one signature becomes a schema action; target None means it cannot be mapped (left unmapped)."""

    target: str | None
    params: dict[str, str] = field(default_factory=dict)
    coords: str = "pixels"

    def to_dict(self) -> dict[str, Any]:
        return {"target": self.target, "params": dict(self.params), "coords": self.coords}


def rule_from_dict(raw: Any, *, schema: SchemaSpec, where: str = "rule") -> Rule:
    if not isinstance(raw, dict):
        raise RuleError(f"{where}: a rule must be an object")
    target = raw.get("target") or None
    if target is not None and target not in schema.actions:
        raise RuleError(f"{where}: {target!r} is not an action of schema {schema.name} v{schema.version}")
    coords = raw.get("coords") or "pixels"
    if coords not in COORDINATE_CONVENTIONS:
        raise RuleError(f"{where}: coordinates must be one of {', '.join(COORDINATE_CONVENTIONS)}")
    params = raw.get("params") or {}
    if not isinstance(params, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in params.items()):
        raise RuleError(f"{where}: params must map parameter names to references")
    if target is not None:
        action = schema.actions[target]
        unknown = sorted(k for k in params if action.param(k) is None)
        if unknown:
            raise RuleError(f"{where}: {target} has no parameter(s) {', '.join(unknown)}")
    for name, ref in params.items():
        try:
            _ref_check(ref)
        except RuleError as exc:
            raise RuleError(f"{where}: parameter {name}: {exc}") from None
    return Rule(target=target, params={k: v.strip() for k, v in params.items() if v.strip()}, coords=coords)


# --- references ---

_MISSING = object()


def _split_top(text: str) -> list[str]:
    """Split on commas outside brackets and quotes."""
    parts, depth, start, quote = [], 0, 0, ""
    for i, ch in enumerate(text):
        if quote:
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
        elif ch in "[(":
            depth += 1
        elif ch in "])":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(text[start:i])
            start = i + 1
    parts.append(text[start:])
    return [p.strip() for p in parts if p.strip()]


def rule_params_parse(text: str) -> dict[str, str]:
    """`x=$0[0], y=$0[1], direction='up'` (as typed on the page) -> {"x": "$0[0]", ...}; RuleError when malformed."""
    params: dict[str, str] = {}
    for part in _split_top(text or ""):
        name, eq, ref = part.partition("=")
        if not eq or not name.strip().isidentifier() or not ref.strip():
            raise RuleError(f"{part!r}: write parameter=reference, e.g. x=$0[0]")
        params[name.strip()] = ref.strip()
    return params


def rule_params_format(params: dict[str, str]) -> str:
    return ", ".join(f"{name}={ref}" for name, ref in params.items())


def _ref_check(ref: str) -> None:
    ref = ref.strip()
    if not ref:
        return
    if ref.startswith("="):
        try:
            parse_value(ref[1:])
        except ActionSyntaxError as exc:
            raise RuleError(f"the constant {ref[1:]!r} is not a value ({exc})") from None
        return
    for prefix in ("abs:", "updown:"):
        if ref.startswith(prefix):
            _ref_check(ref[len(prefix):])
            return
    if ref.startswith("[") and ref.endswith("]"):
        for part in _split_top(ref[1:-1]):
            _ref_check(part)
        return
    _ref_path(ref)


def _ref_path(ref: str) -> tuple[str, list[int]]:
    """`$0[1][0]` -> ("$0", [1, 0]); RuleError when it is not a reference."""
    head, bracket, rest = ref.partition("[")
    if not (head == "$*" or (head.startswith("$") and head[1:].isdigit()) or head.isidentifier()):
        raise RuleError(f"{ref!r} is not a reference (x, $0, $*, $0[1], [$0, $1], ='up')")
    indices: list[int] = []
    rest = bracket + rest
    while rest:
        if not rest.startswith("[") or "]" not in rest:
            raise RuleError(f"{ref!r}: expected [index]")
        index_text, _, rest = rest[1:].partition("]")
        if not index_text.strip().lstrip("-").isdigit():
            raise RuleError(f"{ref!r}: an index must be a whole number")
        indices.append(int(index_text))
    return head, indices


def ref_resolve(ref: str, action: ParsedAction) -> Any:
    """The value a reference points at in the parsed action, or _MISSING."""
    ref = ref.strip()
    value: Any
    if ref.startswith("="):
        return parse_value(ref[1:])
    if ref.startswith("abs:"):
        value = ref_resolve(ref[4:], action)
        return abs(value) if isinstance(value, int | float) and not isinstance(value, bool) else value
    if ref.startswith("updown:"):
        value = ref_resolve(ref[7:], action)
        if isinstance(value, int | float) and not isinstance(value, bool):
            return "up" if value > 0 else "down"
        return value
    if ref.startswith("[") and ref.endswith("]"):
        items = [ref_resolve(p, action) for p in _split_top(ref[1:-1])]
        return _MISSING if any(i is _MISSING for i in items) else items
    head, indices = _ref_path(ref)
    if head == "$*":
        value = list(action.args)
    elif head.startswith("$"):
        index = int(head[1:])
        value = action.args[index] if index < len(action.args) else _MISSING
    else:
        value = action.kwargs.get(head, _MISSING)
    for i in indices:
        if value is _MISSING:
            break
        value = value[i] if isinstance(value, list) and -len(value) <= i < len(value) else _MISSING
    return value


# --- conversion ---


@dataclass(frozen=True)
class ConvertedAction:
    """One action as stored: schema name and typed params, its validation state and reason, canonical form."""

    name: str
    params: dict[str, Any]
    state: str
    reason: str
    canonical: str
    raw: str
    signature: str


def _round(value: float) -> float:
    return round(float(value), FLOAT_DIGITS) + 0.0


def _normalise(value: Any, *, axis: str, convention: str, image_size: tuple[int, int] | None) -> float:
    if isinstance(value, str):
        value = parse_value(value)
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise ValueError(f"{value!r} is not a number")
    if convention == "relative":
        return _round(value)
    if convention == "thousand":
        return _round(value / 1000)
    if image_size is None:
        raise ValueError("coordinates are in pixels but the sample has no image to give its size")
    side = image_size[0] if axis == "x" else image_size[1]
    return _round(value / side)


def _coerce(param: ParamSpec, value: Any, *, convention: str, image_size: tuple[int, int] | None) -> Any:
    """The value in the parameter's type (coordinates normalised), or ValueError saying why not."""
    ptype = param.type
    if ptype == "coordinate":
        return _normalise(value, axis=param.axis, convention=convention, image_size=image_size)
    if ptype == "point":
        if isinstance(value, str):
            value = parse_value(value)
        if isinstance(value, list) and len(value) == 4 and all(isinstance(v, int | float) for v in value):
            value = [(value[0] + value[2]) / 2, (value[1] + value[3]) / 2]  # a box stands for its centre
        if not isinstance(value, list) or len(value) != 2:
            raise ValueError(f"{value!r} is not a point [x, y]")
        return [_normalise(value[0], axis="x", convention=convention, image_size=image_size),
                _normalise(value[1], axis="y", convention=convention, image_size=image_size)]
    if ptype in ("float", "int"):
        if isinstance(value, str):
            try:
                value = parse_value(value.strip())
            except ActionSyntaxError:
                raise ValueError(f"{value!r} is not a number") from None
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise ValueError(f"{value!r} is not a number")
        if ptype == "int":
            if float(value) != int(value):
                raise ValueError(f"{value!r} is not a whole number")
            return int(value)
        return _round(value)
    if ptype == "bool":
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise ValueError(f"{value!r} is not true or false")
    if ptype == "enum":
        text = str(value).strip().lower()
        if text not in param.choices:
            raise ValueError(f"{value!r} is not one of {', '.join(param.choices)}")
        return text
    if ptype == "keys":
        if isinstance(value, str):
            value = [k for k in value.split("+")] if "+" in value and len(value) > 1 else [value]
        if not isinstance(value, list) or not value or not all(isinstance(k, str) and k for k in value):
            raise ValueError(f"{value!r} is not a list of key names")
        return [k.strip().lower() for k in value]
    if value is None or isinstance(value, list | dict):
        raise ValueError(f"{value!r} is not text")
    return str(value)


def _range_problem(param: ParamSpec, value: Any) -> str:
    numbers = value if isinstance(value, list) and param.type == "point" else [value]
    for number in numbers:
        if not isinstance(number, int | float) or isinstance(number, bool):
            continue
        low, high = param.minimum, param.maximum
        if (low is not None and number < low) or (high is not None and number > high):
            shown = f"[{low:g}, {high:g}]" if low is not None and high is not None else (
                f">= {low:g}" if low is not None else f"<= {high:g}")
            return f"{param.name}={number!r} is outside {shown}"
    return ""


def action_convert(
    action: ParsedAction, *, rule: Rule | None, schema: SchemaSpec, image_size: tuple[int, int] | None
) -> ConvertedAction:
    """The schema action one parsed action becomes under its rule, validated; never raises for bad data."""
    signature = action.signature
    if rule is None or rule.target is None:
        reason = f"no mapping for {signature}" if rule is None else f"{signature} is marked as not mappable"
        return ConvertedAction(name=action.name, params={}, state=UNMAPPED, reason=reason, canonical=action.raw,
                               raw=action.raw, signature=signature)
    spec = schema.actions.get(rule.target)
    if spec is None:
        return ConvertedAction(name=rule.target, params={}, state=UNMAPPED, reason=f"unknown action {rule.target}",
                               canonical=action.raw, raw=action.raw, signature=signature)
    params: dict[str, Any] = {}
    problems: list[str] = []
    for param in spec.params:
        ref = rule.params.get(param.name)
        value = ref_resolve(ref, action) if ref else _MISSING
        if value is _MISSING or value is None:
            if param.required:
                problems.append(f"missing required parameter {param.name}")
            elif param.default is not None:
                params[param.name] = param.default
            continue
        try:
            params[param.name] = _coerce(param, value, convention=rule.coords, image_size=image_size)
        except (ValueError, ActionSyntaxError) as exc:
            problems.append(f"{param.name}: {exc}")
            continue
        problem = _range_problem(param, params[param.name])
        if problem:
            problems.append(problem)
    canonical = action_format(spec.name, params)
    return ConvertedAction(name=spec.name, params=params, state=INVALID if problems else VALID, reason="; ".join(problems),
                           canonical=canonical, raw=action.raw, signature=signature)
