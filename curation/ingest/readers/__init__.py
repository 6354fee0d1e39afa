"""Readers: pick the format of a file or folder and open it as a stream of records."""
import codecs
from collections.abc import Iterator
from pathlib import Path

from curation.ingest.readers.base import (
    IMAGE_EXTENSIONS,
    Reader,
    Record,
    SourceUnreadable,
    file_is_empty,
    is_ignored_file,
    open_binary,
    outside_roots,
    records_guarded,
)
from curation.ingest.readers.delimited import DelimitedReader
from curation.ingest.readers.imagefolder import METADATA_FILES, ImageFolderReader, image_files
from curation.ingest.readers.join import Declaration, ImagePattern, Join, JoinedReader, PatternReader
from curation.ingest.readers.json_array import JsonArrayReader
from curation.ingest.readers.jsonl import JsonlReader
from curation.ingest.readers.parquet import ParquetReader

__all__ = ["Declaration", "Reader", "Record", "SourceUnreadable", "file_format_by_name", "format_detect", "reader_open"]

FORMATS = ("jsonl", "json", "parquet", "csv", "tsv", "imagefolder")
EXTENSION_FORMATS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".parquet": "parquet",
    ".csv": "csv",
    ".tsv": "tsv",
    ".tab": "tsv",
}
# A first line longer than this is not looked at as a JSON Lines record when sniffing.
SNIFF_LINE_BYTES = 1 << 20


def _extension(path: Path) -> str:
    suffixes = path.suffixes
    if suffixes and suffixes[-1] == ".gz":
        suffixes = suffixes[:-1]
    return suffixes[-1].lower() if suffixes else ""


def _sniff(path: Path) -> str | None:
    """The format from the first bytes: Parquet's magic, or the first character of JSON."""
    with open_binary(path) as handle:
        head = handle.read(4)
        if head == b"PAR1":
            return "parquet"
        handle.seek(0)
        first_line = handle.readline(SNIFF_LINE_BYTES).removeprefix(codecs.BOM_UTF8)
        second_line = handle.readline(SNIFF_LINE_BYTES).strip()
    start = first_line.lstrip()[:1]
    if start == b"[":
        return "json"
    if start == b"{":
        # Several lines each opening an object: JSON Lines; one object spread over lines: a JSON document.
        stripped = first_line.strip()
        return "jsonl" if stripped.endswith(b"}") and (not second_line or second_line.startswith(b"{")) else "json"
    return None


def file_format_by_name(path: Path) -> str | None:
    """A file's format told from its name alone (no read): a data format, "image", or None."""
    if path.suffix.lower() in IMAGE_EXTENSIONS:
        return "image"
    return EXTENSION_FORMATS.get(_extension(path))


def file_format(path: Path) -> str | None:
    """A data file's format from its extension (checked against its content for .json), or None."""
    by_extension = EXTENSION_FORMATS.get(_extension(path))
    if by_extension in ("json", None):
        try:
            sniffed = _sniff(path)
        except OSError:
            return by_extension
        return sniffed or by_extension
    return by_extension


def _data_files(root: Path) -> list[Path]:
    return [
        f
        for f in image_files(root)
        if _extension(f) in EXTENSION_FORMATS
        and not (f.parent == root and f.name in METADATA_FILES)
        and not outside_roots(f)
    ]


def format_detect(path: Path) -> str:
    """The format of a file or folder, or SourceUnreadable saying it cannot be told."""
    if path.is_dir():
        files = _data_files(path)
        return (file_format(files[0]) or "jsonl") if files else "imagefolder"
    if not path.is_file():
        raise SourceUnreadable(f"{path} does not exist")
    if file_is_empty(path):
        raise SourceUnreadable(f"{path.name} is empty")
    detected = file_format(path)
    if detected is None:
        raise SourceUnreadable(f"cannot tell the format of {path.name}; choose one of {', '.join(FORMATS)}")
    return detected


def _file_reader(path: Path, format: str, *, multi_file: bool = False, records_key: str = "",
                 id_column: str = "id") -> Reader:
    if file_is_empty(path):  # said the same way for every format, before any parser has its own words for it
        raise SourceUnreadable(f"{path.name} is empty")
    if format == "jsonl":
        return JsonlReader(path, multi_file=multi_file)
    if format == "json":
        return JsonArrayReader(path, multi_file=multi_file, records_key=records_key, id_column=id_column)
    if format == "parquet":
        return ParquetReader(path, multi_file=multi_file)
    if format in ("csv", "tsv"):
        return DelimitedReader(path, format=format, multi_file=multi_file)
    raise SourceUnreadable(f"{path.name}: unknown format {format!r}")


class FolderReader:
    """A folder of data files (shards such as data/train-00000-of-00004.parquet) read as one source."""

    def __init__(self, path: Path, format: str) -> None:
        self.path = path
        self.format = format
        self.shards: list[tuple[Path, str]] = []
        self.skipped: list[tuple[Path, str]] = []
        for file in image_files(path):
            if is_ignored_file(file.name) or file.suffix.lower() in IMAGE_EXTENSIONS:
                continue  # images are read when a record names them
            if file.parent == path and file.name in METADATA_FILES:
                continue
            if reason := outside_roots(file):
                self.skipped.append((file, reason))
                continue
            shard_format = file_format(file)
            if shard_format is None:
                self.skipped.append((file, "unknown format: not a data file"))
            elif format not in ("auto", shard_format):
                self.skipped.append((file, f"a {shard_format} file in a {format} source"))
            else:
                self.shards.append((file, shard_format))
        if not self.shards:
            raise SourceUnreadable(f"{path} holds no {'' if format == 'auto' else format + ' '}data files")
        if format == "auto":
            self.format = self.shards[0][1]

    def count(self) -> int | None:
        total = 0
        for file, shard_format in self.shards:
            try:
                count = _file_reader(file, shard_format, multi_file=True).count()
            except SourceUnreadable:
                continue
            if count is None:
                return None
            total += count
        return total

    def records(self, *, start_row: int = 0) -> Iterator[Record]:
        for file, reason in self.skipped:
            yield Record(row_number=None, location=file.relative_to(self.path).as_posix(), base_dir=self.path, error=reason)
        next_row = start_row
        for file, shard_format in self.shards:
            try:
                reader = _file_reader(file, shard_format, multi_file=True)
                for record in records_guarded(reader.records(start_row=next_row), path=file, base_dir=file.parent):
                    if record.row_number is not None:
                        next_row = record.row_number + 1
                    yield record
            except SourceUnreadable as exc:
                location = file.relative_to(self.path).as_posix()
                yield Record(row_number=None, location=location, base_dir=self.path, error=str(exc))


def _declared_format(path: Path, format: str, records_key: str) -> str:
    """The format to read a file as: records under a key are in one JSON document, even one written on one line."""
    detected = format_detect(path) if format == "auto" else format
    return "json" if records_key and detected == "jsonl" else detected


def reader_open(path: Path, format: str = "auto", declaration: Declaration | None = None) -> Reader:
    """A reader for a file or folder; format 'auto' detects it. SourceUnreadable if it cannot be opened.

    A declaration (where the records sit in a JSON file, a join to another file, an image name pattern)
    applies to a source that is one data file.
    """
    if format not in ("auto", *FORMATS):
        raise SourceUnreadable(f"unknown format {format!r}; choose one of auto, {', '.join(FORMATS)}")
    declared = declaration or Declaration()
    if path.is_dir():
        if declared.join is not None or declared.records_key:
            raise SourceUnreadable(f"{path.name} is a folder; records keys and joins are declared for one data file")
        if format == "imagefolder" or (format == "auto" and format_detect(path) == "imagefolder"):
            reader: Reader = ImageFolderReader(path)
        else:
            reader = FolderReader(path, format)
    elif not path.is_file():
        raise SourceUnreadable(f"{path} does not exist")
    elif format == "imagefolder":
        raise SourceUnreadable(f"{path.name} is a file, not an image folder")
    else:
        reader = _file_reader(path, _declared_format(path, format, declared.records_key),
                              records_key=declared.records_key, id_column=declared.id_column)
    if declared.join is not None:
        other = declared.join.location or path
        if not other.is_file():
            raise SourceUnreadable(f"the joined file {other} does not exist")
        right = _file_reader(other, _declared_format(other, "auto", declared.join.records_key),
                             records_key=declared.join.records_key)
        name = other.name if declared.join.location else f"{other.name} {declared.join.records_key}".strip()
        reader = JoinedReader(reader, Join(reader=right, name=name, left_key=declared.join.left_key,
                                           right_key=declared.join.right_key, many=declared.join.many,
                                           column=declared.join.column))
    if declared.image_pattern:
        reader = PatternReader(reader, ImagePattern(declared.image_pattern, declared.image_column))
    return reader
