"""A source's declaration beyond its file: where a JSON file's records are, a join to another file, an image
name pattern, and who wrote its labels. Checked at registration, previewed before ingest, read by ingest."""
import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.core.exceptions import ValidationError

from curation.ingest.readers import Declaration, SourceUnreadable, format_detect, reader_open
from curation.ingest.readers.base import file_is_empty
from curation.ingest.readers.join import ImagePattern, JoinDeclaration, JoinReport
from curation.ingest.readers.json_array import KEYED_BY_ID, JsonShape, json_records_under, json_shape
from curation.models import Source
from curation.services.paths import PathNotAllowed, allowed_roots, path_check_allowed

# Rows a preview shows, and records of this side it joins to count matches before ingest.
PREVIEW_ROWS = 5
PREVIEW_SCAN_ROWS = 200

DECLARATION_FIELDS = (
    "records_key", "id_column", "join_location", "join_records_key", "join_left_key", "join_right_key", "join_many",
    "join_column", "image_pattern", "image_pattern_column", "label_origin", "task_name",
)


def _file_resolve(value: str, *, field_name: str) -> Path:
    candidates = [Path(value)] if Path(value).is_absolute() else [root / value for root in allowed_roots()]
    try:
        resolved = [path_check_allowed(path=c) for c in candidates]
    except PathNotAllowed as exc:
        raise ValidationError({field_name: str(exc)}) from exc
    existing = next((p for p in resolved if p.is_file()), None)
    if existing is None:
        raise ValidationError({field_name: f"{value} is not a file"})
    return existing


def _is_json(path: Path, format: str) -> bool:
    if not path.is_file():
        return False
    return format == Source.Format.JSON or (format == Source.Format.AUTO and (
        path.name.lower().endswith((".json", ".json.gz")) or format_detect(path) == Source.Format.JSON))


def _shape_or_none(path: Path, format: str = Source.Format.AUTO) -> JsonShape | None:
    """The top level of a JSON document: a .json file (even one written on one line, which sniffs as JSON Lines)."""
    if not _is_json(path, format):
        return None
    try:
        return json_shape(path)
    except SourceUnreadable:
        if format == Source.Format.JSON:
            raise
        return None  # e.g. JSON Lines in a file named .json: read as what it is


def _records_key_clean(path: Path, records_key: str, *, field_name: str, format: str = Source.Format.AUTO) -> str:
    """The records key to store: the one given (checked), else the obvious one, else a ValidationError naming the lists."""
    if path.is_file() and file_is_empty(path):
        # No list to find in it; the ingest then says plainly that the file is empty, as for every format.
        return records_key
    if records_key and _is_json(path, format):
        # A key given is checked by reading up to its first record, not by scanning the file's whole top level.
        try:
            if json_records_under(path, records_key):
                return records_key
        except SourceUnreadable as exc:
            raise ValidationError({field_name: str(exc)}) from exc
    try:
        shape = _shape_or_none(path, format)
    except SourceUnreadable as exc:
        raise ValidationError({field_name: str(exc)}) from exc
    if shape is None:
        if records_key:
            raise ValidationError({field_name: f"{path.name} is not a JSON file; a records key applies to JSON"})
        return ""
    if records_key == KEYED_BY_ID:
        if shape.kind != "object":
            raise ValidationError({field_name: f"{path.name} is an array, not an object keyed by id"})
        return records_key
    if records_key:
        if records_key not in shape.lists:
            lists = ", ".join(f"{k} ({n:,})" for k, n in shape.lists.items()) or "none"
            raise ValidationError({field_name: f"{path.name} has no list of records under {records_key!r} (lists: {lists})"})
        return records_key
    suggested = shape.suggested_key
    if suggested is None:
        lists = ", ".join(f"{k} ({n:,})" for k, n in shape.lists.items())
        raise ValidationError({field_name: f"{path.name} holds several lists of records (with their lengths): {lists}; choose the key of one"})
    return suggested


def declaration_clean(*, path: Path, data: dict[str, Any], format: str = Source.Format.AUTO) -> dict[str, Any]:
    """The declaration fields to store, checked against the files (ValidationError by field)."""
    clean: dict[str, Any] = {name: data.get(name, "") for name in DECLARATION_FIELDS}
    for name, value in clean.items():
        if isinstance(value, str):
            clean[name] = value.strip()
    clean["join_many"] = bool(data.get("join_many"))
    clean["id_column"] = clean["id_column"] or "id"
    clean["image_pattern_column"] = clean["image_pattern_column"] or "image"
    clean["label_origin"] = clean["label_origin"] or Source.LabelOrigin.UNKNOWN
    if clean["label_origin"] not in Source.LabelOrigin.values:
        raise ValidationError({"label_origin": f"choose one of {', '.join(Source.LabelOrigin.values)}"})
    if path.is_file():
        clean["records_key"] = _records_key_clean(path, clean["records_key"], field_name="records_key", format=format)
    elif clean["records_key"]:
        raise ValidationError({"records_key": "a records key applies to one JSON file, not a folder"})
    if clean["join_left_key"] or clean["join_right_key"] or clean["join_location"]:
        if not path.is_file():
            raise ValidationError({"join_left_key": "a join is declared for one data file, not a folder"})
        if not clean["join_left_key"] or not clean["join_right_key"]:
            raise ValidationError({"join_left_key": "a join needs this source's key and the joined file's key"})
        other = _file_resolve(clean["join_location"], field_name="join_location") if clean["join_location"] else path
        clean["join_location"] = str(other) if clean["join_location"] else ""
        clean["join_records_key"] = _records_key_clean(other, clean["join_records_key"], field_name="join_records_key")
        if other == path and clean["join_records_key"] == clean["records_key"]:
            raise ValidationError({"join_records_key": "the joined records must be another list than the source's own"})
        if clean["join_many"] and not clean["join_column"]:
            raise ValidationError({"join_column": "a one-to-many join needs the column its list of matches goes in"})
    if clean["image_pattern"]:
        try:
            ImagePattern(clean["image_pattern"], clean["image_pattern_column"])
        except SourceUnreadable as exc:
            raise ValidationError({"image_pattern": str(exc)}) from exc
    return clean


def source_declaration(source: Source) -> Declaration:
    """What the readers need of a source's declaration."""
    join = None
    if source.has_join:
        join = JoinDeclaration(
            location=Path(source.join_location) if source.join_location else None,
            records_key=source.join_records_key, left_key=source.join_left_key, right_key=source.join_right_key,
            many=source.join_many, column=source.join_column,
        )
    return Declaration(records_key=source.records_key, id_column=source.id_column or "id", join=join,
                       image_pattern=source.image_pattern, image_column=source.image_pattern_column or "image")


@dataclass
class SourcePreview:
    """The first records as ingest will read them, and how the join matched on the records scanned."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # records that will be rejected, and other side's leftovers
    scanned: int = 0
    shape: JsonShape | None = None
    join: JoinReport | None = None
    declared: dict[str, Any] = field(default_factory=dict)


def source_preview(*, path: Path, format: str, data: dict[str, Any]) -> SourcePreview:
    """Read the first records with the declaration applied, without storing anything (ValidationError by field)."""
    declared = declaration_clean(path=path, data=data, format=format)
    preview = SourcePreview(declared=declared)
    try:  # the file's lists are shown when the curator has to pick one (the scan reads the whole top level)
        preview.shape = _shape_or_none(path, format) if not data.get("records_key") else None
    except SourceUnreadable:
        preview.shape = None
    probe = Source(**{**declared, "location": str(path), "format": format})
    try:
        reader = reader_open(path, format, source_declaration(probe))
        records = reader.records()
        for record in itertools.islice(records, PREVIEW_SCAN_ROWS):
            if record.row_number is not None:
                preview.scanned += 1
            if record.data is not None and len(preview.rows) < PREVIEW_ROWS:
                preview.rows.append(record.data)
            elif record.error is not None and len(preview.problems) < PREVIEW_ROWS:
                preview.problems.append(f"{record.location}: {record.error}")
        records.close()  # type: ignore[attr-defined]  # a generator: ends the join and removes its index
    except SourceUnreadable as exc:
        raise ValidationError({"format": str(exc)}) from exc
    preview.join = getattr(reader, "report", None)
    return preview
