"""JSON Lines: one object per line; a malformed line is rejected with its line number, the rest read on."""
import codecs
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from curation.ingest.readers.base import (
    NO_TEXT_KEYS,
    Record,
    SourceUnreadable,
    count_lines,
    line_too_long,
    lines_bounded,
    location_in,
    open_binary,
)


def json_line_parse(raw: bytes | str) -> dict[str, Any]:
    """One line as a JSON object, or ValueError saying why not.

    orjson is strict where PostgreSQL's jsonb is: it refuses NaN, Infinity, invalid UTF-8 and lone surrogates.
    """
    try:
        value = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ValueError(f"not valid JSON: {exc.msg} at column {exc.colno}") from exc
    if not isinstance(value, dict):
        raise ValueError(f"a JSON object was expected, found {type(value).__name__}")
    return value


class JsonlReader:
    format = "jsonl"

    def __init__(self, path: Path, *, multi_file: bool = False) -> None:
        self.path = path
        self.multi_file = multi_file
        try:
            with open_binary(path) as handle:
                handle.read(1)
        except OSError as exc:
            raise SourceUnreadable(f"{path.name} cannot be read: {exc}") from exc

    def count(self) -> int | None:
        return count_lines(self.path)

    def records(self, *, start_row: int = 0) -> Iterator[Record]:
        row_number = start_row
        base_dir = self.path.parent
        prefix = location_in(self.path, multi_file=self.multi_file, where="line")
        with open_binary(self.path) as handle:
            for line_number, raw in enumerate(lines_bounded(handle), start=1):
                if raw is None:
                    yield Record(row_number=row_number, location=f"{prefix} {line_number}", base_dir=base_dir, error=line_too_long())
                    row_number += 1
                    continue
                if line_number == 1 and raw.startswith(codecs.BOM_UTF8):
                    raw = raw[len(codecs.BOM_UTF8) :]
                if raw.isspace() or not raw:
                    continue
                try:
                    data = json_line_parse(raw)
                except ValueError as exc:
                    yield Record(row_number=row_number, location=f"{prefix} {line_number}", base_dir=base_dir, error=str(exc))
                else:
                    text = raw.decode("utf-8").strip()
                    yield Record(row_number, f"{prefix} {line_number}", base_dir, data, None, NO_TEXT_KEYS, text)
                row_number += 1
