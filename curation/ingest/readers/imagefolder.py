"""Image folders: one row per image, or one row per line of a captions/labels/metadata file beside them.

Follows Hugging Face's imagefolder: with metadata.jsonl or metadata.csv (a file_name column) each metadata
row is a record and names its image; without one, every image is a record, labelled by its subfolder.
captions.txt ("name<TAB>caption" or "name,caption" lines), captions.csv and labels.csv work the same way.
"""
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from curation.ingest.readers.base import (
    IMAGE_EXTENSIONS,
    Record,
    SourceUnreadable,
    count_lines,
    is_ignored_file,
    line_too_long,
    lines_bounded,
    open_binary,
    outside_roots,
)
from curation.ingest.readers.delimited import DelimitedReader
from curation.ingest.readers.jsonl import JsonlReader

METADATA_FILES = ("metadata.jsonl", "metadata.csv", "captions.txt", "captions.csv", "labels.csv")
FILE_NAME_COLUMNS = ("file_name", "filename", "image", "file", "path", "image_path", "img", "name")
TEXT_KEYS = frozenset({"file_name"})
# Flickr-style captions name the image with a caption index: "1000268201.jpg#0".
CAPTION_INDEX = re.compile(r"#\d+$")


def _is_image_name(name: str) -> bool:
    return Path(name).suffix.lower() in IMAGE_EXTENSIONS


def image_files(root: Path) -> Iterator[Path]:
    """Every file under root in a stable order (sorted, depth first), skipping hidden folders."""
    for folder, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            yield Path(folder) / name


def metadata_file(root: Path) -> Path | None:
    found = next((root / name for name in METADATA_FILES if (root / name).is_file()), None)
    if found is not None and (reason := outside_roots(found)):
        raise SourceUnreadable(f"{found.name}: {reason}")
    return found


class ImageFolderReader:
    format = "imagefolder"

    def __init__(self, path: Path) -> None:
        if not path.is_dir():
            raise SourceUnreadable(f"{path} is not a folder")
        self.path = path
        self.metadata = metadata_file(path)
        self.table: JsonlReader | DelimitedReader | None = None
        if self.metadata is not None and self.metadata.name.endswith(".jsonl"):
            self.table = JsonlReader(self.metadata)
        elif self.metadata is not None and self.metadata.name.endswith(".csv"):
            self.table = DelimitedReader(self.metadata, format="csv")

    def count(self) -> int | None:
        if self.table is not None:
            return self.table.count()
        if self.metadata is not None:
            return count_lines(self.metadata)
        return sum(1 for f in image_files(self.path) if _is_image_name(f.name) and not outside_roots(f))

    def records(self, *, start_row: int = 0) -> Iterator[Record]:
        if self.table is not None:
            yield from self._table_records(start_row)
        elif self.metadata is not None:
            yield from self._caption_lines(start_row)
        else:
            yield from self._walk(start_row)

    def _row(self, name: str, extra: dict[str, Any]) -> dict[str, Any]:
        return {"image": {"bytes": None, "path": name}, "file_name": name, **extra}

    def _table_records(self, start_row: int) -> Iterator[Record]:
        assert self.table is not None and self.metadata is not None
        for record in self.table.records(start_row=start_row):
            record.location = f"{self.metadata.name} {record.location}"
            record.text_keys = TEXT_KEYS
            if record.data is None:
                yield record
                continue
            column = next((c for c in FILE_NAME_COLUMNS if isinstance(record.data.get(c), str)), None)
            if column is None:
                record.error = f"no image file name (a column named one of: {', '.join(FILE_NAME_COLUMNS)})"
                record.data = None
            else:
                extra = {k: v for k, v in record.data.items() if k != column}
                record.data = self._row(record.data[column].strip(), extra)
            yield record

    def _caption_lines(self, start_row: int) -> Iterator[Record]:
        assert self.metadata is not None
        row_number = start_row
        with open_binary(self.metadata) as handle:
            for line_number, raw in enumerate(lines_bounded(handle), start=1):
                location = f"{self.metadata.name} line {line_number}"
                if raw is None:
                    yield Record(row_number=row_number, location=location, base_dir=self.path, error=line_too_long())
                    row_number += 1
                    continue
                try:
                    line = raw.decode("utf-8-sig").strip()
                except UnicodeDecodeError:
                    yield Record(row_number=row_number, location=location, base_dir=self.path, error="not valid UTF-8")
                    row_number += 1
                    continue
                if not line:
                    continue
                name, sep, caption = line.partition("\t") if "\t" in line else line.partition(",")
                name = CAPTION_INDEX.sub("", name.strip())
                if line_number == 1 and not _is_image_name(name):
                    continue  # a header such as "image,caption"
                if not sep:
                    error = "expected 'image name<TAB>caption' or 'image name,caption'"
                    yield Record(row_number=row_number, location=location, base_dir=self.path, error=error)
                else:
                    data = self._row(name, {"caption": caption.strip()})
                    yield Record(
                        row_number=row_number, location=location, base_dir=self.path, data=data, text_keys=TEXT_KEYS
                    )
                row_number += 1

    def _walk(self, start_row: int) -> Iterator[Record]:
        row_number = start_row
        for file in image_files(self.path):
            relative = file.relative_to(self.path).as_posix()
            if is_ignored_file(file.name):
                continue
            if reason := outside_roots(file):
                yield Record(row_number=None, location=relative, base_dir=self.path, error=reason)
                continue
            if not _is_image_name(file.name):
                yield Record(row_number=None, location=relative, base_dir=self.path, error="unknown format: not an image")
                continue
            extra = {"label": file.parent.relative_to(self.path).as_posix()} if file.parent != self.path else {}
            data = self._row(relative, extra)
            yield Record(row_number=row_number, location=relative, base_dir=self.path, data=data, text_keys=TEXT_KEYS)
            row_number += 1
