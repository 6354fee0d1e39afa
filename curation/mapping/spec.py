"""The declarative mapping spec: how one source's raw rows become samples of one subset.

A spec is JSON (stored on Mapping.spec). `spec_parse` checks it against the source's columns and returns
a typed MappingSpec, or raises SpecError listing every problem with where it is ("turns.pairs[0].user: ...").

    {
      "subset": {"name": "scienceqa", "category": "science"},
      "images": [{"column": "image", "kind": "auto"}],          # auto: stored refs; path (+ base); bytes
      "turns": {"mode": "template",
                "pairs": [{"user": "[[Context: {hint}\\n]]{question}\\n{options}", "assistant": "{answer}"}],
                "options": {"column": "choices", "style": "letter"},
                "answer": {"column": "answer", "by": "index", "format": "letter_text"},
                "each": [], "instructions": null},
      "filters": [{"column": "question", "op": "not_empty"}]
    }
or turns from a conversation column: {"mode": "conversation", "column": "conversations", "style": "from_value"}.
"""
from dataclasses import asdict, dataclass, field
from typing import Any

from curation.errors import ApplicationError
from curation.mapping.template import Part, TemplateError, template_names, template_parse
from curation.models import Subset

IMAGE_KINDS = ("auto", "path", "bytes")
CONVERSATION_STYLES = ("from_value", "role_content", "user_assistant")
SYSTEM_HANDLING = ("prepend", "drop")
OPTION_STYLES = ("letter", "letter_paren", "number")
ANSWER_BY = ("text", "index", "letter", "majority")
ANSWER_FORMATS = ("text", "letter", "letter_text")
FILTER_OPS = (
    "not_empty", "empty", "equals", "not_equals", "in", "not_in", "min_chars", "max_chars", "min_items", "max_items",
)
FILTER_OPS_WITHOUT_VALUE = ("not_empty", "empty")
# Template variables the spec computes; any other name is a column (of the row, or of the `each` element).
DERIVED_NAMES = ("options", "answer", "instruction", "index")
MAX_OPTIONS = 26


class SpecError(ApplicationError, ValueError):
    """The spec is not valid; `errors` lists every problem as 'where: what'."""

    code = "invalid_spec"
    status = 400

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors), extra={"errors": errors})
        self.errors = errors


@dataclass(frozen=True)
class ImageField:
    column: str
    kind: str = "auto"
    base: str = ""  # for kind=path: folder the paths are relative to; empty = the source's folder


@dataclass(frozen=True)
class Pair:
    user: str
    assistant: str


@dataclass(frozen=True)
class Options:
    column: str
    style: str = "letter"


@dataclass(frozen=True)
class Answer:
    column: str
    by: str = "text"
    format: str = "text"
    index_base: int = 0


@dataclass(frozen=True)
class Instructions:
    """Vision-Flan-style templates: one list, or lists keyed by the value of a column (e.g. the task)."""

    templates: tuple[str, ...] = ()
    column: str = ""
    by_value: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class Turns:
    mode: str
    # conversation mode
    column: str = ""
    style: str = "from_value"
    system: str = "prepend"
    strip_image_tokens: bool = True
    # template mode
    pairs: tuple[Pair, ...] = ()
    each: tuple[str, ...] = ()
    options: Options | None = None
    answer: Answer | None = None
    instructions: Instructions | None = None


@dataclass(frozen=True)
class RowFilter:
    column: str
    op: str
    value: Any = None


@dataclass(frozen=True)
class MappingSpec:
    subset_name: str
    category: str
    images: tuple[ImageField, ...]
    turns: Turns
    filters: tuple[RowFilter, ...] = ()
    # Parsed templates by their text, so rendering never re-parses.
    parsed: dict[str, tuple[Part, ...]] = field(default_factory=dict, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return spec_to_dict(self)


def spec_parse(raw: Any, *, columns: dict[str, str] | None = None) -> MappingSpec:
    """Validate raw JSON as a spec; with `columns` (Source.columns, if known) also check every column named."""
    checker = _Checker(columns or {})
    spec = checker.spec(raw)
    if checker.errors or spec is None:
        raise SpecError(checker.errors or ["the spec is empty"])
    return spec


def spec_to_dict(spec: MappingSpec) -> dict[str, Any]:
    """The canonical JSON form (what is stored on Mapping.spec)."""
    turns = spec.turns
    out_turns: dict[str, Any]
    if turns.mode == "conversation":
        out_turns = {
            "mode": "conversation", "column": turns.column, "style": turns.style,
            "system": turns.system, "strip_image_tokens": turns.strip_image_tokens,
        }
    else:
        instructions: Any = None
        if turns.instructions is not None:
            if turns.instructions.column:
                instructions = {
                    "column": turns.instructions.column,
                    "templates": {k: list(v) for k, v in turns.instructions.by_value.items()},
                    "default": list(turns.instructions.templates),
                }
            else:
                instructions = list(turns.instructions.templates)
        out_turns = {
            "mode": "template",
            "pairs": [asdict(p) for p in turns.pairs],
            "each": list(turns.each),
            "options": asdict(turns.options) if turns.options else None,
            "answer": asdict(turns.answer) if turns.answer else None,
            "instructions": instructions,
        }
    return {
        "subset": {"name": spec.subset_name, "category": spec.category},
        "images": [asdict(i) for i in spec.images],
        "turns": out_turns,
        "filters": [{"column": f.column, "op": f.op, **({} if f.op in FILTER_OPS_WITHOUT_VALUE else {"value": f.value})}
                    for f in spec.filters],
    }


def spec_columns_used(spec: MappingSpec) -> list[str]:
    """The row columns the spec reads (first segment of dotted names), in a stable order."""
    used: list[str] = [i.column for i in spec.images]
    turns = spec.turns
    if turns.mode == "conversation":
        used.append(turns.column)
    else:
        used.extend(turns.each)
        for text in spec.parsed:
            used.extend(n.split(".")[0] for n in template_names(spec.parsed[text]) if n not in _derived(turns))
        for extra in (turns.options, turns.answer):
            if extra is not None:
                used.append(extra.column)
        if turns.instructions is not None and turns.instructions.column:
            used.append(turns.instructions.column)
    used.extend(f.column.split(".")[0] for f in spec.filters)
    return list(dict.fromkeys(used))


def _derived(turns: Turns) -> set[str]:
    """Derived names in effect: a derived name that is not configured stays a plain column name."""
    names = set()
    if turns.options is not None:
        names.add("options")
    if turns.answer is not None:
        names.add("answer")
    if turns.instructions is not None:
        names.add("instruction")
    if turns.each:
        names.add("index")
    return names


class _Checker:
    """Collects every error instead of stopping at the first, so a curator can fix them all at once."""

    def __init__(self, columns: dict[str, str]) -> None:
        self.columns = columns
        self.errors: list[str] = []
        self.parsed: dict[str, tuple[Part, ...]] = {}

    def fail(self, where: str, message: str) -> None:
        self.errors.append(f"{where}: {message}")

    def keys(self, where: str, raw: dict[str, Any], allowed: set[str], required: frozenset[str] | set[str] = frozenset()) -> None:
        for key in raw:
            if key not in allowed:
                self.fail(where, f"unknown key '{key}' (allowed: {', '.join(sorted(allowed))})")
        for key in required:
            if key not in raw:
                self.fail(where, f"'{key}' is required")

    def text(self, where: str, value: Any, *, allow_empty: bool = False) -> str:
        if not isinstance(value, str):
            self.fail(where, f"must be text, not {type(value).__name__}")
            return ""
        if not allow_empty and not value.strip():
            self.fail(where, "must not be empty")
        return value

    def choice(self, where: str, value: Any, allowed: tuple[str, ...]) -> str:
        if value not in allowed:
            self.fail(where, f"{value!r} is not one of {', '.join(allowed)}")
            return allowed[0]
        return value

    def column(self, where: str, value: Any) -> str:
        name = self.text(where, value)
        if name and self.columns and name.split(".")[0] not in self.columns and name not in self.columns:
            self.fail(where, f"'{name}' is not a column of this source (columns: {', '.join(self.columns)})")
        return name

    def spec(self, raw: Any) -> MappingSpec | None:
        if not isinstance(raw, dict):
            self.fail("spec", "must be a JSON object")
            return None
        self.keys("spec", raw, {"subset", "images", "turns", "filters"}, {"subset", "turns"})
        name, category = self.subset(raw.get("subset"))
        images = self.images(raw.get("images", []))
        turns = self.turns(raw.get("turns"))
        filters = self.filters(raw.get("filters", []))
        if turns is None:
            return None
        return MappingSpec(
            subset_name=name, category=category, images=images, turns=turns, filters=filters, parsed=self.parsed
        )

    def subset(self, raw: Any) -> tuple[str, str]:
        if not isinstance(raw, dict):
            self.fail("subset", "must be an object with a name and a category")
            return "", Subset.Category.GENERAL_VQA
        self.keys("subset", raw, {"name", "category"}, {"name", "category"})
        name = self.text("subset.name", raw.get("name", "")).strip()
        if len(name) > 200:
            self.fail("subset.name", "must be at most 200 characters")
        category = self.choice("subset.category", raw.get("category"), tuple(Subset.Category.values))
        return name, category

    def images(self, raw: Any) -> tuple[ImageField, ...]:
        if isinstance(raw, dict | str):
            raw = [raw]
        if not isinstance(raw, list):
            self.fail("images", "must be a list of image fields")
            return ()
        fields = []
        for n, item in enumerate(raw):
            where = f"images[{n}]"
            if isinstance(item, str):
                item = {"column": item}
            if not isinstance(item, dict):
                self.fail(where, "must be an object like {\"column\": \"image\", \"kind\": \"auto\"}")
                continue
            self.keys(where, item, {"column", "kind", "base"}, {"column"})
            column = self.column(f"{where}.column", item.get("column", ""))
            kind = self.choice(f"{where}.kind", item.get("kind", "auto"), IMAGE_KINDS)
            base = self.text(f"{where}.base", item.get("base", ""), allow_empty=True)
            if base and kind != "path":
                self.fail(f"{where}.base", "only images of kind 'path' have a base folder")
            fields.append(ImageField(column=column, kind=kind, base=base))
        return tuple(fields)

    def turns(self, raw: Any) -> Turns | None:
        if not isinstance(raw, dict):
            self.fail("turns", "must be an object with a mode ('conversation' or 'template')")
            return None
        mode = raw.get("mode")
        if mode == "conversation":
            self.keys("turns", raw, {"mode", "column", "style", "system", "strip_image_tokens"}, {"column"})
            strip = raw.get("strip_image_tokens", True)
            if not isinstance(strip, bool):
                self.fail("turns.strip_image_tokens", "must be true or false")
                strip = True
            return Turns(
                mode="conversation",
                column=self.column("turns.column", raw.get("column", "")),
                style=self.choice("turns.style", raw.get("style", "from_value"), CONVERSATION_STYLES),
                system=self.choice("turns.system", raw.get("system", "prepend"), SYSTEM_HANDLING),
                strip_image_tokens=strip,
            )
        if mode == "template":
            return self.template_turns(raw)
        self.fail("turns.mode", f"{mode!r} is not one of conversation, template")
        return None

    def template_turns(self, raw: dict[str, Any]) -> Turns:
        self.keys("turns", raw, {"mode", "pairs", "each", "options", "answer", "instructions"}, {"pairs"})
        each_raw = raw.get("each") or []
        if not isinstance(each_raw, list):
            self.fail("turns.each", "must be a list of columns that hold lists")
            each_raw = []
        each = tuple(self.column(f"turns.each[{n}]", c) for n, c in enumerate(each_raw))
        options = self.options(raw.get("options"))
        answer = self.answer(raw.get("answer"), has_options=options is not None)
        instructions = self.instructions(raw.get("instructions"))
        turns = Turns(mode="template", each=each, options=options, answer=answer, instructions=instructions)
        derived = _derived(turns)
        pairs_raw = raw.get("pairs")
        if not isinstance(pairs_raw, list) or not pairs_raw:
            self.fail("turns.pairs", "must be a non-empty list of {\"user\": ..., \"assistant\": ...} templates")
            pairs_raw = []
        pairs = []
        used: set[str] = set()
        for n, pair in enumerate(pairs_raw):
            where = f"turns.pairs[{n}]"
            if not isinstance(pair, dict):
                self.fail(where, "must be an object with 'user' and 'assistant' templates")
                continue
            self.keys(where, pair, {"user", "assistant"}, {"user", "assistant"})
            user = self.template(f"{where}.user", pair.get("user", ""), derived, used)
            assistant = self.template(f"{where}.assistant", pair.get("assistant", ""), derived, used)
            pairs.append(Pair(user=user, assistant=assistant))
        if instructions is not None:
            templates = list(instructions.templates) + [t for ts in instructions.by_value.values() for t in ts]
            for n, text in enumerate(templates):
                self.template(f"turns.instructions[{n}]", text, derived - {"instruction"}, used)
            if "instruction" not in used:
                self.fail("turns.instructions", "no template uses {instruction}, so the instructions would be ignored")
        for name in ("options", "answer"):
            if name in derived and name not in used:
                self.fail(f"turns.{name}", f"no template uses {{{name}}}")
        return Turns(
            mode="template", pairs=tuple(pairs), each=each, options=options, answer=answer, instructions=instructions
        )

    def template(self, where: str, text: Any, derived: set[str], used: set[str]) -> str:
        text = self.text(where, text)
        if not text:
            return ""
        try:
            parts = template_parse(text)
        except TemplateError as exc:
            self.fail(where, f"bad template: {exc}")
            return text
        self.parsed[text] = parts
        for name in template_names(parts):
            used.add(name)
            if name in derived:
                continue
            if self.columns and name.split(".")[0] not in self.columns and name not in self.columns:
                hint = f"; derived names: {', '.join(sorted(derived))}" if derived else ""
                self.fail(where, f"{{{name}}} is not a column of this source (columns: {', '.join(self.columns)}{hint})")
        return text

    def options(self, raw: Any) -> Options | None:
        if raw is None:
            return None
        if not isinstance(raw, dict):
            self.fail("turns.options", "must be an object like {\"column\": \"choices\", \"style\": \"letter\"}")
            return None
        self.keys("turns.options", raw, {"column", "style"}, {"column"})
        return Options(
            column=self.column("turns.options.column", raw.get("column", "")),
            style=self.choice("turns.options.style", raw.get("style", "letter"), OPTION_STYLES),
        )

    def answer(self, raw: Any, *, has_options: bool) -> Answer | None:
        if raw is None:
            return None
        if not isinstance(raw, dict):
            self.fail("turns.answer", "must be an object like {\"column\": \"answer\", \"by\": \"text\"}")
            return None
        self.keys("turns.answer", raw, {"column", "by", "format", "index_base"}, {"column"})
        by = self.choice("turns.answer.by", raw.get("by", "text"), ANSWER_BY)
        fmt = self.choice("turns.answer.format", raw.get("format", "text"), ANSWER_FORMATS)
        base = raw.get("index_base", 0)
        if base not in (0, 1) or isinstance(base, bool):
            self.fail("turns.answer.index_base", "must be 0 or 1")
            base = 0
        if by in ("index", "letter") and not has_options:
            self.fail("turns.answer.by", f"an answer given by {by} needs turns.options (the list it points into)")
        if fmt in ("letter", "letter_text") and not has_options:
            self.fail("turns.answer.format", f"format {fmt} needs turns.options to find the letter")
        if by == "majority" and fmt != "text":
            self.fail("turns.answer.format", "a majority answer is written as text")
        return Answer(column=self.column("turns.answer.column", raw.get("column", "")), by=by, format=fmt, index_base=base)

    def instructions(self, raw: Any) -> Instructions | None:
        if raw is None:
            return None
        if isinstance(raw, list):
            return Instructions(templates=self.template_list("turns.instructions", raw))
        if not isinstance(raw, dict):
            self.fail("turns.instructions", "must be a list of templates, or {column, templates: {value: [...]}}")
            return None
        self.keys("turns.instructions", raw, {"column", "templates", "default"}, {"column", "templates"})
        by_raw = raw.get("templates")
        by_value: dict[str, tuple[str, ...]] = {}
        if not isinstance(by_raw, dict) or not by_raw:
            self.fail("turns.instructions.templates", "must map column values to lists of templates")
        else:
            for key, templates in by_raw.items():
                by_value[str(key)] = self.template_list(f"turns.instructions.templates[{key!r}]", templates)
        default = raw.get("default") or []
        return Instructions(
            templates=self.template_list("turns.instructions.default", default, allow_empty=True) if default else (),
            column=self.column("turns.instructions.column", raw.get("column", "")),
            by_value=by_value,
        )

    def template_list(self, where: str, raw: Any, *, allow_empty: bool = False) -> tuple[str, ...]:
        if not isinstance(raw, list) or (not raw and not allow_empty):
            self.fail(where, "must be a non-empty list of templates")
            return ()
        return tuple(self.text(f"{where}[{n}]", t) for n, t in enumerate(raw))

    def filters(self, raw: Any) -> tuple[RowFilter, ...]:
        if not isinstance(raw, list):
            self.fail("filters", "must be a list of {column, op, value}")
            return ()
        out = []
        for n, item in enumerate(raw):
            where = f"filters[{n}]"
            if not isinstance(item, dict):
                self.fail(where, "must be an object like {\"column\": \"question\", \"op\": \"not_empty\"}")
                continue
            self.keys(where, item, {"column", "op", "value"}, {"column", "op"})
            op = self.choice(f"{where}.op", item.get("op"), FILTER_OPS)
            value = item.get("value")
            if op in FILTER_OPS_WITHOUT_VALUE:
                if value is not None:
                    self.fail(f"{where}.value", f"op {op} takes no value")
            elif op in ("in", "not_in"):
                if not isinstance(value, list) or not value:
                    self.fail(f"{where}.value", f"op {op} needs a non-empty list of values")
            elif op in ("min_chars", "max_chars", "min_items", "max_items"):
                if not isinstance(value, int) or isinstance(value, bool) or value < 0:
                    self.fail(f"{where}.value", f"op {op} needs a whole number >= 0")
            elif value is None:
                self.fail(f"{where}.value", f"op {op} needs a value")
            out.append(RowFilter(column=self.column(f"{where}.column", item.get("column", "")), op=op, value=value))
        return tuple(out)
