"""The declarative mapping spec: how one source's raw rows become samples of one subset.

A spec is JSON (stored on Mapping.spec). `spec_from_dict` reads it (checked against the source's columns) into
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

Inside the code a spec is only ever the typed MappingSpec (its turns one of two variants, ConversationTurns or
TemplateTurns); the JSON form exists at the edges (the JSON editor, Mapping.spec, an LLM's reply), read by
`spec_from_dict` and written by `spec_to_dict`. A spec built in code is checked with `spec_check`.
"""
from dataclasses import asdict, dataclass, field, replace
from typing import Any, ClassVar, Literal, TypeVar, get_args

from curation.errors import ApplicationError
from curation.mapping.template import Part, TemplateError, template_names, template_parse
from curation.models import Subset

ImageKind = Literal["auto", "path", "bytes"]
ConversationStyle = Literal["from_value", "role_content", "user_assistant"]
SystemHandling = Literal["prepend", "drop"]
OptionStyle = Literal["letter", "letter_paren", "number"]
AnswerBy = Literal["text", "index", "letter", "majority"]
AnswerFormat = Literal["text", "letter", "letter_text"]
FilterOp = Literal[
    "not_empty", "empty", "equals", "not_equals", "in", "not_in", "min_chars", "max_chars", "min_items", "max_items",
]
IndexBase = Literal[0, 1]

IMAGE_KINDS: tuple[ImageKind, ...] = get_args(ImageKind)
CONVERSATION_STYLES: tuple[ConversationStyle, ...] = get_args(ConversationStyle)
SYSTEM_HANDLING: tuple[SystemHandling, ...] = get_args(SystemHandling)
OPTION_STYLES: tuple[OptionStyle, ...] = get_args(OptionStyle)
ANSWER_BY: tuple[AnswerBy, ...] = get_args(AnswerBy)
ANSWER_FORMATS: tuple[AnswerFormat, ...] = get_args(AnswerFormat)
FILTER_OPS: tuple[FilterOp, ...] = get_args(FilterOp)
FILTER_OPS_WITHOUT_VALUE: tuple[FilterOp, ...] = ("not_empty", "empty")
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
    kind: ImageKind = "auto"
    base: str = ""  # for kind=path: folder the paths are relative to; empty = the source's folder


@dataclass(frozen=True)
class Pair:
    user: str
    assistant: str


@dataclass(frozen=True)
class Options:
    column: str
    style: OptionStyle = "letter"


@dataclass(frozen=True)
class Answer:
    column: str
    by: AnswerBy = "text"
    format: AnswerFormat = "text"
    index_base: IndexBase = 0


@dataclass(frozen=True)
class Instructions:
    """Vision-Flan-style templates: one list, or lists keyed by the value of a column (e.g. the task)."""

    templates: tuple[str, ...] = ()
    column: str = ""
    by_value: dict[str, tuple[str, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class ConversationTurns:
    """Turns read from a column holding a list of messages."""

    mode: ClassVar[Literal["conversation"]] = "conversation"
    column: str
    style: ConversationStyle = "from_value"
    system: SystemHandling = "prepend"
    strip_image_tokens: bool = True


@dataclass(frozen=True)
class TemplateTurns:
    """Turns written by templates over columns (once, or once per element of the `each` lists)."""

    mode: ClassVar[Literal["template"]] = "template"
    pairs: tuple[Pair, ...]
    each: tuple[str, ...] = ()
    options: Options | None = None
    answer: Answer | None = None
    instructions: Instructions | None = None


Turns = ConversationTurns | TemplateTurns


@dataclass(frozen=True)
class RowFilter:
    column: str
    op: FilterOp
    value: Any = None


@dataclass(frozen=True)
class MappingSpec:
    subset_name: str
    category: str  # a Subset.Category value
    images: tuple[ImageField, ...]
    turns: Turns
    filters: tuple[RowFilter, ...] = ()
    # Parsed templates by their text (filled by spec_check), so rendering never re-parses.
    parsed: dict[str, tuple[Part, ...]] = field(default_factory=dict, compare=False, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return spec_to_dict(self)


def spec_from_dict(raw: Any, *, columns: dict[str, str] | None = None, check: bool = True) -> MappingSpec:
    """Read and check a spec's JSON (an edge: the JSON editor, Mapping.spec, an LLM's reply).

    With `columns` (Source.columns, if known) every column named is checked too. SpecError lists every
    problem at once, the shape's and the content's; `check=False` reads the shape only (a draft being edited).
    """
    reader = _Reader()
    spec = reader.spec(raw)
    if not check:
        if reader.errors or spec is None:
            raise SpecError(reader.errors or ["the spec is empty"])
        return spec
    checker = _Checker(columns or {})
    if spec is not None:
        spec = checker.spec(spec)
    elif reader.parts is not None:
        checker.parts(*reader.parts)
    errors = list(dict.fromkeys(reader.errors + checker.errors))
    if errors or spec is None:
        raise SpecError(errors or ["the spec is empty"])
    return spec


def spec_check(spec: MappingSpec, *, columns: dict[str, str] | None = None) -> MappingSpec:
    """Check a spec built in code (a form, a suggester) like one read from JSON; returns it with its templates parsed."""
    checker = _Checker(columns or {})
    checked = checker.spec(spec)
    if checker.errors:
        raise SpecError(checker.errors)
    return checked


def spec_to_dict(spec: MappingSpec) -> dict[str, Any]:
    """The canonical JSON form (what is stored on Mapping.spec)."""
    turns = spec.turns
    out_turns: dict[str, Any]
    if isinstance(turns, ConversationTurns):
        out_turns = {
            "mode": turns.mode, "column": turns.column, "style": turns.style,
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
            "mode": turns.mode,
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
    if isinstance(turns, ConversationTurns):
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


def _derived(turns: TemplateTurns) -> set[str]:
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


_Choice = TypeVar("_Choice", bound=str)


class _Reader:
    """JSON -> typed spec: the shape (objects, keys, types, choices). What the values mean is _Checker's."""

    def __init__(self) -> None:
        self.errors: list[str] = []
        # The parts read when the whole spec could not be built, so their content is still checked.
        self.parts: tuple[str, str, tuple[ImageField, ...], tuple[RowFilter, ...]] | None = None

    def fail(self, where: str, message: str) -> None:
        self.errors.append(f"{where}: {message}")

    def keys(self, where: str, raw: dict[str, Any], allowed: set[str], required: frozenset[str] | set[str] = frozenset()) -> None:
        for key in raw:
            if key not in allowed:
                self.fail(where, f"unknown key '{key}' (allowed: {', '.join(sorted(allowed))})")
        for key in required:
            if key not in raw:
                self.fail(where, f"'{key}' is required")

    def text(self, where: str, value: Any) -> str:
        if not isinstance(value, str):
            self.fail(where, f"must be text, not {type(value).__name__}")
            return ""
        return value

    def choice(self, where: str, value: Any, allowed: tuple[_Choice, ...]) -> _Choice:
        if value not in allowed:
            self.fail(where, f"{value!r} is not one of {', '.join(allowed)}")
            return allowed[0]
        return value

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
            self.parts = (name, category, images, filters)
            return None
        return MappingSpec(subset_name=name, category=category, images=images, turns=turns, filters=filters)

    def subset(self, raw: Any) -> tuple[str, str]:
        if not isinstance(raw, dict):
            self.fail("subset", "must be an object with a name and a category")
            return "", Subset.Category.GENERAL_VQA
        self.keys("subset", raw, {"name", "category"}, {"name", "category"})
        name = self.text("subset.name", raw.get("name", "")).strip()
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
            fields.append(ImageField(
                column=self.text(f"{where}.column", item.get("column", "")),
                kind=self.choice(f"{where}.kind", item.get("kind", "auto"), IMAGE_KINDS),
                base=self.text(f"{where}.base", item.get("base", "")),
            ))
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
            return ConversationTurns(
                column=self.text("turns.column", raw.get("column", "")),
                style=self.choice("turns.style", raw.get("style", "from_value"), CONVERSATION_STYLES),
                system=self.choice("turns.system", raw.get("system", "prepend"), SYSTEM_HANDLING),
                strip_image_tokens=strip,
            )
        if mode == "template":
            return self.template_turns(raw)
        self.fail("turns.mode", f"{mode!r} is not one of conversation, template")
        return None

    def template_turns(self, raw: dict[str, Any]) -> TemplateTurns:
        self.keys("turns", raw, {"mode", "pairs", "each", "options", "answer", "instructions"}, {"pairs"})
        each_raw = raw.get("each") or []
        if not isinstance(each_raw, list):
            self.fail("turns.each", "must be a list of columns that hold lists")
            each_raw = []
        pairs_raw = raw.get("pairs")
        if not isinstance(pairs_raw, list) or not pairs_raw:
            self.fail("turns.pairs", "must be a non-empty list of {\"user\": ..., \"assistant\": ...} templates")
            pairs_raw = []
        pairs = []
        for n, pair in enumerate(pairs_raw):
            where = f"turns.pairs[{n}]"
            if not isinstance(pair, dict):
                self.fail(where, "must be an object with 'user' and 'assistant' templates")
                continue
            self.keys(where, pair, {"user", "assistant"}, {"user", "assistant"})
            pairs.append(Pair(user=self.text(f"{where}.user", pair.get("user", "")),
                              assistant=self.text(f"{where}.assistant", pair.get("assistant", ""))))
        return TemplateTurns(
            pairs=tuple(pairs),
            each=tuple(self.text(f"turns.each[{n}]", c) for n, c in enumerate(each_raw)),
            options=self.options(raw.get("options")),
            answer=self.answer(raw.get("answer")),
            instructions=self.instructions(raw.get("instructions")),
        )

    def options(self, raw: Any) -> Options | None:
        if raw is None:
            return None
        if not isinstance(raw, dict):
            self.fail("turns.options", "must be an object like {\"column\": \"choices\", \"style\": \"letter\"}")
            return None
        self.keys("turns.options", raw, {"column", "style"}, {"column"})
        return Options(
            column=self.text("turns.options.column", raw.get("column", "")),
            style=self.choice("turns.options.style", raw.get("style", "letter"), OPTION_STYLES),
        )

    def answer(self, raw: Any) -> Answer | None:
        if raw is None:
            return None
        if not isinstance(raw, dict):
            self.fail("turns.answer", "must be an object like {\"column\": \"answer\", \"by\": \"text\"}")
            return None
        self.keys("turns.answer", raw, {"column", "by", "format", "index_base"}, {"column"})
        base = raw.get("index_base", 0)
        if base not in (0, 1) or isinstance(base, bool):
            self.fail("turns.answer.index_base", "must be 0 or 1")
            base = 0
        return Answer(
            column=self.text("turns.answer.column", raw.get("column", "")),
            by=self.choice("turns.answer.by", raw.get("by", "text"), ANSWER_BY),
            format=self.choice("turns.answer.format", raw.get("format", "text"), ANSWER_FORMATS),
            index_base=1 if base == 1 else 0,
        )

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
            column=self.text("turns.instructions.column", raw.get("column", "")),
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
            out.append(RowFilter(column=self.text(f"{where}.column", item.get("column", "")),
                                 op=self.choice(f"{where}.op", item.get("op"), FILTER_OPS), value=item.get("value")))
        return tuple(out)


class _Checker:
    """A typed spec's content: columns exist, templates parse and use what is configured, values fit their ops.

    Collects every error instead of stopping at the first, so a curator can fix them all at once.
    """

    def __init__(self, columns: dict[str, str]) -> None:
        self.columns = columns
        self.errors: list[str] = []
        self.parsed: dict[str, tuple[Part, ...]] = {}

    def fail(self, where: str, message: str) -> None:
        self.errors.append(f"{where}: {message}")

    def nonempty(self, where: str, value: str) -> None:
        if not value.strip():
            self.fail(where, "must not be empty")

    def choice(self, where: str, value: Any, allowed: tuple[Any, ...]) -> None:
        # Only reached by specs built in code: JSON is held to its choices when it is read.
        if value not in allowed:
            self.fail(where, f"{value!r} is not one of {', '.join(map(str, allowed))}")

    def column(self, where: str, name: str) -> None:
        self.nonempty(where, name)
        if name and self.columns and name.split(".")[0] not in self.columns and name not in self.columns:
            self.fail(where, f"'{name}' is not a column of this source (columns: {', '.join(self.columns)})")

    def spec(self, spec: MappingSpec) -> MappingSpec:
        self.parts(spec.subset_name, spec.category, spec.images, spec.filters)
        if isinstance(spec.turns, ConversationTurns):
            self.conversation(spec.turns)
        else:
            self.template_turns(spec.turns)
        return replace(spec, parsed=self.parsed)

    def parts(self, name: str, category: str, images: tuple[ImageField, ...], filters: tuple[RowFilter, ...]) -> None:
        self.nonempty("subset.name", name)
        if len(name) > 200:
            self.fail("subset.name", "must be at most 200 characters")
        self.choice("subset.category", category, tuple(Subset.Category.values))
        for n, image in enumerate(images):
            self.column(f"images[{n}].column", image.column)
            self.choice(f"images[{n}].kind", image.kind, IMAGE_KINDS)
            if image.base and image.kind != "path":
                self.fail(f"images[{n}].base", "only images of kind 'path' have a base folder")
        for n, row_filter in enumerate(filters):
            self.row_filter(f"filters[{n}]", row_filter)

    def conversation(self, turns: ConversationTurns) -> None:
        self.column("turns.column", turns.column)
        self.choice("turns.style", turns.style, CONVERSATION_STYLES)
        self.choice("turns.system", turns.system, SYSTEM_HANDLING)

    def template_turns(self, turns: TemplateTurns) -> None:
        for n, name in enumerate(turns.each):
            self.column(f"turns.each[{n}]", name)
        if turns.options is not None:
            self.column("turns.options.column", turns.options.column)
            self.choice("turns.options.style", turns.options.style, OPTION_STYLES)
        if turns.answer is not None:
            self.answer(turns.answer, has_options=turns.options is not None)
        if turns.instructions is not None and turns.instructions.column:
            self.column("turns.instructions.column", turns.instructions.column)
        derived = _derived(turns)
        if not turns.pairs:
            self.fail("turns.pairs", "must be a non-empty list of {\"user\": ..., \"assistant\": ...} templates")
        used: set[str] = set()
        for n, pair in enumerate(turns.pairs):
            self.template(f"turns.pairs[{n}].user", pair.user, derived, used)
            self.template(f"turns.pairs[{n}].assistant", pair.assistant, derived, used)
        instructions = turns.instructions
        if instructions is not None:
            templates = list(instructions.templates) + [t for ts in instructions.by_value.values() for t in ts]
            for n, text in enumerate(templates):
                self.template(f"turns.instructions[{n}]", text, derived - {"instruction"}, used)
            if "instruction" not in used:
                self.fail("turns.instructions", "no template uses {instruction}, so the instructions would be ignored")
        for name in ("options", "answer"):
            if name in derived and name not in used:
                self.fail(f"turns.{name}", f"no template uses {{{name}}}")

    def answer(self, answer: Answer, *, has_options: bool) -> None:
        self.column("turns.answer.column", answer.column)
        self.choice("turns.answer.by", answer.by, ANSWER_BY)
        self.choice("turns.answer.format", answer.format, ANSWER_FORMATS)
        self.choice("turns.answer.index_base", answer.index_base, (0, 1))
        if answer.by in ("index", "letter") and not has_options:
            self.fail("turns.answer.by", f"an answer given by {answer.by} needs turns.options (the list it points into)")
        if answer.format in ("letter", "letter_text") and not has_options:
            self.fail("turns.answer.format", f"format {answer.format} needs turns.options to find the letter")
        if answer.by == "majority" and answer.format != "text":
            self.fail("turns.answer.format", "a majority answer is written as text")

    def template(self, where: str, text: str, derived: set[str], used: set[str]) -> None:
        if not text.strip():
            self.fail(where, "must not be empty")
            return
        try:
            parts = template_parse(text)
        except TemplateError as exc:
            self.fail(where, f"bad template: {exc}")
            return
        self.parsed[text] = parts
        for name in template_names(parts):
            used.add(name)
            if name in derived:
                continue
            if self.columns and name.split(".")[0] not in self.columns and name not in self.columns:
                hint = f"; derived names: {', '.join(sorted(derived))}" if derived else ""
                self.fail(where, f"{{{name}}} is not a column of this source (columns: {', '.join(self.columns)}{hint})")

    def row_filter(self, where: str, row_filter: RowFilter) -> None:
        op, value = row_filter.op, row_filter.value
        self.choice(f"{where}.op", op, FILTER_OPS)
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
        self.column(f"{where}.column", row_filter.column)
