"""The small template language of mapping specs: `{column}` placeholders and `[[optional sections]]`.

- `{name}` is replaced by a value; a missing or empty value is an error for the row.
- `{name?}` is replaced by the value, or by nothing when it is missing or empty.
- `[[ ... ]]` is kept only when every placeholder inside it has a value (e.g. `[[Context: {hint}\n]]`).
- `{{` and `}}` are literal braces. Names may be dotted (`{sentences.raw}`) to reach into dicts.
"""
from collections.abc import Callable
from dataclasses import dataclass

from curation.errors import ApplicationError


class TemplateError(ApplicationError, ValueError):
    """The template text cannot be parsed; the message says where."""

    code = "invalid_template"
    status = 400


@dataclass(frozen=True)
class Placeholder:
    name: str
    optional: bool


@dataclass(frozen=True)
class Section:
    parts: tuple["str | Placeholder", ...]


Part = str | Placeholder | Section


class MissingValue(ApplicationError, LookupError):
    """A required placeholder has no value in this row."""

    code = "missing_value"
    status = 422

    def __init__(self, name: str, why: str) -> None:
        super().__init__(f"{{{name}}}: {why}")
        self.name = name
        self.why = why


def template_parse(text: str) -> tuple[Part, ...]:
    """Parse a template into literal strings, placeholders and sections, or raise TemplateError."""
    if not isinstance(text, str):
        raise TemplateError("a template must be text")
    top: list[Part] = []
    section: list[str | Placeholder] | None = None
    literal: list[str] = []
    i = 0

    def flush() -> None:
        if literal:
            (section if section is not None else top).append("".join(literal))
            literal.clear()

    while i < len(text):
        ch = text[i]
        if text.startswith("{{", i) or text.startswith("}}", i):
            literal.append(ch)
            i += 2
        elif ch == "{":
            end = text.find("}", i + 1)
            if end == -1:
                raise TemplateError(f"'{{' at position {i} is never closed (write '{{{{' for a literal brace)")
            raw = text[i + 1 : end]
            if "{" in raw:
                raise TemplateError(f"'{{' at position {i} is never closed (write '{{{{' for a literal brace)")
            optional = raw.endswith("?")
            name = raw[:-1] if optional else raw
            if not name.strip():
                raise TemplateError(f"empty placeholder at position {i}")
            if name != name.strip():
                raise TemplateError(f"placeholder {{{raw}}} at position {i} has spaces around its name")
            flush()
            (section if section is not None else top).append(Placeholder(name=name, optional=optional))
            i = end + 1
        elif ch == "}":
            raise TemplateError(f"single '}}' at position {i} (write '}}}}' for a literal brace)")
        elif text.startswith("[[", i):
            if section is not None:
                raise TemplateError(f"'[[' at position {i} opens a section inside another section")
            flush()
            section = []
            i += 2
        elif text.startswith("]]", i):
            if section is None:
                raise TemplateError(f"']]' at position {i} closes no section")
            flush()
            if not any(isinstance(p, Placeholder) for p in section):
                raise TemplateError(f"the section ending at position {i} has no placeholder, so it is always shown")
            top.append(Section(parts=tuple(section)))
            section = None
            i += 2
        else:
            literal.append(ch)
            i += 1
    if section is not None:
        raise TemplateError("a '[[' section is never closed with ']]'")
    flush()
    return tuple(top)


def template_names(parts: tuple[Part, ...]) -> list[str]:
    """Every placeholder name the template uses, in order."""
    names: list[str] = []
    for part in parts:
        if isinstance(part, Placeholder):
            names.append(part.name)
        elif isinstance(part, Section):
            names.extend(p.name for p in part.parts if isinstance(p, Placeholder))
    return names


# lookup(name) returns the text of a placeholder, "" when it is empty, or raises MissingValue.
Lookup = Callable[[str], str]


def template_render(parts: tuple[Part, ...], lookup: Lookup) -> str:
    out: list[str] = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, Placeholder):
            out.append(_value(part, lookup))
        else:
            rendered = _section(part, lookup)
            if rendered is not None:
                out.append(rendered)
    return "".join(out)


def _value(placeholder: Placeholder, lookup: Lookup) -> str:
    try:
        value = lookup(placeholder.name)
    except MissingValue:
        if placeholder.optional:
            return ""
        raise
    if value == "" and not placeholder.optional:
        raise MissingValue(placeholder.name, "the value is empty")
    return value


def _section(section: Section, lookup: Lookup) -> str | None:
    out: list[str] = []
    for part in section.parts:
        if isinstance(part, str):
            out.append(part)
            continue
        try:
            value = lookup(part.name)
        except MissingValue:
            return None
        if value == "":
            return None
        out.append(value)
    return "".join(out)
