"""The mapping editor's form: fields for the common parts of a spec, over a base spec that keeps the rest.

The page has two editors in one form: these fields, and the whole spec as JSON. `editor` says which one the
curator typed in last; that one is the truth, and the other is re-rendered from it. Either way the form gives
a typed MappingSpec; JSON is read only where it is typed in (the JSON editor, the hidden base).
"""
import json
from typing import Any, cast

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
    Answer,
    ConversationTurns,
    FilterOp,
    ImageField,
    ImageKind,
    Instructions,
    MappingSpec,
    Options,
    Pair,
    RowFilter,
    SpecError,
    TemplateTurns,
    Turns,
    spec_from_dict,
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

    def __init__(self, *args: Any, columns: dict[str, str], **kwargs: Any) -> None:
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
    def initial_for(cls, spec: MappingSpec | None, *, version: int | None, seed: int = 0,
                    unreadable: dict[str, Any] | None = None) -> dict[str, Any]:
        """Field values showing `spec`; a stored spec that cannot be read is shown as JSON only (`unreadable`)."""
        shown = spec_to_dict(spec) if spec is not None else (unreadable or {})
        initial: dict[str, Any] = {
            "editor": "form", "version": version, "seed": seed,
            "base": json.dumps(shown), "spec_json": json.dumps(shown, indent=2, ensure_ascii=False),
            "category": Subset.Category.GENERAL_VQA, "mode": "template", "image_kind": "auto",
            "conversation_style": "from_value", "system": "prepend", "strip_image_tokens": True,
            "options_style": "letter", "answer_by": "text", "answer_format": "text", "answer_index_base": "0",
        }
        if spec is None:
            return initial
        initial.update({
            "subset_name": spec.subset_name, "category": spec.category,
            "image_columns": [i.column for i in spec.images],
            "image_kind": spec.images[0].kind if spec.images else "auto",
            "image_base": spec.images[0].base if spec.images else "",
            "mode": spec.turns.mode,
            "filters": "\n".join(_filter_line(f) for f in spec.filters),
        })
        turns = spec.turns
        if isinstance(turns, ConversationTurns):
            initial.update({"conversation_column": turns.column, "conversation_style": turns.style,
                            "system": turns.system, "strip_image_tokens": turns.strip_image_tokens})
            return initial
        first = turns.pairs[0] if turns.pairs else Pair(user="", assistant="")
        initial.update({"user_template": first.user, "assistant_template": first.assistant, "each": ", ".join(turns.each)})
        if turns.options is not None:
            initial.update({"options_column": turns.options.column, "options_style": turns.options.style})
        if turns.answer is not None:
            initial.update({"answer_column": turns.answer.column, "answer_by": turns.answer.by,
                            "answer_format": turns.answer.format, "answer_index_base": str(turns.answer.index_base)})
        if turns.instructions is not None and not turns.instructions.column:
            initial["instructions"] = "\n".join(turns.instructions.templates)
        return initial

    @property
    def instructions_by_column(self) -> bool:
        """Instructions keyed by a column's value can only be edited as JSON."""
        base = self._base()
        return (base is not None and isinstance(base.turns, TemplateTurns) and base.turns.instructions is not None
                and bool(base.turns.instructions.column))

    def _base(self) -> MappingSpec | None:
        """The spec the fields were filled from (what they cannot show is kept from it), read as a draft."""
        raw = self.data.get("base") if self.is_bound else self.initial.get("base")
        try:
            return spec_from_dict(json.loads(raw or "{}"), check=False)
        except (json.JSONDecodeError, SpecError):
            return None

    def spec(self) -> MappingSpec:
        """The spec the curator means, typed. SpecInputError when the input cannot even be read; from the JSON
        editor, SpecError with every problem (the form's specs are checked by the caller, spec_check)."""
        if self.data.get("editor") == "json":
            try:
                raw = json.loads(self.data.get("spec_json") or "")
            except json.JSONDecodeError as exc:
                raise SpecInputError(f"the JSON is not valid: {exc.msg} at line {exc.lineno}, column {exc.colno}") from exc
            if not isinstance(raw, dict):
                raise SpecInputError("the JSON must be an object")
            return spec_from_dict(raw, columns=self.columns)
        if not self.is_valid():
            problems = "; ".join(f"{self.fields[k].label if k in self.fields else k}: {' '.join(map(str, v))}"
                                 for k, v in self.errors.items())
            raise SpecInputError(f"the form is not complete: {problems}")
        return self._overlay(self._base(), self.cleaned_data)

    def _overlay(self, base: MappingSpec | None, data: dict[str, Any]) -> MappingSpec:
        kind = cast(ImageKind, data["image_kind"] or "auto")
        images = tuple(ImageField(column=c, kind=kind, base=data["image_base"] if kind == "path" else "")
                       for c in data["image_columns"])
        turns: Turns
        if data["mode"] == "conversation":
            turns = ConversationTurns(
                column=data["conversation_column"], style=data["conversation_style"] or "from_value",
                system=data["system"] or "prepend", strip_image_tokens=data["strip_image_tokens"],
            )
        else:
            old = base.turns if base is not None and isinstance(base.turns, TemplateTurns) else None
            first = Pair(user=data["user_template"], assistant=data["assistant_template"])
            pairs = (first, *(old.pairs[1:] if old else ()))  # pairs after the first are edited in the JSON
            instructions: Instructions | None
            if self.instructions_by_column and old is not None:
                instructions = old.instructions
            else:
                lines = tuple(line.strip() for line in data["instructions"].splitlines() if line.strip())
                instructions = Instructions(templates=lines) if lines else None
            turns = TemplateTurns(
                pairs=pairs,
                each=tuple(c.strip() for c in data["each"].split(",") if c.strip()),
                options=Options(column=data["options_column"], style=data["options_style"] or "letter")
                if data["options_column"] else None,
                answer=Answer(column=data["answer_column"], by=data["answer_by"] or "text",
                              format=data["answer_format"] or "text", index_base=1 if data["answer_index_base"] == "1" else 0)
                if data["answer_column"] else None,
                instructions=instructions,
            )
        filters = tuple(_filter_parse(n, line) for n, line in enumerate(data["filters"].splitlines()) if line.strip())
        return MappingSpec(subset_name=data["subset_name"].strip(), category=data["category"], images=images,
                           turns=turns, filters=filters)


def _filter_line(row_filter: RowFilter) -> str:
    line = f"{row_filter.column} {row_filter.op}"
    if row_filter.op not in FILTER_OPS_WITHOUT_VALUE:
        line += f" {json.dumps(row_filter.value, ensure_ascii=False)}"
    return line


def _filter_parse(n: int, line: str) -> RowFilter:
    parts = line.strip().split(maxsplit=2)
    if len(parts) < 2:
        raise SpecInputError(f"filter line {n + 1} needs at least a column and an op: {line.strip()!r}")
    if parts[1] not in FILTER_OPS:
        raise SpecInputError(f"filter line {n + 1}: {parts[1]!r} is not one of {', '.join(FILTER_OPS)}")
    value: Any = None
    if len(parts) == 3:
        try:
            value = json.loads(parts[2])
        except json.JSONDecodeError:
            value = parts[2]  # plain text needs no quotes
    return RowFilter(column=parts[0], op=cast(FilterOp, parts[1]), value=value)
