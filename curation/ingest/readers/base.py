"""What every reader yields, and how a reader says that a file cannot be read at all."""
import gzip
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

import pyarrow as pa
from django.conf import settings

from curation.errors import ApplicationError
from curation.services.paths import PathNotAllowed, path_check_allowed

# File endings of images a record may name, and that an image folder is made of.
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"})

# What reading a damaged file can raise part-way; the records read before it are kept.
READ_ERRORS = (OSError, EOFError, ValueError, zlib.error, pa.ArrowException)

# Bytes read at a time when a reader scans a file without parsing it (counting lines, sniffing).
SCAN_CHUNK_BYTES = 1 << 20


class SourceUnreadable(ApplicationError):
    """The file or folder cannot be read at all (not the format it claims, unreadable, empty of records)."""

    code = "source_unreadable"
    status = 422


NO_TEXT_KEYS: frozenset[str] = frozenset()


@dataclass(slots=True)
class Record:
    """One record as read: either data (a dict) or the reason it could not be read.

    row_number is the record's 0-based position in the source; None for a problem that is not a record
    (a file of unknown format in a folder). base_dir is where relative image paths in the record point from.
    """

    row_number: int | None
    location: str
    base_dir: Path
    data: dict[str, Any] | None = None
    error: str | None = None
    # Top-level keys whose strings are names, never image paths to load (e.g. an image folder's file_name).
    text_keys: frozenset[str] = NO_TEXT_KEYS
    # The record's JSON text as read (JSON Lines), so a row with nothing to prepare is not serialised again.
    json_text: str | None = None


class Reader(Protocol):
    """A source read as a stream of records."""

    format: str

    def count(self) -> int | None:
        """How many records to expect (for the progress bar), or None if it cannot be known cheaply."""

    def records(self, *, start_row: int = 0) -> Iterator[Record]:
        """The records in order, numbered from start_row."""


# A streaming parser reads ahead of the record it is building by up to one buffer (ijson's default is 64 KiB).
PARSER_READ_AHEAD_BYTES = 64 * 1024


class SizeLimitExceeded(ValueError):
    """A file decompresses to more than FINECURATE_MAX_SOURCE_BYTES, or one record passes FINECURATE_MAX_LINE_BYTES."""


class BoundedStream:
    """A file's (decompressed) bytes, refused past FINECURATE_MAX_SOURCE_BYTES: a gzip bomb stops there.

    mark() starts a record; reading more than FINECURATE_MAX_LINE_BYTES after it raises too, so a parser that
    builds one record in memory (ijson) never holds more than that.
    """

    def __init__(self, raw: IO[bytes], *, name: str) -> None:
        self.raw = raw
        self.name = name
        self.total = 0
        self.marked: int | None = None
        self.limit = settings.FINECURATE_MAX_SOURCE_BYTES
        self.record_limit = settings.FINECURATE_MAX_LINE_BYTES

    def _count(self, data: bytes) -> bytes:
        self.total += len(data)
        if self.total > self.limit:
            raise SizeLimitExceeded(
                f"{self.name} holds more than {self.limit:,} bytes (decompressed); FINECURATE_MAX_SOURCE_BYTES stops it there"
            )
        if self.marked is not None and self.total - self.marked > self.record_limit + PARSER_READ_AHEAD_BYTES:
            raise SizeLimitExceeded(f"a record longer than {self.record_limit:,} bytes (FINECURATE_MAX_LINE_BYTES)")
        return data

    def mark(self) -> None:
        self.marked = self.total

    def read(self, size: int = -1) -> bytes:
        if size is None or size < 0:
            size = self.limit - self.total + 1  # never more than the cap allows, plus the byte that passes it
        return self._count(self.raw.read(size))

    def readline(self, size: int = -1) -> bytes:
        return self._count(self.raw.readline(size))

    def __iter__(self) -> Iterator[bytes]:
        return iter(self.readline, b"")

    def seek(self, offset: int, whence: int = 0) -> int:
        position = self.raw.seek(offset, whence)
        self.total, self.marked = position, None
        return position

    def close(self) -> None:
        self.raw.close()

    def __enter__(self) -> "BoundedStream":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_binary(path: Path) -> BoundedStream:
    """Open a file for reading, decompressing .gz transparently, bounded by FINECURATE_MAX_SOURCE_BYTES."""
    if path.suffix == ".gz":
        raw: IO[bytes] = gzip.open(path, "rb")  # type: ignore[assignment]  # a GzipFile reads bytes like any IO[bytes]
    else:
        raw = path.open("rb")
    return BoundedStream(raw, name=path.name)


def lines_bounded(handle: BoundedStream) -> Iterator[bytes | None]:
    """The file's lines; None for a line longer than FINECURATE_MAX_LINE_BYTES, skipped without being held."""
    limit = settings.FINECURATE_MAX_LINE_BYTES
    while raw := handle.readline(limit + 1):
        if len(raw) > limit and not raw.endswith(b"\n"):
            while (rest := handle.readline(SCAN_CHUNK_BYTES)) and not rest.endswith(b"\n"):
                pass
            yield None
        else:
            yield raw


def line_too_long() -> str:
    return f"the line is longer than {settings.FINECURATE_MAX_LINE_BYTES:,} bytes (FINECURATE_MAX_LINE_BYTES): rejected unread"


# A file whose first bytes are whitespace and that ends within them holds nothing, whatever its format.
EMPTY_SCAN_BYTES = 64 * 1024


def file_is_empty(path: Path) -> bool:
    """No bytes, or only whitespace (after decompressing .gz)."""
    try:
        with open_binary(path) as handle:
            head = handle.read(EMPTY_SCAN_BYTES + 1)
    except (OSError, EOFError, SizeLimitExceeded):
        return False  # not empty; the reader says what is wrong with it
    return len(head) <= EMPTY_SCAN_BYTES and not head.strip()


def count_lines(path: Path) -> int:
    """Newline-terminated lines (plus a last unterminated one), scanning bytes without decoding."""
    count = 0
    last = b"\n"
    with open_binary(path) as handle:
        try:
            while chunk := handle.read(SCAN_CHUNK_BYTES):
                count += chunk.count(b"\n")
                last = chunk[-1:]
        except SizeLimitExceeded:
            pass  # the lines up to the cap: reading stops there too
    return count + (0 if last == b"\n" else 1)


def outside_roots(path: Path) -> str | None:
    """Why a file a folder walk found may not be read (a link leading out of the data roots), or None."""
    try:
        path_check_allowed(path=path)
    except PathNotAllowed:
        return "a link to a file outside the allowed data roots: not read"
    return None


def is_ignored_file(name: str) -> bool:
    """Files that sit beside data without being data: hidden files, READMEs, licences."""
    upper = name.upper()
    return name.startswith(".") or upper.startswith(("README", "LICENSE", "LICENCE")) or upper.endswith(".MD")


def location_in(path: Path, *, multi_file: bool, where: str) -> str:
    """'line 4' for a single-file source, 'shard-1.jsonl line 4' when a folder holds several files."""
    return f"{path.name} {where}" if multi_file else where


def records_guarded(records: Iterator[Record], *, path: Path, base_dir: Path) -> Iterator[Record]:
    """The records, and if the file breaks part-way one last error record saying where, instead of an exception."""
    last: int | None = None
    try:
        for record in records:
            if record.row_number is not None:
                last = record.row_number
            yield record
    except SourceUnreadable:
        raise
    except READ_ERRORS as exc:
        if last is None:
            raise SourceUnreadable(f"{path.name} cannot be read: {exc}") from exc
        where = f"{path.name} after row {last}"
        message = f"the rest of the file could not be read: {type(exc).__name__}: {exc}"
        yield Record(row_number=None, location=where, base_dir=base_dir, error=message)
