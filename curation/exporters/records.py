"""Stream the samples of an export in keyset batches of ids, with their images and provider columns.

Memory stays flat whatever the subset size: one batch of rows is held at a time and image bytes
are read only when a writer asks for them.
"""
import json
import os
import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

import orjson
from django.db import connection
from django.db.models import QuerySet, TextField
from django.db.models.expressions import RawSQL
from django.db.models.functions import Cast

from curation.errors import ApplicationError
from curation.exporters.registry import ColumnProvider, SubsetPart
from curation.models import Image, Sample, SampleImage

# Samples fetched per query; also how often job progress is written.
SAMPLE_BATCH_SIZE = 2000
READ_CHUNK = 1024 * 1024

# File extensions the training libraries recognise (webdataset decodes .jpg, not .jpeg).
IMAGE_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp", "GIF": "gif", "BMP": "bmp", "TIFF": "tiff"}


class ExportDataError(ApplicationError, RuntimeError):
    """The stored data cannot be exported as it is (e.g. an image file is missing); the message says which."""

    code = "export_data"
    status = 422


def image_storage_name(sha256: str, fmt: str) -> str:
    """Image.storage_name without building a model instance (this runs once per exported image)."""
    return f"images/{sha256[:2]}/{sha256[2:4]}/{sha256}.{fmt.lower()}"


class ImageRef(NamedTuple):
    """A stored image as an export names it. (Named tuples: built once per exported image and sample, and a
    frozen dataclass costs several times more to build.)"""

    sha256: str
    format: str
    size: int
    path: str | Path

    @property
    def extension(self) -> str:
        return IMAGE_EXTENSIONS.get(self.format.upper(), self.format.lower())

    @property
    def filename(self) -> str:
        return f"{self.sha256}.{self.extension}"

    def read(self) -> bytes:
        # One unbuffered read of the known size: this runs once per exported image.
        try:
            fd = os.open(self.path, os.O_RDONLY)
        except FileNotFoundError:
            raise self.missing() from None
        try:
            chunks = [os.read(fd, self.size + 1)]
            while chunks[-1]:
                chunks.append(os.read(fd, READ_CHUNK))
        finally:
            os.close(fd)
        return b"".join(chunks)

    def open(self) -> BinaryIO:
        try:
            return open(self.path, "rb")  # noqa: SIM115 (the caller closes it)
        except FileNotFoundError:
            raise self.missing() from None

    def missing(self) -> "ExportDataError":
        return ExportDataError(f"image {self.sha256} is missing from storage ({self.path})")


class ExportRecord(NamedTuple):
    """One sample ready to write: its turns, its images in order, its source and the providers' columns."""

    sample_id: int
    subset: SubsetPart
    source: str
    turns: list[dict[str, str]]
    images: list[ImageRef]
    columns: dict[str, Any]


def sample_batches(samples: QuerySet[Sample], *, fields: tuple[str, ...], batch_size: int = SAMPLE_BATCH_SIZE,
                   images: bool = False) -> Iterator[list[dict[str, Any]]]:
    """Rows of `samples` as dicts, in id order, `batch_size` at a time (keyset paging: WHERE id > last).

    On PostgreSQL "turns" is read as JSON text and parsed by orjson (Django's JSONField decodes each row with the
    standard library), and with `images` each row carries "image_list": its images in position order as
    "sha256/format/bytes" strings, aggregated in the same query (_images_listed reads them)."""
    postgres = connection.vendor == "postgresql"
    wanted = list(fields)
    if postgres:
        extra: dict[str, Any] = {}
        if "turns" in wanted:
            wanted[wanted.index("turns")] = "turns_text"
            extra["turns_text"] = Cast("turns", TextField())
        if images:
            wanted.append("image_list")
            extra["image_list"] = RawSQL(_IMAGES_SQL, ())  # noqa: S611 (model names, no parameters)
        samples = samples.annotate(**extra)
    last_id = 0
    while True:
        rows = list(samples.filter(pk__gt=last_id).order_by("pk").values("pk", *wanted)[:batch_size])
        if not rows:
            return
        if postgres and "turns" in fields:
            for row in rows:
                row["turns"] = _json_loads(row.pop("turns_text"))
        yield rows
        last_id = rows[-1]["pk"]


# A sample's images in position order as "sha256/format/bytes" strings (formats and digests never hold a "/").
_IMAGES_SQL = (
    f"SELECT array_agg(l.image_id || '/' || i.format || '/' || i.bytes ORDER BY l.position) "  # noqa: S608 (model names)
    f"FROM {SampleImage._meta.db_table} l JOIN {Image._meta.db_table} i ON i.sha256 = l.image_id "
    f"WHERE l.sample_id = {Sample._meta.db_table}.id"
)
# orjson reads integers beyond 64 bits as floats; the standard library keeps them exact.
_LONG_NUMBER = re.compile(r"\d{19}")


def _json_loads(text: str | None) -> Any:
    if text is None:
        return None
    if _LONG_NUMBER.search(text):
        return json.loads(text)
    return orjson.loads(text)


def turns_normalise(turns: Any) -> list[dict[str, str]]:
    """[{user, assistant}] with strings only; anything else in the stored turns is an export error."""
    if not isinstance(turns, list):
        raise ExportDataError(f"turns must be a list, not {type(turns).__name__}")
    out = []
    for turn in turns:
        if not isinstance(turn, dict):
            raise ExportDataError(f"a turn must be an object, not {type(turn).__name__}")
        out.append({"user": _text(turn.get("user")), "assistant": _text(turn.get("assistant"))})
    return out


def _text(value: Any) -> str:
    return "" if value is None else str(value)


def record_batches(
    samples: QuerySet[Sample],
    *,
    part: SubsetPart,
    sources: dict[int, str],
    providers: list[ColumnProvider],
    media_root: Path,
    batch_size: int = SAMPLE_BATCH_SIZE,
) -> Iterator[list[ExportRecord]]:
    """ExportRecords of one subset's samples, a batch at a time."""
    fields = ("source_id", "turns", *sorted({f for p in providers for f in p.sample_fields}))
    postgres = connection.vendor == "postgresql"
    for rows in sample_batches(samples, fields=fields, batch_size=batch_size, images=postgres):
        images = _images_listed(rows, media_root) if postgres else _images_of([row["pk"] for row in rows], media_root)
        provided = [provider.batch_values(rows) for provider in providers]
        batch = []
        for row in rows:
            try:
                turns = turns_normalise(row["turns"])
            except ExportDataError as exc:
                raise ExportDataError(f"sample {row['pk']}: {exc}") from None
            columns: dict[str, Any] = {}
            for values in provided:
                columns.update(values[row["pk"]])
            batch.append(
                ExportRecord(
                    sample_id=row["pk"],
                    subset=part,
                    source=sources[row["source_id"]],
                    turns=turns,
                    images=images.get(row["pk"], []),
                    columns=columns,
                )
            )
        yield batch


def _images_listed(rows: list[dict[str, Any]], media_root: Path) -> dict[int, list[ImageRef]]:
    """The images sample_batches aggregated into each row (PostgreSQL)."""
    by_sample: dict[int, list[ImageRef]] = {}
    refs: dict[str, ImageRef] = {}  # an image shared by several samples of the batch is described once
    root = str(media_root).rstrip("/")
    for row in rows:
        listed = row.pop("image_list")
        if not listed:
            continue
        found = by_sample[row["pk"]] = []
        for entry in listed:
            sha256, fmt, size = entry.split("/")
            ref = refs.get(sha256)
            if ref is None:
                ref = refs[sha256] = ImageRef(sha256=sha256, format=fmt, size=int(size),
                                              path=f"{root}/{image_storage_name(sha256, fmt)}")
            found.append(ref)
    return by_sample


def _images_of(sample_ids: list[int], media_root: Path) -> dict[int, list[ImageRef]]:
    by_sample: dict[int, list[ImageRef]] = defaultdict(list)
    refs: dict[str, ImageRef] = {}  # an image shared by several samples of the batch is described once
    root = str(media_root).rstrip("/")
    for sample_id, sha256, fmt, size in _image_rows(sample_ids):
        ref = refs.get(sha256)
        if ref is None:
            ref = refs[sha256] = ImageRef(sha256=sha256, format=fmt, size=size,
                                          path=f"{root}/{image_storage_name(sha256, fmt)}")
        by_sample[sample_id].append(ref)
    return by_sample


def _image_rows(sample_ids: list[int]) -> list[tuple[int, str, str, int]]:
    """(sample id, sha256, format, bytes) of the samples' images in sample and position order."""
    return list(
        SampleImage.objects.filter(sample_id__in=sample_ids)
        .order_by("sample_id", "position")
        .values_list("sample_id", "image_id", "image__format", "image__bytes")
    )
