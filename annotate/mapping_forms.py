"""The mapping editor's form: fields for the common parts of a spec, over a base spec that keeps the rest.

The page has two editors in one form: these fields, and the whole spec as JSON. `editor` says which one the
curator typed in last; that one is the truth, and the other is re-rendered from it.
"""
import json
from typing import Any

from django import forms

from curation.errors import ApplicationError
from curation.mapping.spec import (
    ANSWER_BY,
    ANSWER_FORMATS,
    CONVERSATION_STYLES,
    FILTER_OPS,
    FILTER_OPS_WITHOUT_VALUE,
    IMAGE_KINDS,
    OPTION_STYLES,
    SYSTEM_HANDLING,
    SpecError,
    spec_parse,
    spec_to_dict,
)
from curation.models import Subset

NONE = ""


def _choices(values: tuple[str, ...]) -> list[tuple[str, str]]:
    return [(v, v.replace("_", " ")) for v in values]


class SpecInputError(ApplicationError, ValueError):
    """The editor's input cannot be read as a spec at all (bad JSON, a malformed filter line)."""

    code = "invalid_spec_input"
    status = 400


class MappingSpecForm(forms.Form):
    editor = forms.ChoiceField(choices=[("form", "form"), ("json", "json")], initial="form", widget=forms.HiddenInput)
    base = forms.CharField(required=False, widget=forms.HiddenInput)
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)
    seed = forms.IntegerField(required=False, initial=0, widget=forms.HiddenInput)
    spec_json = forms.CharField(required=False, label="Spec (JSON)", widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "false"}))

    subset_name = forms.CharField(required=False, label="Subset name", max_length=200)
    category = forms.ChoiceField(choices=Subset.Category.choices, label="Category")
    image_columns = forms.MultipleChoiceField(required=False, label="Image columns", widget=forms.CheckboxSelectMultiple)
    image_kind = forms.ChoiceField(choices=_choices(IMAGE_KINDS), label="Images are", required=False)
    image_base = forms.CharField(required=False, label="Image folder (for paths; empty = the source's folder)")
    mode = forms.ChoiceField(choices=[("conversation", "From a conversation column"), ("template", "From templates over columns")],
                             label="Turns")
    conversation_column = forms.ChoiceField(required=False, label="Conversation column")
    conversation_style = forms.ChoiceField(choices=_choices(CONVERSATION_STYLES), required=False, label="Message style")
    system = forms.ChoiceField(choices=_choices(SYSTEM_HANDLING), required=False, label="System messages")
    strip_image_tokens = forms.BooleanField(required=False, label="Remove <image> tokens")
    user_template = forms.CharField(required=False, label="User template", widget=forms.Textarea(attrs={"rows": 3}))
    assistant_template = forms.CharField(required=False, label="Assistant template", widget=forms.Textarea(attrs={"rows": 2}))
    each = forms.CharField(required=False, label="One turn per item of (list columns, comma-separated)")
    options_column = forms.ChoiceField(required=False, label="Options column ({options})")
    options_style = forms.ChoiceField(choices=_choices(OPTION_STYLES), required=False, label="Options lettered as")
    answer_column = forms.ChoiceField(required=False, label="Answer column ({answer})")
    answer_by = forms.ChoiceField(choices=_choices(ANSWER_BY), required=False, label="Answer given by")
    answer_format = forms.ChoiceField(choices=_choices(ANSWER_FORMATS), required=False, label="Answer written as")
    answer_index_base = forms.ChoiceField(choices=[("0", "0"), ("1", "1")], required=False, label="Index counts from")
    instructions = forms.CharField(required=False, label="Instruction templates ({instruction}), one per line",
                                   widget=forms.Textarea(attrs={"rows": 4}))
    filters = forms.CharField(required=False, label="Keep rows where (one per line: column op [value])",
                              widget=forms.Textarea(attrs={"rows": 2}),
                              help_text=f"ops: {', '.join(FILTER_OPS)}; value as JSON or text")

    def __init__(self, *args: Any, columns: list[str], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        column_choices = [(c, c) for c in columns]
        optional = [(NONE, "—"), *column_choices]
        for name, choices in (("image_columns", column_choices), ("conversation_column", optional),
                              ("options_column", optional), ("answer_column", optional)):
            field = self.fields[name]
            assert isinstance(field, forms.ChoiceField)
            field.choices = choices
        self.columns = columns

    @classmethod
    def initial_for(cls, spec: dict[str, Any], *, version: int | None, seed: int = 0) -> dict[str, Any]:
        """Field values showing `spec` (what the form cannot show stays in `base` and in the JSON)."""
        spec = _readable_order(spec)
        turns = spec.get("turns") or {}
        images = spec.get("images") or []
        pairs = turns.get("pairs") or [{}]
        options = turns.get("options") or {}
        answer = turns.get("answer") or {}
        instructions = turns.get("instructions")
        return {
            "editor": "form", "version": version, "seed": seed,
            "base": json.dumps(spec), "spec_json": json.dumps(spec, indent=2, ensure_ascii=False),
            "subset_name": (spec.get("subset") or {}).get("name", ""),
            "category": (spec.get("subset") or {}).get("category", Subset.Category.GENERAL_VQA),
            "image_columns": [i.get("column") for i in images if isinstance(i, dict)],
            "image_kind": images[0].get("kind", "auto") if images and isinstance(images[0], dict) else "auto",
            "image_base": images[0].get("base", "") if images and isinstance(images[0], dict) else "",
            "mode": turns.get("mode", "template"),
            "conversation_column": turns.get("column", NONE), "conversation_style": turns.get("style", "from_value"),
            "system": turns.get("system", "prepend"), "strip_image_tokens": turns.get("strip_image_tokens", True),
            "user_template": pairs[0].get("user", ""), "assistant_template": pairs[0].get("assistant", ""),
            "each": ", ".join(turns.get("each") or []),
            "options_column": options.get("column", NONE), "options_style": options.get("style", "letter"),
            "answer_column": answer.get("column", NONE), "answer_by": answer.get("by", "text"),
            "answer_format": answer.get("format", "text"), "answer_index_base": str(answer.get("index_base", 0)),
            "instructions": "\n".join(instructions) if isinstance(instructions, list) else "",
            "filters": "\n".join(_filter_line(f) for f in spec.get("filters") or [] if isinstance(f, dict)),
        }

    @property
    def instructions_by_column(self) -> bool:
        """Instructions keyed by a column's value can only be edited as JSON."""
        return isinstance(self._base().get("turns", {}).get("instructions"), dict)

    def _base(self) -> dict[str, Any]:
        raw = self.data.get("base") if self.is_bound else self.initial.get("base")
        try:
            base = json.loads(raw or "{}")
        except json.JSONDecodeError:
            return {}
        return base if isinstance(base, dict) else {}

    def spec(self) -> dict[str, Any]:
        """The spec the curator means; SpecInputError when it cannot even be read (validation comes after)."""
        if self.data.get("editor") == "json":
            try:
                spec = json.loads(self.data.get("spec_json") or "")
            except json.JSONDecodeError as exc:
                raise SpecInputError(f"the JSON is not valid: {exc.msg} at line {exc.lineno}, column {exc.colno}") from exc
            if not isinstance(spec, dict):
                raise SpecInputError("the JSON must be an object")
            return spec
        if not self.is_valid():
            problems = "; ".join(f"{self.fields[k].label if k in self.fields else k}: {' '.join(map(str, v))}"
                                 for k, v in self.errors.items())
            raise SpecInputError(f"the form is not complete: {problems}")
        return self._overlay(self._base(), self.cleaned_data)

    def _overlay(self, base: dict[str, Any], data: dict[str, Any]) -> dict[str, Any]:
        spec = dict(base)
        spec["subset"] = {"name": data["subset_name"], "category": data["category"]}
        kind = data["image_kind"] or "auto"
        spec["images"] = [
            {"column": c, "kind": kind, "base": data["image_base"] if kind == "path" else ""} for c in data["image_columns"]
        ]
        old_turns: dict[str, Any] = base["turns"] if isinstance(base.get("turns"), dict) else {}
        if data["mode"] == "conversation":
            spec["turns"] = {
                "mode": "conversation", "column": data["conversation_column"],
                "style": data["conversation_style"] or "from_value", "system": data["system"] or "prepend",
                "strip_image_tokens": data["strip_image_tokens"],
            }
        else:
            pairs = list(old_turns.get("pairs") or []) if old_turns.get("mode") == "template" else []
            first = {"user": data["user_template"], "assistant": data["assistant_template"]}
            pairs = [first, *pairs[1:]]  # pairs after the first are edited in the JSON
            instructions: Any = old_turns.get("instructions") if self.instructions_by_column else (
                [line.strip() for line in data["instructions"].splitlines() if line.strip()] or None
            )
            spec["turns"] = {
                "mode": "template", "pairs": pairs,
                "each": [c.strip() for c in data["each"].split(",") if c.strip()],
                "options": {"column": data["options_column"], "style": data["options_style"] or "letter"}
                if data["options_column"] else None,
                "answer": {"column": data["answer_column"], "by": data["answer_by"] or "text",
                           "format": data["answer_format"] or "text", "index_base": int(data["answer_index_base"] or 0)}
                if data["answer_column"] else None,
                "instructions": instructions,
            }
        spec["filters"] = [_filter_parse(n, line) for n, line in enumerate(data["filters"].splitlines()) if line.strip()]
        return spec


def _readable_order(spec: dict[str, Any]) -> dict[str, Any]:
    """The spec with its keys in reading order (the database keeps JSON keys in its own order)."""
    try:
        return spec_to_dict(spec_parse(spec))
    except SpecError:
        return spec


def _filter_line(row_filter: dict[str, Any]) -> str:
    line = f"{row_filter.get('column', '')} {row_filter.get('op', '')}"
    if row_filter.get("op") not in FILTER_OPS_WITHOUT_VALUE:
        line += f" {json.dumps(row_filter.get('value'), ensure_ascii=False)}"
    return line


def _filter_parse(n: int, line: str) -> dict[str, Any]:
    parts = line.strip().split(maxsplit=2)
    if len(parts) < 2:
        raise SpecInputError(f"filter line {n + 1} needs at least a column and an op: {line.strip()!r}")
    row_filter: dict[str, Any] = {"column": parts[0], "op": parts[1]}
    if len(parts) == 3:
        try:
            row_filter["value"] = json.loads(parts[2])
        except json.JSONDecodeError:
            row_filter["value"] = parts[2]  # plain text needs no quotes
    return row_filter
