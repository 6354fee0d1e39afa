"""Action schemas in memory: actions with typed parameters, the unified desktop + mobile space, and their checks.

The database keeps schemas as rows (curation/models/actions.py); this module is what the converter, the
suggester and the edit page work with: `SchemaSpec` built from rows or from a dict a curator edited, with every
problem of an edited dict reported at once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from curation.errors import ApplicationError

# coordinate: one number in [0, 1] on the axis its name says (x -> width, y -> height);
# point: [x, y], both in [0, 1]; keys: a list of key names (press(keys=["ctrl", "c"])).
PARAM_TYPES = ("coordinate", "point", "float", "int", "string", "bool", "enum", "keys")
COORDINATE_TYPES = ("coordinate", "point")
UNIFIED_SCHEMA_NAME = "unified"


class SchemaSpecError(ApplicationError):
    """An action schema as edited is not valid; `errors` lists every problem."""

    code = "action_schema_invalid"
    status = 400

    def __init__(self, errors: list[str]):
        super().__init__("; ".join(errors), extra={"errors": errors})
        self.errors = errors


@dataclass(frozen=True)
class ParamSpec:
    name: str
    type: str
    required: bool = True
    default: Any = None
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    description: str = ""

    @property
    def axis(self) -> str:
        """For a coordinate: which image side normalises it ("x" -> width, "y" -> height)."""
        return "y" if self.name == "y" or self.name.endswith("_y") else "x"

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name, "type": self.type, "required": self.required}
        if self.default is not None:
            out["default"] = self.default
        if self.minimum is not None:
            out["minimum"] = self.minimum
        if self.maximum is not None:
            out["maximum"] = self.maximum
        if self.choices:
            out["choices"] = list(self.choices)
        if self.description:
            out["description"] = self.description
        return out


@dataclass(frozen=True)
class ActionSpec:
    name: str
    params: tuple[ParamSpec, ...] = ()
    description: str = ""

    def param(self, name: str) -> ParamSpec | None:
        return next((p for p in self.params if p.name == name), None)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "description": self.description, "params": [p.to_dict() for p in self.params]}


@dataclass(frozen=True)
class SchemaSpec:
    name: str
    version: int
    actions: dict[str, ActionSpec] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "actions": [a.to_dict() for a in self.actions.values()]}


def _coord(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "type": "coordinate", "required": True, "minimum": 0.0, "maximum": 1.0, "description": description}


def _point(name: str, description: str) -> dict[str, Any]:
    return {"name": name, "type": "point", "required": True, "minimum": 0.0, "maximum": 1.0, "description": description}


_XY = [_coord("x", "horizontal position, share of the image width"), _coord("y", "vertical position, share of the image height")]

# The unified desktop + mobile action space (FineVision's agentic subsets), seeded by migration as version 1.
UNIFIED_ACTIONS: list[dict[str, Any]] = [
    {"name": "click", "description": "Left click (or tap) at a point.", "params": _XY},
    {"name": "double_click", "description": "Double click at a point.", "params": _XY},
    {"name": "right_click", "description": "Right click at a point.", "params": _XY},
    {"name": "move_mouse", "description": "Move the pointer to a point without clicking.", "params": _XY},
    {"name": "drag", "description": "Press at one point, move to another, release.",
     "params": [_point("from_coord", "start [x, y]"), _point("to_coord", "end [x, y]")]},
    {"name": "scroll", "description": "Scroll the view.", "params": [
        {"name": "direction", "type": "enum", "required": True, "choices": ["up", "down", "left", "right"]},
        {"name": "amount", "type": "float", "required": False, "default": 1.0, "minimum": 0.0,
         "description": "how far, in scroll steps"},
    ]},
    {"name": "type", "description": "Type text into the focused field.",
     "params": [{"name": "text", "type": "string", "required": True}]},
    {"name": "press", "description": "Press keys together (a hotkey) or one key.",
     "params": [{"name": "keys", "type": "keys", "required": True}]},
    {"name": "wait", "description": "Wait before the next action.",
     "params": [{"name": "seconds", "type": "float", "required": False, "default": 1.0, "minimum": 0.0}]},
    {"name": "navigate_back", "description": "The system back button.", "params": []},
    {"name": "navigate_home", "description": "The system home button.", "params": []},
    {"name": "open_app", "description": "Open an app by name.",
     "params": [{"name": "app_name", "type": "string", "required": True}]},
    {"name": "swipe", "description": "Swipe from one point to another (mobile).",
     "params": [_point("from_coord", "start [x, y]"), _point("to_coord", "end [x, y]")]},
    {"name": "long_press", "description": "Press and hold at a point (mobile).", "params": _XY},
    {"name": "final_answer", "description": "End the task with an answer.",
     "params": [{"name": "answer", "type": "string", "required": True}]},
]


def _number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _param_from_dict(raw: Any, where: str, errors: list[str]) -> ParamSpec | None:
    if not isinstance(raw, dict):
        errors.append(f"{where}: a parameter must be an object")
        return None
    name = raw.get("name")
    if not isinstance(name, str) or not name.isidentifier():
        errors.append(f"{where}: the name must be an identifier")
        return None
    where = f"{where} {name}"
    ptype = raw.get("type")
    if ptype not in PARAM_TYPES:
        errors.append(f"{where}: type must be one of {', '.join(PARAM_TYPES)}")
        return None
    unknown = sorted(set(raw) - {"name", "type", "required", "default", "minimum", "maximum", "choices", "description"})
    if unknown:
        errors.append(f"{where}: unknown key(s) {', '.join(unknown)}")
    required = raw.get("required", True)
    if not isinstance(required, bool):
        errors.append(f"{where}: required must be true or false")
        required = True
    bounds = []
    for key in ("minimum", "maximum"):
        value = raw.get(key)
        if value is not None and not _number(value):
            errors.append(f"{where}: {key} must be a number")
            value = None
        bounds.append(float(value) if value is not None else None)
    minimum, maximum = bounds
    if ptype in COORDINATE_TYPES:
        minimum = 0.0 if minimum is None else minimum
        maximum = 1.0 if maximum is None else maximum
    if minimum is not None and maximum is not None and minimum > maximum:
        errors.append(f"{where}: minimum is above maximum")
    choices = raw.get("choices") or []
    if ptype == "enum" and (not isinstance(choices, list) or not choices or not all(isinstance(c, str) for c in choices)):
        errors.append(f"{where}: an enum needs a non-empty list of string choices")
        choices = []
    default = raw.get("default")
    if default is not None and required:
        errors.append(f"{where}: a required parameter takes no default")
    if ptype == "enum" and default is not None and default not in choices:
        errors.append(f"{where}: the default is not one of the choices")
    if ptype in ("float", "int") and default is not None and not _number(default):
        errors.append(f"{where}: the default must be a number")
    description = raw.get("description", "")
    return ParamSpec(name=name, type=ptype, required=required, default=default, minimum=minimum, maximum=maximum,
                     choices=tuple(choices) if ptype == "enum" else (), description=str(description or ""))


def schema_spec_from_dict(raw: Any, *, name: str = UNIFIED_SCHEMA_NAME, version: int = 0) -> SchemaSpec:
    """A schema from {"actions": [{"name", "description", "params": [...]}]}, or SchemaSpecError with every problem."""
    errors: list[str] = []
    actions_raw = raw.get("actions") if isinstance(raw, dict) else raw
    if not isinstance(actions_raw, list) or not actions_raw:
        raise SchemaSpecError(["give a non-empty list of actions"])
    actions: dict[str, ActionSpec] = {}
    for i, action in enumerate(actions_raw):
        if not isinstance(action, dict) or not isinstance(action.get("name"), str) or not action["name"].isidentifier():
            errors.append(f"action {i + 1}: needs a name that is an identifier")
            continue
        aname = action["name"]
        if aname in actions:
            errors.append(f"action {aname}: defined twice")
            continue
        params_raw = action.get("params", [])
        if not isinstance(params_raw, list):
            errors.append(f"action {aname}: params must be a list")
            continue
        parsed = [_param_from_dict(p, f"action {aname} parameter {j + 1}", errors) for j, p in enumerate(params_raw)]
        params = [p for p in parsed if p is not None]
        names = [p.name for p in params]
        if len(set(names)) != len(names):
            errors.append(f"action {aname}: a parameter name is used twice")
        actions[aname] = ActionSpec(name=aname, params=tuple(params), description=str(action.get("description") or ""))
    if errors:
        raise SchemaSpecError(errors)
    return SchemaSpec(name=name, version=version, actions=actions)


def unified_schema_spec() -> SchemaSpec:
    return schema_spec_from_dict({"actions": UNIFIED_ACTIONS}, name=UNIFIED_SCHEMA_NAME, version=1)
