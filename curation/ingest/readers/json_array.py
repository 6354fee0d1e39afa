"""JSON: an array of objects, an object holding one under a key (an envelope: `data`, `annotations`, ...), or an
object keyed by id (ScienceQA's problems.json); parsed as a stream with ijson, never loaded whole."""
from collections.abc import Iterator
from dataclasses import dataclass, field
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


# records_key meaning "the object's values are the records, keyed by id".
KEYED_BY_ID = "*"
# Top-level values looked at to tell an object keyed by id from an envelope.
SHAPE_SAMPLE_KEYS = 20


@dataclass
class JsonShape:
    """What a JSON file holds at its top level, for choosing where its records are."""

    kind: str  # "array", "object"
    lists: dict[str, int] = field(default_factory=dict)  # top-level key -> items in its list (lists of objects)
    keyed: bool = False  # an object whose values are all objects: records keyed by id
    keys_seen: int = 0

    @property
    def suggested_key(self) -> str | None:
        """Where the records are, when that is obvious: the array, the one list, or the keyed object."""
        if self.kind == "array":
            return ""
        if len(self.lists) == 1:
            return next(iter(self.lists))
        if not self.lists and self.keyed:
            return KEYED_BY_ID
        return None


def json_shape(path: Path) -> JsonShape:
    """The top level of a JSON file, read as a stream (one pass; nested values are skipped, not built)."""
    try:
        with open_binary(path) as handle:
            events = ijson.parse(handle)
            _, event, _ = next(events)
            if event == "start_array":
                return JsonShape(kind="array")
            if event != "start_map":
                raise SourceUnreadable(f"{path.name} holds a single JSON {event}, not records")
            shape = JsonShape(kind="object", keyed=True)
            current = ""
            depth = 0
            for prefix, event, value in events:
                if depth == 0 and event == "map_key":
                    current = value
                    shape.keys_seen += 1
                    continue
                if depth == 0 and event in ("start_map", "start_array"):
                    if event == "start_array":
                        shape.lists[current] = 0
                        shape.keyed = False
                elif depth == 0 and event != "end_map":
                    shape.keyed = False  # a scalar at the top level: an envelope's metadata
                if event in ("start_map", "start_array"):
                    depth += 1
                    if depth == 2 and prefix == f"{current}.item" and current in shape.lists:
                        shape.lists[current] += 1
                elif event in ("end_map", "end_array"):
                    depth -= 1
            shape.lists = {k: n for k, n in shape.lists.items() if n}
            return shape
    except StopIteration as exc:
        raise SourceUnreadable(f"{path.name} is empty") from exc
    except ijson.JSONError as exc:
        raise SourceUnreadable(f"{path.name} is not valid JSON: {_first_line(str(exc))}") from exc
    except OSError as exc:
        raise SourceUnreadable(f"{path.name} cannot be read: {exc}") from exc


def json_records_under(path: Path, key: str) -> bool:
    """Whether `key` holds a list with at least one item: read only up to that item (in C), not the whole file."""
    try:
        with open_binary(path) as handle:
            if key == KEYED_BY_ID:
                return next(ijson.parse(handle))[1] == "start_map"
            return next(iter(ijson.items(handle, f"{key}.item", use_float=True)), None) is not None
    except StopIteration:
        return False
    except ijson.JSONError as exc:
        raise SourceUnreadable(f"{path.name} is not valid JSON: {_first_line(str(exc))}") from exc
    except OSError as exc:
        raise SourceUnreadable(f"{path.name} cannot be read: {exc}") from exc


class JsonArrayReader:
    """Records of a JSON file: `records_key` "" finds them (the array, or the first list in an object), a key
    names the list they are under, and KEYED_BY_ID reads an object keyed by id, the key kept as `id_column`."""

    format = "json"

    def __init__(self, path: Path, *, multi_file: bool = False, records_key: str = "", id_column: str = "id") -> None:
        self.path = path
        self.multi_file = multi_file
        self.keyed = records_key == KEYED_BY_ID
        self.id_column = id_column or "id"
        self.prefix = "" if self.keyed else (f"{records_key}.item" if records_key else _records_prefix(path))

    def _items(self, handle: object) -> Iterator[object]:
        if not self.keyed:
            yield from ijson.items(handle, self.prefix, use_float=True)
            return
        for key, value in ijson.kvitems(handle, "", use_float=True):
            if isinstance(value, dict):
                # The key is kept as a column (under "key" if the record has its own `id_column`).
                column = self.id_column if self.id_column not in value else "key"
                yield {column: key, **value}
            else:
                yield value

    def items(self) -> Iterator[object]:
        """The parsed items alone (no row numbers or locations), for the other side of a join."""
        with open_binary(self.path) as handle:
            yield from self._items(handle)

    def count(self) -> int | None:
        # A second streaming pass in C (yajl2_c) is cheap next to ingesting the rows; a broken file has no count.
        try:
            with open_binary(self.path) as handle:
                count = 0
                handle.mark()
                for _ in self._items(handle):
                    count += 1
                    handle.mark()
                return count
        except (ijson.JSONError, OSError, ValueError):
            return None

    def records(self, *, start_row: int = 0) -> Iterator[Record]:
        row_number = start_row
        base_dir = self.path.parent
        with open_binary(self.path) as handle:
            items = self._items(handle)
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
