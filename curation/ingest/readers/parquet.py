"""Parquet: read in record batches with pyarrow, so memory holds one batch, not the file."""
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from curation.ingest.readers.base import Record, SourceUnreadable, location_in

# Rows per batch: small when rows carry image bytes, larger for text.
BATCH_ROWS_WITH_BINARY = 32
BATCH_ROWS_TEXT = 2048


def _has_binary(data_type: pa.DataType) -> bool:
    if pa.types.is_binary(data_type) or pa.types.is_large_binary(data_type) or pa.types.is_fixed_size_binary(data_type):
        return True
    return any(_has_binary(data_type.field(i).type) for i in range(data_type.num_fields))


class ParquetReader:
    format = "parquet"

    def __init__(self, path: Path, *, multi_file: bool = False) -> None:
        self.path = path
        self.multi_file = multi_file
        try:
            self.file = pq.ParquetFile(path)
        except (pa.ArrowException, OSError) as exc:
            raise SourceUnreadable(f"{path.name} is not a valid Parquet file: {exc}") from exc
        schema = self.file.schema_arrow
        self.batch_rows = BATCH_ROWS_WITH_BINARY if any(_has_binary(f.type) for f in schema) else BATCH_ROWS_TEXT

    def count(self) -> int | None:
        return self.file.metadata.num_rows

    def records(self, *, start_row: int = 0) -> Iterator[Record]:
        row_number = start_row
        base_dir = self.path.parent
        batches = self.file.iter_batches(batch_size=self.batch_rows)
        while True:
            try:
                batch = next(batches)
                rows = batch.to_pylist()
            except StopIteration:
                return
            except (pa.ArrowException, OSError) as exc:
                if row_number == start_row:
                    raise SourceUnreadable(f"{self.path.name} cannot be read: {exc}") from exc
                yield Record(
                    row_number=None,
                    location=location_in(self.path, multi_file=self.multi_file, where=f"row {row_number - start_row + 1}"),
                    base_dir=base_dir,
                    error=f"the rest of the file could not be read: {exc}",
                )
                return
            for data in rows:
                location = location_in(self.path, multi_file=self.multi_file, where=f"row {row_number - start_row + 1}")
                yield Record(row_number=row_number, location=location, base_dir=base_dir, data=data)
                row_number += 1
