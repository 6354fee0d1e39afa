"""Bulk writes of prepared rows: COPY on PostgreSQL, batched upserts on SQLite, keyed on (source, row_number).

A first ingest streams rows into an open COPY as they are prepared, so PostgreSQL parses and indexes
one part while Python reads the next. When rows of an earlier ingest (or of an interrupted attempt) may
exist, rows go through a staging table and INSERT ... ON CONFLICT DO UPDATE, and rows rejected this time
are deleted, so running an ingest twice leaves the same rows.

While a COPY is open the connection can run nothing else: hold() ends it before a row with images (saved with
its images in flush's transaction, so no row names an image that has no row yet), flush() before the caller
records progress.
"""
import json
from typing import Any

import orjson
from django.db import connection, transaction

from curation.bulk_copy import rows_upsert_by_copy
from curation.ingest.records import PreparedRow, RowRejected
from curation.models import Image, Source, SourceRow
from curation.services.images import image_rows_insert

COLUMNS = "source_id, row_number, data, image_shas"
# Rows sent to an open COPY at a time.
STREAM_CHUNK_ROWS = 256
# SQLite accepts a limited number of variables per statement; Django splits bulk_create into batches of this.
SQLITE_BATCH_ROWS = 500


def _copy_text(value: str) -> str:
    # JSON escapes control characters inside strings, so only backslashes and whitespace between tokens remain.
    if "\\" in value:
        value = value.replace("\\", "\\\\")
    if "\t" in value or "\r" in value or "\n" in value:
        value = value.replace("\t", "\\t").replace("\r", "\\r").replace("\n", "\\n")
    return value


def row_json(data: dict | list) -> str:
    """Compact JSON; RowRejected for text JSON cannot hold (a lone surrogate)."""
    try:
        return orjson.dumps(data).decode("utf-8")
    except orjson.JSONEncodeError:
        pass
    # orjson stops at 64-bit integers; the standard library writes any integer.
    text = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise RowRejected("contains text that is not valid Unicode (a lone surrogate)") from exc
    return text


class RowWriter:
    def __init__(self, *, source: Source, replace: bool) -> None:
        self.source_id = source.pk
        self.replace = replace
        self.postgres = connection.vendor == "postgresql"
        self.table = SourceRow._meta.db_table
        self._held = False
        self._copy_lines: list[str] = []  # buffered, written at flush
        self._chunk: list[str] = []  # on their way into the open COPY
        self._streamed = 0
        self.pending = 0  # rows queued since the last flush
        self._objects: list[SourceRow] = []
        self._dropped: list[int] = []
        self._images: list[Image] = []  # checked images of the rows queued, saved in the same transaction
        self.buffered_bytes = 0  # of the rows held in memory until flush
        # The open COPY: Django's cursor, psycopg's copy context manager, and the Copy object it yields.
        self._cursor: Any = None
        self._copy_context: Any = None
        self._copy: Any = None
        self._savepoint: str | None = None


    def add(self, row_number: int, row: PreparedRow) -> None:
        """Queue a row; RowRejected if it cannot be encoded as JSON."""
        data = row.json_text if row.json_text is not None else row_json(row.data)
        self.pending += 1
        if not self.postgres:
            self._objects.append(
                SourceRow(source_id=self.source_id, row_number=row_number, data=row.data, image_shas=row.image_shas)
            )
            return
        shas = row_json(row.image_shas) if row.image_shas else "[]"
        line = f"{self.source_id}\t{row_number}\t{_copy_text(data)}\t{shas}\n"
        if self.replace or self._held:
            self._copy_lines.append(line)
            self.buffered_bytes += len(line)
            return
        self._chunk.append(line)
        if len(self._chunk) >= STREAM_CHUNK_ROWS:
            self._send()

    def add_images(self, images: list[Image]) -> None:
        """Images checked and written to files, whose rows are saved at the next flush (before the rows)."""
        self._images.extend(images)

    def hold(self) -> None:
        """The connection is needed for something else: end the COPY under way and buffer until flush."""
        self._end_copy()
        self._held = True

    def drop(self, row_number: int) -> None:
        """A row rejected this time: an earlier ingest's version of it must go."""
        if self.replace:
            self._dropped.append(row_number)

    def flush(self) -> int:
        """Write what is queued; returns how many rows were written since the last flush."""
        written = self.pending
        self._end_copy()
        with transaction.atomic():
            if self._images:
                image_rows_insert(images=self._images)
            if self._dropped:
                SourceRow.objects.filter(source_id=self.source_id, row_number__in=self._dropped).delete()
            if self._copy_lines:
                self._write_buffered()
            if self._objects:
                SourceRow.objects.bulk_create(
                    self._objects,
                    batch_size=SQLITE_BATCH_ROWS,
                    update_conflicts=True,
                    unique_fields=["source", "row_number"],
                    update_fields=["data", "image_shas"],
                )
        self._copy_lines, self._objects, self._dropped, self._images = [], [], [], []
        self._streamed, self._held, self.buffered_bytes, self.pending = 0, False, 0, 0
        return written

    def abort(self, error: BaseException) -> None:
        """Abandon an open COPY (its rows are not kept), leaving the connection usable."""
        if self._copy_context is None:
            return
        try:
            self._copy_context.__exit__(type(error), error, error.__traceback__)
        finally:
            self._close_cursor()
            if self._savepoint is not None:
                transaction.savepoint_rollback(self._savepoint)
                self._savepoint = None

    def delete_from(self, row_number: int) -> int:
        """Delete rows numbered row_number and above: what an earlier, longer version of the file left."""
        deleted, _ = SourceRow.objects.filter(source_id=self.source_id, row_number__gte=row_number).delete()
        return deleted

    def _send(self) -> None:
        if self._copy is None:
            # Inside a caller's transaction a failed COPY must not spoil it: a savepoint makes it undoable.
            self._savepoint = transaction.savepoint() if connection.in_atomic_block else None
            self._cursor = connection.cursor()
            self._copy_context = self._cursor.cursor.copy(f"COPY {self.table} ({COLUMNS}) FROM STDIN")
            self._copy = self._copy_context.__enter__()
        self._copy.write("".join(self._chunk))
        self._streamed += len(self._chunk)
        self._chunk = []

    def _end_copy(self) -> None:
        if self._chunk:
            self._send()
        if self._copy_context is None:
            return
        try:
            self._copy_context.__exit__(None, None, None)
        finally:
            self._close_cursor()
        if self._savepoint is not None:
            transaction.savepoint_commit(self._savepoint)
            self._savepoint = None

    def _close_cursor(self) -> None:
        if self._cursor is not None:
            self._cursor.close()
        self._cursor = self._copy_context = self._copy = None

    def _write_buffered(self) -> None:
        block = "".join(self._copy_lines)
        if not self.replace:
            with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {self.table} ({COLUMNS}) FROM STDIN") as copy:
                copy.write(block)
            return
        rows_upsert_by_copy(
            table=self.table,
            columns=(("source_id", "bigint"), ("row_number", "bigint"), ("data", "jsonb"), ("image_shas", "jsonb")),
            rows=block,
            on_conflict="ON CONFLICT (source_id, row_number) DO UPDATE SET data = EXCLUDED.data, "
            "image_shas = EXCLUDED.image_shas",
        )
