"""Parquet shards in the FineVision layout, one config (folder) per subset, plus a dataset card.

data/<subset>/train-00000-of-00003.parquet; each shard is written row group by row group, so
memory holds one row group at a time. No timestamps go into the files: the same rows give the same bytes.
"""
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from curation.exporters.card import card_render
from curation.exporters.files import HashingFile
from curation.exporters.records import ExportRecord
from curation.exporters.registry import ExportContext, ExportFormat, SubsetPart, WrittenFile, register_format
from curation.exporters.schema import IMAGE_STRUCT, TURN_STRUCT, arrow_schema

# A row group is flushed at this many rows or this many buffered bytes, whichever comes first.
ROW_GROUP_MAX_ROWS = 1000
ROW_GROUP_MAX_BYTES = 64 * 1024 * 1024
# A new shard starts past this many rows or bytes (the Hub's viewer prefers shards of a few hundred MB).
SHARD_MAX_ROWS = 200_000
SHARD_MAX_BYTES = 512 * 1024 * 1024
COMPRESSION = "zstd"


class RowGroupBuffer:
    """The rows of one row group, column by column; nested columns kept flat (values + offsets) for Arrow."""

    def __init__(self, column_names: list[str]):
        self.column_names = column_names
        self.image_bytes: list[bytes] = []
        self.image_paths: list[str] = []
        self.image_offsets = [0]
        self.users: list[str] = []
        self.assistants: list[str] = []
        self.turn_offsets = [0]
        self.sources: list[str] = []
        self.columns: dict[str, list[Any]] = {name: [] for name in column_names}
        self.rows = 0
        self.bytes = 0

    def add(self, record: ExportRecord) -> None:
        for ref in record.images:
            data = ref.read()
            self.image_bytes.append(data)
            self.image_paths.append(ref.filename)
            self.bytes += len(data)
        self.image_offsets.append(len(self.image_bytes))
        for turn in record.turns:
            self.users.append(turn["user"])
            self.assistants.append(turn["assistant"])
            self.bytes += len(turn["user"]) + len(turn["assistant"])
        self.turn_offsets.append(len(self.users))
        self.sources.append(record.source)
        for name in self.column_names:
            self.columns[name].append(record.columns.get(name))
        self.rows += 1

    def table(self, schema: pa.Schema) -> pa.Table:
        images = pa.ListArray.from_arrays(
            pa.array(self.image_offsets, type=pa.int32()),
            pa.StructArray.from_arrays(
                [pa.array(self.image_bytes, type=pa.binary()), pa.array(self.image_paths, type=pa.string())],
                fields=list(IMAGE_STRUCT),
            ),
            type=schema.field("images").type,
        )
        texts = pa.ListArray.from_arrays(
            pa.array(self.turn_offsets, type=pa.int32()),
            pa.StructArray.from_arrays(
                [pa.array(self.users, type=pa.string()), pa.array(self.assistants, type=pa.string())],
                fields=list(TURN_STRUCT),
            ),
            type=schema.field("texts").type,
        )
        arrays = [images, texts, pa.array(self.sources, type=pa.string())]
        arrays += [pa.array(self.columns[name], type=schema.field(name).type) for name in self.column_names]
        return pa.Table.from_arrays(arrays, schema=schema)


class ParquetShardWriter:
    def __init__(self, context: ExportContext):
        self.context = context
        self.schema = arrow_schema(context.columns)
        self.column_names = [name for name in self.schema.names if name not in ("images", "texts", "source")]
        self.parts: list[dict[str, Any]] = context.extra.setdefault("parquet_parts", [])
        self._part: SubsetPart | None = None
        self._writer: pq.ParquetWriter | None = None
        self._file: HashingFile | None = None
        self._shards: list[tuple[Path, HashingFile]] = []
        self._buffer = RowGroupBuffer(self.column_names)
        self._shard_rows = 0
        self._shard_bytes = 0
        self._part_rows = 0

    def begin_subset(self, part: SubsetPart) -> None:
        self._part = part
        self._shards = []
        self._part_rows = 0
        self._buffer = RowGroupBuffer(self.column_names)

    def write(self, record: ExportRecord) -> None:
        self._buffer.add(record)
        self._part_rows += 1
        shard_rows = self._shard_rows + self._buffer.rows
        shard_bytes = self._shard_bytes + self._buffer.bytes
        if shard_rows >= SHARD_MAX_ROWS or shard_bytes >= SHARD_MAX_BYTES:
            self._flush()
            self._close_shard()
        elif self._buffer.rows >= ROW_GROUP_MAX_ROWS or self._buffer.bytes >= ROW_GROUP_MAX_BYTES:
            self._flush()

    def end_subset(self) -> None:
        self._flush()
        self._close_shard()
        assert self._part is not None
        if not self._shards:
            return  # no sample of this subset passed the filters: no config for it
        total = len(self._shards)
        names = []
        size = 0
        for index, (tmp, hashed) in enumerate(self._shards):
            name = f"data/{self._part.slug}/train-{index:05d}-of-{total:05d}.parquet"
            tmp.replace(self.context.root / name)
            self.context.sink.add(hashed.written(name=name, kind="data"))
            names.append(name)
            size += hashed.size
        self.parts.append({"slug": self._part.slug, "name": self._part.name, "rows": self._part_rows, "files": names, "bytes": size})

    def close(self) -> None:
        self._close_shard()

    def _flush(self) -> None:
        if not self._buffer.rows:
            return
        if self._writer is None:
            self._open_shard()
        assert self._writer is not None
        self._writer.write_table(self._buffer.table(self.schema), row_group_size=self._buffer.rows)
        self._shard_rows += self._buffer.rows
        self._shard_bytes += self._buffer.bytes
        self._buffer = RowGroupBuffer(self.column_names)

    def _open_shard(self) -> None:
        assert self._part is not None
        folder = self.context.root / "data" / self._part.slug
        folder.mkdir(parents=True, exist_ok=True)
        # The final name says how many shards there are, known only at the end; renaming keeps the bytes.
        path = folder / f".train-{len(self._shards):05d}.parquet.part"
        self._file = HashingFile(path)
        self._writer = pq.ParquetWriter(pa.PythonFile(self._file, mode="w"), self.schema, compression=COMPRESSION)
        self._shards.append((path, self._file))

    def _close_shard(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None
        if self._file is not None:
            self._file.close()
            self._file = None
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
