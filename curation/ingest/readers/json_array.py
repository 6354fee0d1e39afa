"""JSON: an array of objects (or an object holding one), parsed as a stream with ijson, never loaded whole."""
from collections.abc import Iterator
from pathlib import Path

import ijson

from curation.ingest.readers.base import Record, SizeLimitExceeded, SourceUnreadable, location_in, open_binary


def _first_line(message: str) -> str:
    return message.strip().splitlines()[0] if message.strip() else "syntax error"


def _records_prefix(path: Path) -> str:
    """ijson prefix of the records: 'item' for a top-level array, 'data.item' for {"data": [...]}."""
    try:
        with open_binary(path) as handle:
            events = ijson.parse(handle)
            _, event, _ = next(events)
            if event == "start_array":
                return "item"
            if event != "start_map":
                raise SourceUnreadable(f"{path.name} holds a single JSON {event}, not an array of records")
            for prefix, event, _ in events:
                if event == "start_array" and prefix and "." not in prefix:
                    return f"{prefix}.item"
    except StopIteration as exc:
        raise SourceUnreadable(f"{path.name} is empty") from exc
    except ijson.JSONError as exc:
        raise SourceUnreadable(f"{path.name} is not valid JSON: {_first_line(str(exc))}") from exc
    except OSError as exc:
        raise SourceUnreadable(f"{path.name} cannot be read: {exc}") from exc
    raise SourceUnreadable(f"{path.name} is a JSON object without an array of records in it")


class JsonArrayReader:
    format = "json"

    def __init__(self, path: Path, *, multi_file: bool = False) -> None:
        self.path = path
        self.multi_file = multi_file
        self.prefix = _records_prefix(path)

    def count(self) -> int | None:
        # A second streaming pass in C (yajl2_c) is cheap next to ingesting the rows; a broken file has no count.
        try:
            with open_binary(self.path) as handle:
                count = 0
                handle.mark()
                for _ in ijson.items(handle, self.prefix, use_float=True):
                    count += 1
                    handle.mark()
                return count
        except (ijson.JSONError, OSError, ValueError):
            return None

    def records(self, *, start_row: int = 0) -> Iterator[Record]:
        row_number = start_row
        base_dir = self.path.parent
        with open_binary(self.path) as handle:
            items = ijson.items(handle, self.prefix, use_float=True)
            while True:
                location = location_in(self.path, multi_file=self.multi_file, where=f"item {row_number - start_row + 1}")
                handle.mark()
                try:
                    item = next(items)
                except StopIteration:
                    return
                except SizeLimitExceeded as exc:
                    # One record too large to hold, or a file past its cap: the parser cannot skip to the next.
                    yield Record(row_number=row_number, location=location, base_dir=base_dir, error=f"{exc}; the rest of the file was not read")
                    return
                except ijson.JSONError as exc:
                    # The parser cannot resynchronise after a syntax error: what came before is kept.
                    if row_number == start_row:
                        raise SourceUnreadable(f"{self.path.name} is not valid JSON: {_first_line(str(exc))}") from exc
                    yield Record(
                        row_number=None,
                        location=location,
                        base_dir=base_dir,
                        error=f"not valid JSON from here on, the rest of the file was not read: {_first_line(str(exc))}",
                    )
                    return
                if isinstance(item, dict):
                    yield Record(row_number=row_number, location=location, base_dir=base_dir, data=item)
                else:
                    yield Record(
                        row_number=row_number,
                        location=location,
                        base_dir=base_dir,
                        error=f"a JSON object was expected, found {type(item).__name__}",
                    )
                row_number += 1
