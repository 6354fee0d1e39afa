"""Sources as published: records joined to another file's records by a key, and image names built from columns.

A join reads the other side once into an on-disk index (SQLite in a temporary folder), then streams this
side's records and attaches their matches, so memory holds one batch, never a whole file: the records of
COCO's 500k captions or VQAv2's annotations stay on disk. One-to-one merges the match into the record (or
puts it under `column`); one-to-many puts the list of matches under `column` (COCO: captions per image).
Nothing is dropped silently: a record without a match is a rejected record saying which key found nothing,
and the other side's records that matched nothing are reported with their count and examples.
"""
import sqlite3
import string
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

from curation.ingest.readers.base import Reader, Record, SourceUnreadable

# Records of the other side written to the index per transaction.
INDEX_BATCH_ROWS = 5000
# Records of this side whose matches are looked up in one query (below SQLite's 32766 parameters).
LOOKUP_BATCH_ROWS = 500
# Unmatched keys named in the report (the counts are complete).
UNMATCHED_EXAMPLES = 10


@dataclass(frozen=True)
class JoinDeclaration:
    """How a source's records join another file's, as declared on the source (see Source.join_*)."""

    location: Path | None  # the other file; None = the same file (COCO: images and annotations in one)
    records_key: str  # where the other file's records are (a JSON envelope key), "" = found
    left_key: str
    right_key: str
    many: bool = False
    column: str = ""


@dataclass(frozen=True)
class Declaration:
    """Where a source's records are and what is built from them, beyond the file's own format."""

    records_key: str = ""  # JSON: the key of the list of records, "*" for an object keyed by id, "" = found
    id_column: str = "id"  # JSON keyed by id: the column the key is kept in
    join: JoinDeclaration | None = None
    image_pattern: str = ""  # e.g. COCO_train2014_{image_id:012d}.jpg
    image_column: str = "image"  # the column the built image name goes in


@dataclass(frozen=True)
class Join:
    """This side's `left_key` equals the other file's `right_key`."""

    reader: Reader  # the other side
    name: str  # how the other side is called in messages ("annotations.json")
    left_key: str
    right_key: str
    many: bool = False
    column: str = ""  # where the match (or the list of matches) goes; "" merges a one-to-one match


@dataclass
class JoinReport:
    """What the join matched, for the ingest's result and the preview."""

    left_rows: int = 0
    matched_rows: int = 0
    left_unmatched: int = 0
    left_unmatched_examples: list[str] = field(default_factory=list)
    left_without_key: int = 0
    left_several_matches: int = 0
    right_rows: int = 0
    right_unmatched: int = 0
    right_unmatched_examples: list[str] = field(default_factory=list)
    right_without_key: int = 0
    right_errors: int = 0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def _key_text(value: Any) -> str | None:
    """Keys compare as text, so 42 in one file matches "42" in the other; no key for empty or nested values."""
    kind = type(value)
    if kind is int:
        return str(value)
    if kind is str:
        return value.strip() or None
    if value is None or isinstance(value, dict | list) or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).strip()


class _Index:
    """The other side's records by key, on disk."""

    def __init__(self, folder: Path) -> None:
        self.db = sqlite3.connect(folder / "join.sqlite3")
        self.db.execute("PRAGMA journal_mode=OFF")
        self.db.execute("PRAGMA synchronous=OFF")
        self.db.execute("CREATE TABLE r (k TEXT NOT NULL, v TEXT NOT NULL)")

    def fill(self, pairs: Iterator[tuple[str, str]]) -> None:
        batch: list[tuple[str, str]] = []
        for pair in pairs:
            batch.append(pair)
            if len(batch) >= INDEX_BATCH_ROWS:
                self.db.executemany("INSERT INTO r VALUES (?, ?)", batch)
                batch = []
        self.db.executemany("INSERT INTO r VALUES (?, ?)", batch)
        self.db.execute("CREATE INDEX r_k ON r (k)")
        self.db.commit()

    def get_many(self, keys: list[str]) -> dict[str, list[dict[str, Any]]]:
        """The matches of several keys in one query, each key's in file order."""
        found: dict[str, list[dict[str, Any]]] = {}
        marks = ",".join("?" * len(keys))
        for key, value in self.db.execute(f"SELECT k, v FROM r WHERE k IN ({marks}) ORDER BY rowid", keys):  # noqa: S608
            found.setdefault(key, []).append(orjson.loads(value))
        return found

    def keys(self) -> Iterator[str]:
        for (key,) in self.db.execute("SELECT DISTINCT k FROM r ORDER BY k"):
            yield key

    def close(self) -> None:
        self.db.close()


class JoinedReader:
    """This side's records, each with its matches from the other side (see the module docstring)."""

    def __init__(self, left: Reader, join: Join) -> None:
        self.left = left
        self.join = join
        self.format = left.format
        self.report = JoinReport()

    def count(self) -> int | None:
        return self.left.count()

    def _right_items(self) -> Iterator[Any]:
        # A JSON reader hands over its parsed items directly: the other side needs no row numbers or locations.
        items = getattr(self.join.reader, "items", None)
        if items is not None:
            yield from items()
            return
        for record in self.join.reader.records():
            yield record.data

    def _right_pairs(self) -> Iterator[tuple[str, str]]:
        right_key = self.join.right_key
        report = self.report
        dumps = orjson.dumps
        for data in self._right_items():
            if not isinstance(data, dict):
                report.right_errors += 1
                continue
            report.right_rows += 1
            key = _key_text(data.get(right_key))
            if key is None:
                report.right_without_key += 1
                continue
            # Decoded to text: orjson's bytes keep a 4 KiB buffer each, which a batch of them would hold on to.
            yield key, dumps(data, option=orjson.OPT_NON_STR_KEYS).decode()

    def records(self, *, start_row: int = 0) -> Iterator[Record]:
        self.report = report = JoinReport()
        join = self.join
        with tempfile.TemporaryDirectory(prefix="finecurate-join-") as folder:
            index = _Index(Path(folder))
            try:
                index.fill(self._right_pairs())
                matched: set[str] = set()  # at most the smaller side's keys
                batch: list[tuple[Record, str | None]] = []
                for record in self.left.records(start_row=start_row):
                    if record.data is None or record.row_number is None:
                        yield from self._joined(batch, index, matched)
                        batch = []
                        yield record
                        continue
                    batch.append((record, _key_text(record.data.get(join.left_key))))
                    if len(batch) >= LOOKUP_BATCH_ROWS:
                        yield from self._joined(batch, index, matched)
                        batch = []
                yield from self._joined(batch, index, matched)
                for key in index.keys():
                    if key not in matched:
                        report.right_unmatched += 1
                        if len(report.right_unmatched_examples) < UNMATCHED_EXAMPLES:
                            report.right_unmatched_examples.append(key)
            finally:
                index.close()
        if report.right_unmatched:
            examples = ", ".join(report.right_unmatched_examples)
            yield Record(
                row_number=None, location=join.name, base_dir=Path(),
                error=(f"{report.right_unmatched:,} {join.right_key} value(s) of {join.name} match no record of this "
                       f"source's {join.left_key}, so their records are not in any row (e.g. {examples})"),
            )
        if report.right_without_key:
            yield Record(row_number=None, location=join.name, base_dir=Path(),
                         error=f"{report.right_without_key:,} record(s) of {join.name} have no {join.right_key}")

    def _joined(self, batch: list[tuple[Record, str | None]], index: _Index, matched: set[str]) -> Iterator[Record]:
        """A batch of this side's records with their matches, looked up in one query."""
        if not batch:
            return
        found = index.get_many(list({key for _, key in batch if key is not None}))
        for record, key in batch:
            self.report.left_rows += 1
            matches = found.get(key) if key is not None else None
            if not matches or key is None:
                yield self._unmatched(record, key)
                continue
            matched.add(key)
            self.report.matched_rows += 1
            record.data = self._attach(record.data or {}, matches)
            record.json_text = None
            yield record

    def _unmatched(self, record: Record, key: str | None) -> Record:
        join = self.join
        if key is None:
            self.report.left_without_key += 1
            why = f"has no {join.left_key} to join {join.name} on"
        else:
            self.report.left_unmatched += 1
            if len(self.report.left_unmatched_examples) < UNMATCHED_EXAMPLES:
                self.report.left_unmatched_examples.append(key)
            why = f"no record of {join.name} has {join.right_key} = {key}"
        return Record(row_number=record.row_number, location=record.location, base_dir=record.base_dir, error=why)

    def _attach(self, data: dict[str, Any], matches: list[dict[str, Any]]) -> dict[str, Any]:
        join = self.join
        if join.many:
            return {**data, join.column: matches}
        if len(matches) > 1:
            self.report.left_several_matches += 1  # one-to-one declared, several found: the first is taken
        match = matches[0]
        if join.column:
            return {**data, join.column: match}
        merged = dict(data)
        for name, value in match.items():
            if name not in merged:
                merged[name] = value
            elif merged[name] != value:
                merged[f"{name}_{join.name.split('.')[0]}"] = value
        return merged


class ImagePattern:
    """An image file name built from a record's columns: `COCO_train2014_{image_id:012d}.jpg`.

    Only plain column names (with an optional format spec) are allowed; a record missing one of them (or
    holding null there) gets no image name, so text-only records stay text-only.
    """

    def __init__(self, pattern: str, column: str) -> None:
        self.pattern = pattern
        self.column = column or "image"
        self.fields: list[str] = []
        try:
            parsed = list(string.Formatter().parse(pattern))
        except ValueError as exc:
            raise SourceUnreadable(f"image name pattern {pattern!r}: {exc}") from exc
        for _, name, _, conversion in parsed:
            if name is None:
                continue
            if not name or not name.replace("_", "a").replace("-", "a").isalnum() or conversion:
                raise SourceUnreadable(f"image name pattern {pattern!r}: {{{name}}} must be a plain column name")
            self.fields.append(name)
        if not self.fields:
            raise SourceUnreadable(f"image name pattern {pattern!r} names no column")

    def name_for(self, data: dict[str, Any]) -> str | None:
        values = {name: data.get(name) for name in self.fields}
        if any(v is None or v == "" for v in values.values()):
            return None
        try:
            return self.pattern.format(**values)
        except (ValueError, TypeError) as exc:
            raise ValueError(f"image name pattern {self.pattern!r}: {exc}") from exc


class PatternReader:
    """Records with an image file name added from the pattern (resolved like any image path in a record)."""

    def __init__(self, inner: Reader, pattern: ImagePattern) -> None:
        self.inner = inner
        self.pattern = pattern
        self.format = inner.format

    def count(self) -> int | None:
        return self.inner.count()

    @property
    def report(self) -> JoinReport | None:
        return getattr(self.inner, "report", None)

    def records(self, *, start_row: int = 0) -> Iterator[Record]:
        for record in self.inner.records(start_row=start_row):
            if record.data is not None:
                try:
                    name = self.pattern.name_for(record.data)
                except ValueError as exc:
                    yield Record(row_number=record.row_number, location=record.location, base_dir=record.base_dir,
                                 error=str(exc))
                    continue
                record.data = {**record.data, self.pattern.column: name}
                record.json_text = None
            yield record
