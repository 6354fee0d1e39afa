"""Apply's bulk reads and writes: a source's rows in keyset batches, and the stage of built rows.

On PostgreSQL rows are read as JSON text through one cursor and parsed with orjson, and staged rows go
in by COPY; elsewhere (SQLite) the ORM does both. Either way memory holds one batch at a time.
"""
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import orjson
from django.db import connection

from curation.ingest.records import IMAGE_KEY
from curation.models import Mapping, MappingStagedRow, Source, SourceRow

# The stored-image key as it appears in PostgreSQL's JSON text of a row (the key needs no escaping).
IMAGE_KEY_TEXT = f'"{IMAGE_KEY}"'


@dataclass(frozen=True, slots=True)
class SourceRowRead:
    row_number: int
    data: Any
    # How often the row's JSON text holds the stored-image key (None when the text was not at hand): a row
    # holds at most this many stored images, so apply can skip looking for ones its mapping leaves out.
    image_keys: int | None


@dataclass(frozen=True)
class StagedRow:
    row_number: int
    turns: list[dict[str, str]]
    image_shas: list[str]


class SourceRowReader:
    """Every row of a source in row order, `batch_size` at a time; `seconds` spent reading."""

    def __init__(self, *, source: Source, batch_size: int) -> None:
        self.source = source
        self.batch_size = batch_size
        self.seconds = 0.0

    def __iter__(self) -> Iterator[list[SourceRowRead]]:
        last = -1
        while True:
            started = time.perf_counter()
            batch = self._batch_after(last)
            self.seconds += time.perf_counter() - started
            if not batch:
                return
            last = batch[-1].row_number
            yield batch

    def _batch_after(self, last: int) -> list[SourceRowRead]:
        if connection.vendor != "postgresql":
            rows = SourceRow.objects.filter(source=self.source, row_number__gt=last).order_by("row_number")
            return [SourceRowRead(row_number, data, None)
                    for row_number, data in rows.values_list("row_number", "data")[: self.batch_size]]
        table = SourceRow._meta.db_table
        with connection.cursor() as cursor:
            # JSON as text, parsed by orjson: several times faster than the driver's json.loads per row.
            cursor.execute(
                f"SELECT row_number, data::text FROM {table} "  # noqa: S608 (table name from the model)
                "WHERE source_id = %s AND row_number > %s ORDER BY row_number LIMIT %s",
                [self.source.pk, last, self.batch_size],
            )
            return [SourceRowRead(row_number, orjson.loads(text), text.count(IMAGE_KEY_TEXT))
                    for row_number, text in cursor.fetchall()]


def staged_rows_write(*, mapping: Mapping, rows: list[StagedRow]) -> None:
    """Add built rows to the mapping's stage (the caller emptied it before the first batch)."""
    if not rows:
        return
    if connection.vendor != "postgresql":
        MappingStagedRow.objects.bulk_create(
            [MappingStagedRow(mapping=mapping, row_number=r.row_number, turns=r.turns, image_shas=r.image_shas) for r in rows],
            update_conflicts=True,
            unique_fields=["mapping", "row_number"],
            update_fields=["turns", "image_shas"],
        )
        return
    table = MappingStagedRow._meta.db_table
    with connection.cursor() as cursor, cursor.cursor.copy(
        f"COPY {table} (mapping_id, row_number, turns, image_shas) FROM STDIN"
    ) as copy:
        for r in rows:
            copy.write_row((mapping.pk, r.row_number, orjson.dumps(r.turns).decode(), orjson.dumps(r.image_shas).decode()))
