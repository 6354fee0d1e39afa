"""CSV and TSV with a header row, read line by line; a bad line is rejected with its number."""
import csv
import sys
from collections.abc import Iterator
from pathlib import Path

from curation.ingest.readers.base import (
    Record,
    SourceUnreadable,
    count_lines,
    line_too_long,
    lines_bounded,
    location_in,
    open_binary,
)

# Captions and serialised conversations can be long; csv's default limit (128 KiB) is not.
FIELD_SIZE_LIMIT = min(sys.maxsize, 64 * 1024 * 1024)


def header_names(raw: list[str]) -> list[str]:
    """Header cells as unique, non-empty column names."""
    names: list[str] = []
    for index, cell in enumerate(raw):
        name = cell.strip() or f"column_{index + 1}"
        candidate, n = name, 2
        while candidate in names:
            candidate, n = f"{name}_{n}", n + 1
        names.append(candidate)
    return names


class _DecodedLines:
    """Decodes physical lines one at a time, remembering which were not UTF-8 (so their record is rejected)."""

    def __init__(self, handle) -> None:
        self.handle = handle
        self.bad_lines: set[int] = set()
        self.long_lines: set[int] = set()
        self.number = 0

    def __iter__(self) -> Iterator[str]:
        for raw in lines_bounded(self.handle):
            self.number += 1
            if raw is None:
                self.long_lines.add(self.number)
                yield "\n"  # its record is rejected for its length, never read
                continue
            if self.number == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            try:
                yield raw.decode("utf-8")
            except UnicodeDecodeError:
                self.bad_lines.add(self.number)
                yield raw.decode("utf-8", errors="replace")


class DelimitedReader:
    def __init__(self, path: Path, *, format: str = "csv", multi_file: bool = False) -> None:
        self.path = path
        self.format = format
        self.delimiter = "\t" if format == "tsv" else ","
        self.multi_file = multi_file
        csv.field_size_limit(max(csv.field_size_limit(), FIELD_SIZE_LIMIT))
        try:
            with open_binary(path) as handle:
                lines = _DecodedLines(handle)
                first = next(csv.reader(lines, delimiter=self.delimiter), None)
        except (OSError, csv.Error) as exc:
            raise SourceUnreadable(f"{path.name} cannot be read as {format.upper()}: {exc}") from exc
        if not first or not any(cell.strip() for cell in first):
            raise SourceUnreadable(f"{path.name} has no header row")
        self.columns = header_names(first)

    def count(self) -> int | None:
        return max(0, count_lines(self.path) - 1)

    def records(self, *, start_row: int = 0) -> Iterator[Record]:
        row_number = start_row
        base_dir = self.path.parent
        width = len(self.columns)
        with open_binary(self.path) as handle:
            lines = _DecodedLines(handle)
            reader = csv.reader(lines, delimiter=self.delimiter)
            next(reader, None)  # the header
            previous_end = reader.line_num
            while True:
                try:
                    row = next(reader)
                except StopIteration:
                    return
                except csv.Error as exc:
                    location = location_in(self.path, multi_file=self.multi_file, where=f"line {reader.line_num}")
                    yield Record(row_number=row_number, location=location, base_dir=base_dir, error=f"not valid CSV: {exc}")
                    row_number += 1
                    previous_end = reader.line_num
                    continue
                first_line, previous_end = previous_end + 1, reader.line_num
                lines_of_row = range(first_line, reader.line_num + 1)
                too_long = any(n in lines.long_lines for n in lines_of_row)
                if not too_long and (not row or (len(row) == 1 and not row[0].strip())):
                    continue
                location = location_in(self.path, multi_file=self.multi_file, where=f"line {first_line}")
                error = None
                if too_long:
                    error = line_too_long()
                elif any(n in lines.bad_lines for n in range(first_line, reader.line_num + 1)):
                    error = "not valid UTF-8"
                elif len(row) != width:
                    error = f"{len(row)} fields where the header has {width}"
                if error:
                    yield Record(row_number=row_number, location=location, base_dir=base_dir, error=error)
                else:
                    data = dict(zip(self.columns, row, strict=True))
                    yield Record(row_number=row_number, location=location, base_dir=base_dir, data=data)
                row_number += 1
