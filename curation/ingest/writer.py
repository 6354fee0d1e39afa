"""Bulk writes of prepared rows: COPY on PostgreSQL, batched upserts on SQLite, keyed on (source, row_number).

A first ingest COPYs straight into the table. When rows of an earlier ingest (or of an interrupted
attempt) may exist, rows go through a staging table and INSERT ... ON CONFLICT DO UPDATE, and rows
rejected this time are deleted, so running an ingest twice leaves the same rows.
"""
import json

from django.db import IntegrityError, connection, transaction

from curation.ingest.records import PreparedRow, RowRejected
from curation.models import Source, SourceRow

STAGE_TABLE = "finecurate_ingest_stage"
COLUMNS = "source_id, row_number, data, image_shas"
# SQLite accepts a limited number of variables per statement; Django splits bulk_create into batches of this.
SQLITE_BATCH_ROWS = 500


def _copy_text(value: str) -> str:
    # json.dumps escapes control characters, so in COPY's text format only backslashes need doubling.
    return value.replace("\\", "\\\\")


def row_json(data: dict) -> str:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


class RowWriter:
    def __init__(self, *, source: Source, replace: bool) -> None:
        self.source_id = source.pk
        self.replace = replace
        self.postgres = connection.vendor == "postgresql"
        self._copy_lines: list[str] = []
        self._objects: list[SourceRow] = []
        self._dropped: list[int] = []
        self.table = SourceRow._meta.db_table

    @property
    def pending(self) -> int:
        return len(self._copy_lines) + len(self._objects)

    def add(self, row_number: int, row: PreparedRow) -> None:
        """Queue a row; RowRejected if it cannot be encoded (a lone surrogate in a string)."""
        data = row_json(row.data)
        try:
            data.encode("utf-8")
        except UnicodeEncodeError as exc:
            raise RowRejected("contains text that is not valid Unicode (a lone surrogate)") from exc
        if self.postgres:
            self._copy_lines.append(f"{self.source_id}\t{row_number}\t{_copy_text(data)}\t{row_json(row.image_shas)}\n")
        else:
            self._objects.append(
                SourceRow(source_id=self.source_id, row_number=row_number, data=row.data, image_shas=row.image_shas)
            )

    def drop(self, row_number: int) -> None:
        """A row rejected this time: an earlier ingest's version of it must go."""
        if self.replace:
            self._dropped.append(row_number)

    def flush(self) -> int:
        """Write what is queued, in one transaction; returns how many rows were written."""
        written = self.pending
        with transaction.atomic():
            if self._dropped:
                SourceRow.objects.filter(source_id=self.source_id, row_number__in=self._dropped).delete()
            if self.postgres and self._copy_lines:
                self._flush_postgres()
            elif self._objects:
                SourceRow.objects.bulk_create(
                    self._objects,
                    batch_size=SQLITE_BATCH_ROWS,
                    update_conflicts=True,
                    unique_fields=["source", "row_number"],
                    update_fields=["data", "image_shas"],
                )
        self._copy_lines, self._objects, self._dropped = [], [], []
        return written

    def delete_from(self, row_number: int) -> int:
        """Delete rows numbered row_number and above: what an earlier, longer version of the file left."""
        deleted, _ = SourceRow.objects.filter(source_id=self.source_id, row_number__gte=row_number).delete()
        return deleted

    def _flush_postgres(self) -> None:
        block = "".join(self._copy_lines)
        if not self.replace:
            try:
                with transaction.atomic(), connection.cursor() as cursor:
                    with cursor.cursor.copy(f"COPY {self.table} ({COLUMNS}) FROM STDIN") as copy:
                        copy.write(block)
                return
            except IntegrityError:
                # Rows of an interrupted attempt are there after all: upsert from now on.
                self.replace = True
        with connection.cursor() as cursor:
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {STAGE_TABLE} "
                "(source_id bigint, row_number bigint, data jsonb, image_shas jsonb) ON COMMIT DELETE ROWS"
            )
            with cursor.cursor.copy(f"COPY {STAGE_TABLE} ({COLUMNS}) FROM STDIN") as copy:
                copy.write(block)
            cursor.execute(
                f"INSERT INTO {self.table} ({COLUMNS}) SELECT {COLUMNS} FROM {STAGE_TABLE} "  # noqa: S608
                "ON CONFLICT (source_id, row_number) DO UPDATE SET data = EXCLUDED.data, image_shas = EXCLUDED.image_shas"
            )
            cursor.execute(f"TRUNCATE {STAGE_TABLE}")
