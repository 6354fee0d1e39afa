"""JSON Lines: one object per line; a malformed line is rejected with its line number, the rest read on."""
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from curation.ingest.readers.base import Record, SourceUnreadable, count_lines, location_in, open_binary


def _refuse_constant(name: str) -> Any:
    # NaN and Infinity are not JSON, and PostgreSQL's jsonb cannot hold them.
    raise ValueError(f"{name} is not valid JSON")


def json_line_parse(raw: bytes) -> dict[str, Any]:
    """One line as a JSON object, or ValueError saying why not."""
    try:
        value = json.loads(raw, parse_constant=_refuse_constant)
    except UnicodeDecodeError as exc:
        raise ValueError("not valid UTF-8") from exc
    except json.JSONDecodeError as exc:
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
        with open_binary(self.path) as handle:
            for line_number, raw in enumerate(handle, start=1):
                if not raw.strip():
                    continue
                location = location_in(self.path, multi_file=self.multi_file, where=f"line {line_number}")
                try:
                    data = json_line_parse(raw)
                except ValueError as exc:
                    yield Record(row_number=row_number, location=location, base_dir=base_dir, error=str(exc))
                else:
                    yield Record(row_number=row_number, location=location, base_dir=base_dir, data=data)
                row_number += 1
