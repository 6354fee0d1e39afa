"""The one function that turns a raw row into a sample, shared by the preview and the apply job.

It is pure: no database, no files. Images come out as references (a stored sha256, a path, or bytes)
that the mapping service resolves to Image rows, so what the preview shows is what apply writes.
"""
import base64
import binascii
import json
from collections import Counter
from dataclasses import dataclass
from typing import Any

from curation.errors import ApplicationError
from curation.ingest.records import IMAGE_KEY  # how ingest replaces an image inside SourceRow.data
from curation.mapping.conversation import ConversationError, conversation_turns
from curation.mapping.spec import (
    MAX_OPTIONS,
    Answer,
    ConversationTurns,
    ImageField,
    MappingSpec,
    RowFilter,
    TemplateTurns,
)
from curation.mapping.template import MissingValue, template_parse, template_render
from curation.seeded import seeded_int


class RowMappingError(ApplicationError, ValueError):
    """This row cannot become a sample under this spec; the message says why, for the job's rejected rows."""

    code = "row_not_mappable"
    status = 422


@dataclass(frozen=True)
class ImageRef:
    kind: str  # "sha" (already stored), "path" (relative to base), or "bytes"
    value: str | bytes
    base: str = ""


@dataclass(frozen=True)
class MappedSample:
    turns: list[dict[str, str]]
    images: list[ImageRef]


@dataclass(frozen=True)
class FilteredOut:
    """The row is left out on purpose by one of the spec's filters."""

    reason: str


def row_map(spec: MappingSpec, *, source_name: str, row_number: int, data: Any) -> MappedSample | FilteredOut:
    """The sample a row becomes, or why it is filtered out; RowMappingError when it cannot be mapped."""
    if not isinstance(data, dict):
        raise RowMappingError(f"the row is a {type(data).__name__}, not a record of columns")
    for n, row_filter in enumerate(spec.filters):
        if not _filter_keeps(row_filter, data):
            return FilteredOut(reason=f"filter {n + 1} ({_describe(row_filter)})")
    images = [ref for field in spec.images for ref in _images(field, data)]
    if isinstance(spec.turns, ConversationTurns):
        value = _column(data, spec.turns.column)
        try:
            turns = conversation_turns(value, spec.turns)
        except ConversationError as exc:
            raise RowMappingError(f"column '{spec.turns.column}': {exc}") from exc
    else:
        turns = _template_turns(spec, spec.turns, source_name=source_name, row_number=row_number, data=data)
    if not turns:
        raise RowMappingError("the row gives no turns")
    return MappedSample(turns=turns, images=images)


# --- values -------------------------------------------------------------------------------------------

_MISSING = object()


def _column(data: dict[str, Any], name: str) -> Any:
    if name in data:
        return data[name]
    value: Any = data
    for key in name.split("."):
        if isinstance(value, dict) and key in value:
            value = value[key]
        elif isinstance(value, list) and key.isdigit() and int(key) < len(value):
            value = value[int(key)]
        else:
            return _MISSING
    return value


def _as_text(name: str, value: Any) -> str:
    if value is _MISSING:
        raise MissingValue(name, "the row has no such column")
    if value is None:
        raise MissingValue(name, "the value is empty")
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, dict) and IMAGE_KEY in value:
        raise RowMappingError(f"{{{name}}} is an image; list it under images, not in a template")
    kind = "a list" if isinstance(value, list) else "an object"
    raise RowMappingError(
        f"{{{name}}} holds {kind} ({json.dumps(value, default=str)[:80]}); put its column in turns.each, "
        "use it as turns.options or turns.answer, or reach into it with a dotted name"
    )


def _is_empty(value: Any) -> bool:
    return value is _MISSING or value is None or (isinstance(value, str | list | dict) and not value) or (
        isinstance(value, str) and not value.strip()
    )


# --- filters ------------------------------------------------------------------------------------------

def _filter_keeps(row_filter: RowFilter, data: dict[str, Any]) -> bool:
    value = _column(data, row_filter.column)
    op, expected = row_filter.op, row_filter.value
    if op == "not_empty":
        return not _is_empty(value)
    if op == "empty":
        return _is_empty(value)
    if op == "equals":
        return value == expected
    if op == "not_equals":
        return value != expected
    if op == "in":
        return value in expected
    if op == "not_in":
        return value not in expected
    if op in ("min_chars", "max_chars"):
        length = len(value) if isinstance(value, str) else 0
        return length >= expected if op == "min_chars" else length <= expected
    length = len(value) if isinstance(value, list | dict) else 0
    return length >= expected if op == "min_items" else length <= expected


def _describe(row_filter: RowFilter) -> str:
    if row_filter.value is None:
        return f"{row_filter.column} {row_filter.op.replace('_', ' ')}"
    return f"{row_filter.column} {row_filter.op.replace('_', ' ')} {json.dumps(row_filter.value)[:60]}"


# --- images -------------------------------------------------------------------------------------------

def _images(field: ImageField, data: dict[str, Any]) -> list[ImageRef]:
    value = _column(data, field.column)
    if value is _MISSING:
        # The spec's columns are checked against the source; a record without the key simply has no image
        # (the LLaVA-1.5 mix keeps text-only conversations, without "image", in the same file).
        return []
    if field.kind == "auto":
        stored = image_refs(value)
        texts = [v for v in (value if isinstance(value, list) else [value]) if isinstance(v, str) and v.strip()]
        if texts:
            # Ingest stores every image it can read; a string left in an image column is one it could not.
            raise RowMappingError(f"column '{field.column}': {texts[0]!r:.80} is not a stored image")
        return [ImageRef(kind="sha", value=sha) for sha in stored]
    items = value if isinstance(value, list) else [value]
    refs = []
    for item in items:
        if item is None or item == "":
            continue
        if field.kind == "path":
            path = item.get("path") if isinstance(item, dict) else item
            if not isinstance(path, str) or not path.strip():
                raise RowMappingError(f"column '{field.column}': {item!r:.80} is not an image path")
            refs.append(ImageRef(kind="path", value=path.strip(), base=field.base))
        else:
            refs.append(ImageRef(kind="bytes", value=_decode_bytes(field.column, item)))
    return refs


def image_refs(value: Any) -> list[str]:
    """Every stored-image reference inside a value, in reading order (images may sit inside messages)."""
    if isinstance(value, dict):
        if IMAGE_KEY in value:
            return [str(value[IMAGE_KEY])]
        return [sha for v in value.values() for sha in image_refs(v)]
    if isinstance(value, list):
        return [sha for v in value for sha in image_refs(v)]
    return []


def _decode_bytes(column: str, item: Any) -> bytes:
    raw = item.get("bytes") if isinstance(item, dict) else item
    if not isinstance(raw, str):
        raise RowMappingError(f"column '{column}': {type(raw).__name__} is not base64 image bytes")
    if raw.startswith("data:"):
        raw = raw.partition(",")[2]
    try:
        return base64.b64decode(raw, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise RowMappingError(f"column '{column}': not valid base64 image bytes ({exc})") from exc


# --- template turns -----------------------------------------------------------------------------------

def _template_turns(spec: MappingSpec, turns: TemplateTurns, *, source_name: str, row_number: int,
                    data: dict[str, Any]) -> list[dict[str, str]]:
    elements = _each_elements(turns, data)
    out: list[dict[str, str]] = []
    for index, element in enumerate(elements):
        scope = _Scope(spec, turns, data, element, index=index, seed=f"{source_name}\x1f{row_number}")
        for pair_number, pair in enumerate(turns.pairs):
            slot = index * len(turns.pairs) + pair_number
            try:
                user = template_render(_parsed(spec, pair.user), scope.lookup_for(slot)).strip()
                assistant = template_render(_parsed(spec, pair.assistant), scope.lookup_for(slot)).strip()
            except MissingValue as exc:
                raise RowMappingError(f"turn {len(out) + 1}: {{{exc.name}}}: {exc.why}") from exc
            for role, text in (("user", user), ("assistant", assistant)):
                if not text:
                    raise RowMappingError(f"turn {len(out) + 1}: the {role} message is empty")
            out.append({"user": user, "assistant": assistant})
    return out


def _parsed(spec: MappingSpec, text: str) -> Any:
    return spec.parsed.get(text) or template_parse(text)


def _each_elements(turns: TemplateTurns, data: dict[str, Any]) -> list[dict[str, Any]]:
    """One binding per element of the `each` lists (zipped), or a single empty binding without `each`."""
    if not turns.each:
        return [{}]
    lists = {}
    for name in turns.each:
        value = _column(data, name)
        if isinstance(value, str) and value.lstrip().startswith("["):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                pass
        if not isinstance(value, list):
            raise RowMappingError(f"turns.each: column '{name}' does not hold a list in this row")
        if not value:
            raise RowMappingError(f"turns.each: column '{name}' is an empty list in this row")
        lists[name] = value
    lengths = {name: len(v) for name, v in lists.items()}
    if len(set(lengths.values())) > 1:
        raise RowMappingError(f"turns.each: the lists differ in length ({lengths})")
    count = next(iter(lengths.values()))
    return [{name: values[i] for name, values in lists.items()} for i in range(count)]


class _Scope:
    """Resolves template names for one element of one row: derived names first, then `each` elements, then columns."""

    def __init__(self, spec: MappingSpec, turns: TemplateTurns, data: dict[str, Any], element: dict[str, Any], *,
                 index: int, seed: str):
        self.spec = spec
        self.turns = turns
        self.data = data
        self.element = element
        self.index = index
        self.seed = seed

    def value(self, name: str) -> Any:
        head, _, rest = name.partition(".")
        if head in self.element:
            value = self.element[head]
            return _column({"v": value}, f"v.{rest}") if rest else value
        return _column(self.data, name)

    def lookup_for(self, slot: int):
        def lookup(name: str) -> str:
            turns = self.turns
            if name == "options" and turns.options is not None:
                return "\n".join(_lettered(self._options(), turns.options.style))
            if name == "answer" and turns.answer is not None:
                return self._answer(turns.answer)
            if name == "instruction" and turns.instructions is not None:
                return self._instruction(slot)
            if name == "index" and turns.each:
                return str(self.index + 1)
            return _as_text(name, self.value(name))

        return lookup

    def _options(self) -> list[str]:
        assert self.turns.options is not None
        column = self.turns.options.column
        value = self.value(column)
        if isinstance(value, str) and value.lstrip().startswith("["):
            try:
                value = json.loads(value)
            except json.JSONDecodeError:
                pass
        if value is _MISSING or value is None:
            raise MissingValue(column, "the row has no options")
        if not isinstance(value, list) or not value:
            raise RowMappingError(f"turns.options: column '{column}' does not hold a list of options in this row")
        if len(value) > MAX_OPTIONS:
            raise RowMappingError(f"turns.options: {len(value)} options are more than the {MAX_OPTIONS} letters")
        return [_as_text(f"{column}[{n}]", v) for n, v in enumerate(value)]

    def _answer(self, answer: Answer) -> str:
        value = self.value(answer.column)
        if answer.by == "majority":
            return _majority(answer.column, value)
        if answer.by == "text":
            text = _as_text(answer.column, value)
            if answer.format == "text":
                return text
            options = self._options()
            index = _find_option(options, text)
            if index is None:
                raise RowMappingError(f"the answer {text!r:.60} is not one of the options")
        else:
            options = self._options()
            index = _answer_index(answer, value, len(options))
        if answer.format == "text":
            return options[index]
        letter = _letter(index)
        return letter if answer.format == "letter" else f"{letter}. {options[index]}"

    def _instruction(self, slot: int) -> str:
        instructions = self.turns.instructions
        assert instructions is not None
        templates = instructions.templates
        if instructions.column:
            key = _as_text(instructions.column, self.value(instructions.column))
            templates = instructions.by_value.get(key, instructions.templates)
            if not templates:
                raise RowMappingError(f"no instruction templates for {instructions.column} = {key!r}")
        # Deterministic per row (and per turn): the same row always gets the same template.
        chosen = templates[seeded_int(self.seed, slot, sep="\x1f") % len(templates)]
        inner = self.lookup_for(slot)

        def lookup(name: str) -> str:
            if name == "instruction":
                raise RowMappingError("an instruction template cannot use {instruction}")
            return inner(name)

        return template_render(_parsed(self.spec, chosen), lookup).strip()


def _letter(index: int) -> str:
    return chr(ord("A") + index)


def _lettered(options: list[str], style: str) -> list[str]:
    if style == "number":
        return [f"{n + 1}. {text}" for n, text in enumerate(options)]
    if style == "letter_paren":
        return [f"({_letter(n)}) {text}" for n, text in enumerate(options)]
    return [f"{_letter(n)}. {text}" for n, text in enumerate(options)]


def _find_option(options: list[str], text: str) -> int | None:
    for n, option in enumerate(options):
        if option == text:
            return n
    folded = text.strip().casefold()
    for n, option in enumerate(options):
        if option.strip().casefold() == folded:
            return n
    return None


def _answer_index(answer: Answer, value: Any, count: int) -> int:
    if answer.by == "letter":
        letter = _as_text(answer.column, value).strip("()[]. ").upper()
        if len(letter) != 1 or not "A" <= letter <= "Z":
            raise RowMappingError(f"the answer {letter!r:.20} is not an option letter")
        index = ord(letter) - ord("A")
    else:
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            value = int(value)
        if not isinstance(value, int) or isinstance(value, bool):
            if value is None or value is _MISSING:
                raise MissingValue(answer.column, "the row has no answer")
            raise RowMappingError(f"the answer {value!r:.40} is not an option index")
        index = value - answer.index_base
    if not 0 <= index < count:
        raise RowMappingError(f"the answer points to option {index + answer.index_base}, but there are {count} options")
    return index


def _majority(column: str, value: Any) -> str:
    """The most frequent answer of a list (VQAv2's ten annotator answers); ties go to the first given."""
    if value is _MISSING or value is None:
        raise MissingValue(column, "the row has no answers")
    if not isinstance(value, list):
        return _as_text(column, value)
    texts = []
    for item in value:
        text = item.get("answer") if isinstance(item, dict) else item
        if isinstance(text, str | int | float) and str(text).strip():
            texts.append(str(text).strip())
    if not texts:
        raise MissingValue(column, "the list of answers is empty")
    counts = Counter(texts)
    best = max(counts.values())
    return next(t for t in texts if counts[t] == best)
