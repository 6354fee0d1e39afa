"""A parser for the action syntaxes of public GUI datasets: function calls, JSON action objects and point tags.

`parse_actions(text)` finds every action in an assistant turn, in order:
- function calls with keyword and positional arguments, nested lists/tuples/dicts, quoted strings (which may
  hold commas and parentheses), module prefixes (`pyautogui.click(...)`, `mobile.swipe(...)`), several per
  turn, surrounded by prose or code fences (`pyautogui.click(x=523, y=311)`, `tap(0.41, 0.22)`);
- JSON action objects (AndroidControl-style `{"action_type": "click", "x": 523, "y": 311}`);
- tag lines (OS-Atlas / AGUVIS grounding style `CLICK <point>[[523,311]]</point>`, `TYPE [hello]`, `PRESS_BACK`).

A small lexer reads values (numbers, strings with escapes, True/False/None, lists, tuples, dicts); the scanner
walks the text and only starts a call where a name is directly followed by "(", so apostrophes in prose never
open a string. `action_format` writes a call back in the canonical form, which parses back to itself.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from curation.errors import ApplicationError

# Keys that name the action in a JSON action object, in the order they are looked for.
JSON_ACTION_KEYS = ("action_type", "action")
TAG_NAMES = ("point", "box")


class ActionSyntaxError(ApplicationError):
    """A value or call that is not well formed; the message says where."""

    code = "action_syntax"
    status = 400


@dataclass(frozen=True)
class ParsedAction:
    """One action as written: its (module-less) name, module prefix, arguments and the syntax it came in."""

    name: str
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    module: str = ""
    syntax: str = "call"  # call | json | tag
    raw: str = ""

    @property
    def qualified_name(self) -> str:
        return f"{self.module}.{self.name}" if self.module else self.name

    @property
    def signature(self) -> str:
        """The shape of the action, shared by every occurrence of it: what a mapping rule is keyed on."""
        if self.syntax == "json":
            key = next((k for k in JSON_ACTION_KEYS if k in self.kwargs), JSON_ACTION_KEYS[0])
            others = sorted(k for k in self.kwargs if k != key)
            return "{" + ", ".join([f"{key}: {self.name}", *others]) + "}"
        if self.syntax == "tag":
            parts = ["<point>" if isinstance(a, list) else "[text]" for a in self.args]
            return " ".join([self.name, *parts])
        parts = ["_"] * len(self.args) + [f"{k}=" for k in sorted(self.kwargs)]
        return f"{self.qualified_name}({', '.join(parts)})"


# --- values ---


def _is_name_char(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


class _Reader:
    """A cursor over the text that reads values and calls; raises ActionSyntaxError with the offset."""

    def __init__(self, text: str, pos: int = 0):
        self.text = text
        self.pos = pos

    def fail(self, message: str) -> ActionSyntaxError:
        return ActionSyntaxError(f"{message} at character {self.pos}", extra={"offset": self.pos})

    def skip_space(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos].isspace():
            self.pos += 1

    def peek(self) -> str:
        self.skip_space()
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect(self, ch: str) -> None:
        if self.peek() != ch:
            raise self.fail(f"expected {ch!r}")
        self.pos += 1

    def name(self) -> str:
        self.skip_space()
        start = self.pos
        if start >= len(self.text) or not (self.text[start].isalpha() or self.text[start] == "_"):
            raise self.fail("expected a name")
        while self.pos < len(self.text) and _is_name_char(self.text[self.pos]):
            self.pos += 1
        return self.text[start:self.pos]

    def qualified_name(self) -> tuple[str, str]:
        parts = [self.name()]
        while self.pos < len(self.text) and self.text[self.pos] == "." and self.pos + 1 < len(self.text) \
                and (self.text[self.pos + 1].isalpha() or self.text[self.pos + 1] == "_"):
            self.pos += 1
            parts.append(self.name())
        return ".".join(parts[:-1]), parts[-1]

    def value(self) -> Any:
        ch = self.peek()
        if ch in ("'", '"'):
            return self.string()
        if ch == "[":
            return self.sequence("[", "]")
        if ch == "(":
            return self.sequence("(", ")")
        if ch == "{":
            return self.mapping()
        if ch == "-" or ch == "+" or ch.isdigit() or ch == ".":
            return self.number()
        if ch.isalpha() or ch == "_":
            module, word = self.qualified_name()
            word = f"{module}.{word}" if module else word
            constants = {"True": True, "true": True, "False": False, "false": False, "None": None, "null": None}
            # A bare word (SCROLL(UP), press(enter)) is read as the string it spells.
            return constants.get(word, word)
        raise self.fail("expected a value" if ch else "the text ended where a value was expected")

    def number(self) -> int | float:
        self.skip_space()
        start = self.pos
        text = self.text
        if self.pos < len(text) and text[self.pos] in "+-":
            self.pos += 1
            self.skip_space()
        digits_start = self.pos
        while self.pos < len(text) and (text[self.pos].isdigit() or text[self.pos] in "._"):
            self.pos += 1
        if self.pos < len(text) and text[self.pos] in "eE":
            mark = self.pos
            self.pos += 1
            if self.pos < len(text) and text[self.pos] in "+-":
                self.pos += 1
            if self.pos < len(text) and text[self.pos].isdigit():
                while self.pos < len(text) and text[self.pos].isdigit():
                    self.pos += 1
            else:
                self.pos = mark
        literal = text[start:self.pos].replace(" ", "").replace("_", "")
        if self.pos == digits_start:
            raise self.fail("expected a number")
        try:
            if any(c in literal for c in ".eE"):
                return float(literal)
            return int(literal)
        except ValueError:
            raise self.fail(f"{literal!r} is not a number") from None

    def string(self) -> str:
        self.skip_space()
        quote = self.text[self.pos]
        self.pos += 1
        out: list[str] = []
        escapes = {"n": "\n", "t": "\t", "r": "\r", "b": "\b", "f": "\f", "0": "\0", "\\": "\\", "'": "'", '"': '"', "/": "/"}
        while True:
            if self.pos >= len(self.text):
                raise self.fail("a quoted string is not closed")
            ch = self.text[self.pos]
            if ch == quote:
                self.pos += 1
                return "".join(out)
            if ch == "\\" and self.pos + 1 < len(self.text):
                nxt = self.text[self.pos + 1]
                if nxt in ("u", "x"):
                    width = 4 if nxt == "u" else 2
                    digits = self.text[self.pos + 2:self.pos + 2 + width]
                    try:
                        out.append(chr(int(digits, 16)))
                    except ValueError:
                        raise self.fail(f"bad escape \\{nxt}{digits}") from None
                    self.pos += 2 + width
                    continue
                out.append(escapes.get(nxt, "\\" + nxt))
                self.pos += 2
                continue
            out.append(ch)
            self.pos += 1

    def sequence(self, open_: str, close: str) -> list[Any]:
        self.expect(open_)
        items: list[Any] = []
        while self.peek() != close:
            items.append(self.value())
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() != close:
                raise self.fail(f"expected ',' or {close!r}")
        self.pos += 1
        return items

    def mapping(self) -> dict[str, Any]:
        self.expect("{")
        items: dict[str, Any] = {}
        while self.peek() != "}":
            key = self.value()
            self.expect(":")
            items[str(key)] = self.value()
            if self.peek() == ",":
                self.pos += 1
            elif self.peek() != "}":
                raise self.fail("expected ',' or '}'")
        self.pos += 1
        return items

    def call(self) -> ParsedAction:
        start = self.pos
        module, name = self.qualified_name()
        if self.pos >= len(self.text) or self.text[self.pos] != "(":
            raise self.fail(f"expected '(' after {name}")
        self.pos += 1
        args: list[Any] = []
        kwargs: dict[str, Any] = {}
        while self.peek() != ")":
            if not self.peek():
                raise self.fail(f"the call {name}( is not closed")
            mark = self.pos
            keyword = None
            if self.peek().isalpha() or self.peek() == "_":
                word = self.name()
                if self.peek() == "=" and self.text[self.pos:self.pos + 2] != "==":
                    self.pos += 1
                    keyword = word
                else:
                    self.pos = mark
            value = self.value()
            if keyword is not None:
                if keyword in kwargs:
                    raise self.fail(f"argument {keyword} given twice")
                kwargs[keyword] = value
            elif kwargs:
                raise self.fail("a positional argument follows a keyword argument")
            else:
                args.append(value)
            if self.peek() == ",":
                self.pos += 1
            elif not self.peek():
                raise self.fail(f"the call {name}( is not closed")
            elif self.peek() != ")":
                raise self.fail("expected ',' or ')'")
        self.pos += 1
        return ParsedAction(name=name, args=tuple(args), kwargs=kwargs, module=module, syntax="call",
                            raw=self.text[start:self.pos])


def parse_value(text: str) -> Any:
    """One value written in the call syntax (a number, a string, a list, ...); the whole text must be used."""
    reader = _Reader(text)
    value = reader.value()
    if reader.peek():
        raise reader.fail("unexpected text after the value")
    return value


def parse_call(text: str) -> ParsedAction:
    """Exactly one function call (the whole text)."""
    reader = _Reader(text)
    reader.skip_space()
    action = reader.call()
    if reader.peek():
        raise reader.fail("unexpected text after the call")
    return action


# --- the scanner over a whole turn ---


def _json_action(obj: Any, raw: str) -> ParsedAction | None:
    if not isinstance(obj, dict):
        return None
    key = next((k for k in JSON_ACTION_KEYS if isinstance(obj.get(k), str)), None)
    if key is None:
        return None
    kwargs = {k: v for k, v in obj.items()}
    return ParsedAction(name=obj[key], kwargs=kwargs, syntax="json", raw=raw)


def _at_line_start(text: str, pos: int) -> bool:
    """Only whitespace, or one 'Label:' prefix ("Action:", "actions:"), stands before pos on its line."""
    line_start = text.rfind("\n", 0, pos) + 1
    before = text[line_start:pos].strip()
    return not before or (before.endswith(":") and before[:-1].replace(" ", "").replace("_", "").isalnum())


def _is_tag_word(word: str) -> bool:
    return len(word) >= 2 and word.upper() == word and any(c.isalpha() for c in word)


def _tag_action(text: str, start: int, name: str, pos: int) -> tuple[ParsedAction, int] | None:
    """A tag line's arguments after its upper-case verb: <point>..</point>, <box>..</box> and [text] parts."""
    args: list[Any] = []
    reader = _Reader(text, pos)
    while True:
        line_end = text.find("\n", reader.pos)
        line_end = len(text) if line_end < 0 else line_end
        while reader.pos < line_end and text[reader.pos] in " \t":
            reader.pos += 1
        if reader.pos >= line_end:
            break
        rest = text[reader.pos:line_end]
        tag = next((t for t in TAG_NAMES if rest.startswith(f"<{t}>")), None)
        if tag is not None:
            close = text.find(f"</{tag}>", reader.pos)
            if close < 0 or close > line_end:
                return None
            inner = text[reader.pos + len(tag) + 2:close]
            try:
                value = parse_value(inner)
            except ActionSyntaxError:
                return None
            # [[523, 311]] and (523, 311) are one point; a box [[x1,y1,x2,y2]] stays a flat list.
            while isinstance(value, list) and len(value) == 1 and isinstance(value[0], list):
                value = value[0]
            if not isinstance(value, list):
                return None
            args.append(value)
            reader.pos = close + len(tag) + 3
        elif rest.startswith("["):
            close = rest.rfind("]")
            if close < 0:
                return None
            args.append(rest[1:close])
            reader.pos += close + 1
        else:
            break
    if not args and not _at_line_start(text, start):
        return None
    end = reader.pos
    return ParsedAction(name=name, args=tuple(args), syntax="tag", raw=text[start:end].strip()), end


def parse_actions(text: str) -> list[ParsedAction]:
    """Every action in a turn's text, in the order written; prose, code fences and imports are skipped."""
    actions: list[ParsedAction] = []
    decoder = json.JSONDecoder()
    pos = 0
    n = len(text)
    while pos < n:
        ch = text[pos]
        if ch in "{[":
            try:
                obj, end = decoder.raw_decode(text, pos)
            except ValueError:
                pos += 1
                continue
            found = [a for a in (_json_action(o, json.dumps(o)) for o in (obj if isinstance(obj, list) else [obj])) if a]
            if found:
                actions.extend(found)
                pos = end
                continue
            pos += 1
            continue
        if (ch.isalpha() or ch == "_") and (pos == 0 or not (_is_name_char(text[pos - 1]) or text[pos - 1] == ".")):
            reader = _Reader(text, pos)
            module, name = reader.qualified_name()
            after = reader.pos
            if after < n and text[after] == "(":
                try:
                    call = _Reader(text, pos).call()
                except ActionSyntaxError:
                    pos = after
                    continue
                actions.append(call)
                pos = pos + len(call.raw)
                continue
            if not module and _is_tag_word(name):
                tagged = _tag_action(text, pos, name, after)
                if tagged is not None:
                    actions.append(tagged[0])
                    pos = tagged[1]
                    continue
            pos = after
            continue
        pos += 1
    return actions


# --- the canonical form ---


def value_format(value: Any) -> str:
    """A value in the canonical call syntax: repr floats, double-quoted strings, [lists]."""
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise ActionSyntaxError(f"{value} cannot be written as an action argument")
        return repr(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, list | tuple):
        return "[" + ", ".join(value_format(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{json.dumps(str(k), ensure_ascii=False)}: {value_format(v)}" for k, v in value.items()) + "}"
    raise ActionSyntaxError(f"{type(value).__name__} cannot be written as an action argument")


def action_format(name: str, params: dict[str, Any], *, args: tuple[Any, ...] = ()) -> str:
    """The canonical call: `click(x=0.41, y=0.22)`."""
    parts = [value_format(a) for a in args] + [f"{k}={value_format(v)}" for k, v in params.items()]
    return f"{name}({', '.join(parts)})"
