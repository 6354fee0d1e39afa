"""Parquet shards in the FineVision layout, one config (folder) per subset, plus a dataset card.

data/<subset>/train-00000-of-00003.parquet; each shard is written row group by row group, so
memory holds one row group at a time. No timestamps go into the files: the same rows give the same bytes.
"""
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from curation.exporters.card import card_render
from curation.exporters.records import ExportRecord
from curation.exporters.registry import ExportContext, ExportFormat, SubsetPart, WrittenFile, register_format
from curation.exporters.schema import arrow_schema

# A row group is flushed at this many rows or this many buffered bytes, whichever comes first.
ROW_GROUP_MAX_ROWS = 1000
ROW_GROUP_MAX_BYTES = 64 * 1024 * 1024
# A new shard starts past this many rows or bytes (the Hub's viewer prefers shards of a few hundred MB).
SHARD_MAX_ROWS = 200_000
SHARD_MAX_BYTES = 512 * 1024 * 1024
COMPRESSION = "zstd"


class ParquetShardWriter:
    def __init__(self, context: ExportContext):
        self.context = context
        self.schema = arrow_schema(context.columns)
        self.column_names = [name for name in self.schema.names if name not in ("images", "texts", "source")]
        self.parts: list[dict[str, Any]] = context.extra.setdefault("parquet_parts", [])
        self._part: SubsetPart | None = None
        self._writer: pq.ParquetWriter | None = None
        self._shards: list[Path] = []
        self._buffer: dict[str, list[Any]] = {}
        self._buffered_rows = 0
        self._buffered_bytes = 0
        self._shard_rows = 0
        self._shard_bytes = 0
        self._part_rows = 0

    def begin_subset(self, part: SubsetPart) -> None:
        self._part = part
        self._shards = []
        self._part_rows = 0
        self._reset_buffer()

    def write(self, record: ExportRecord) -> None:
        images = [{"bytes": ref.read(), "path": ref.filename} for ref in record.images]
        self._buffer["images"].append(images)
        self._buffer["texts"].append(record.turns)
        self._buffer["source"].append(record.source)
        for name in self.column_names:
            self._buffer[name].append(record.columns.get(name))
        size = sum(len(i["bytes"]) for i in images) + sum(len(t["user"]) + len(t["assistant"]) for t in record.turns)
        self._buffered_rows += 1
        self._buffered_bytes += size
        self._part_rows += 1
        shard_rows = self._shard_rows + self._buffered_rows
        shard_bytes = self._shard_bytes + self._buffered_bytes
        if shard_rows >= SHARD_MAX_ROWS or shard_bytes >= SHARD_MAX_BYTES:
            self._flush()
            self._close_shard()
        elif self._buffered_rows >= ROW_GROUP_MAX_ROWS or self._buffered_bytes >= ROW_GROUP_MAX_BYTES:
            self._flush()

    def end_subset(self) -> None:
        self._flush()
        self._close_shard()
        assert self._part is not None
        if not self._shards:
            return  # no sample of this subset passed the filters: no config for it
        total = len(self._shards)
        names = []
        for index, tmp in enumerate(self._shards):
            name = f"data/{self._part.slug}/train-{index:05d}-of-{total:05d}.parquet"
            tmp.replace(self.context.root / name)
            self.context.sink.add(WrittenFile(name=name, kind="data"))
            names.append(name)
        self.parts.append(
            {"slug": self._part.slug, "name": self._part.name, "rows": self._part_rows, "files": names,
             "bytes": sum((self.context.root / n).stat().st_size for n in names)}
        )

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None

    def _reset_buffer(self) -> None:
        self._buffer = {name: [] for name in self.schema.names}
        self._buffered_rows = 0
        self._buffered_bytes = 0

    def _flush(self) -> None:
        if not self._buffered_rows:
            return
        if self._writer is None:
            self._open_shard()
        assert self._writer is not None
        arrays = [pa.array(self._buffer[f.name], type=f.type) for f in self.schema]
        self._writer.write_table(pa.Table.from_arrays(arrays, schema=self.schema), row_group_size=self._buffered_rows)
        self._shard_rows += self._buffered_rows
        self._shard_bytes += self._buffered_bytes
        self._reset_buffer()

    def _open_shard(self) -> None:
        assert self._part is not None
        folder = self.context.root / "data" / self._part.slug
        folder.mkdir(parents=True, exist_ok=True)
        # The final name says how many shards there are, known only at the end; renaming keeps the bytes.
        path = folder / f".train-{len(self._shards):05d}.parquet.part"
        self._writer = pq.ParquetWriter(path, self.schema, compression=COMPRESSION)
        self._shards.append(path)

    def _close_shard(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        self._shard_rows = 0
        self._shard_bytes = 0


@register_format
class ParquetFormat(ExportFormat):
    name = "parquet"
    label = "Parquet (FineVision layout)"
    description = (
        "Parquet shards per subset: images (HF Image structs), texts [{user, assistant}], source, ratings; "
        "with a README.md dataset card, loadable with datasets.load_dataset."
    )

    def open(self, context: ExportContext) -> ParquetShardWriter:
        return ParquetShardWriter(context)

    def finalize(self, context: ExportContext, manifest: dict[str, Any]) -> None:
        (context.root / "README.md").write_text(card_render(context=context, manifest=manifest), encoding="utf-8")
        context.sink.add(WrittenFile(name="README.md", kind="metadata"))
