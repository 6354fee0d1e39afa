"""What every reader yields, and how a reader says that a file cannot be read at all."""
import gzip
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, Protocol

import pyarrow as pa

from curation.services.paths import PathNotAllowed, path_check_allowed

# File endings of images a record may name, and that an image folder is made of.
IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".gif", ".bmp", ".tif", ".tiff"})

# What reading a damaged file can raise part-way; the records read before it are kept.
READ_ERRORS = (OSError, EOFError, ValueError, zlib.error, pa.ArrowException)

# Bytes read at a time when a reader scans a file without parsing it (counting lines, sniffing).
SCAN_CHUNK_BYTES = 1 << 20


class SourceUnreadable(Exception):
    """The file or folder cannot be read at all (not the format it claims, unreadable, empty of records)."""


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


def open_binary(path: Path) -> IO[bytes]:
    """Open a file for reading, decompressing .gz transparently."""
    if path.suffix == ".gz":
        return gzip.open(path, "rb")  # type: ignore[return-value]  # a GzipFile reads bytes like any IO[bytes]
    return path.open("rb")


def count_lines(path: Path) -> int:
    """Newline-terminated lines (plus a last unterminated one), scanning bytes without decoding."""
    count = 0
    last = b"\n"
    with open_binary(path) as handle:
        while chunk := handle.read(SCAN_CHUNK_BYTES):
            count += chunk.count(b"\n")
            last = chunk[-1:]
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
