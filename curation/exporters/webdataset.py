"""WebDataset tar shards: per sample <key>.<n>.<ext> images in order and <key>.json with texts and metadata.

shards/<subset>-000000.tar ... Tar members carry no time, owner or permissions of this machine, so the
same samples give the same bytes.
"""
import json
import os
import tarfile
from io import BytesIO
from pathlib import Path
from typing import Any

from curation.exporters.files import HashingFile
from curation.exporters.records import ExportRecord
from curation.exporters.registry import ExportContext, ExportFormat, SubsetPart, register_format

SHARD_MAX_SAMPLES = 10_000
SHARD_MAX_BYTES = 1024 * 1024 * 1024
# Images up to this size are read whole into memory before they go into the tar; larger ones stream.
WHOLE_READ_MAX_BYTES = 8 * 1024 * 1024


def _member(name: str, size: int) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = 0
    info.mode = 0o644
    info.uid = info.gid = 0
    info.uname = info.gname = ""
    return info


class WebDatasetWriter:
    def __init__(self, context: ExportContext):
        self.context = context
        self.column_names = [c.name for p in context.columns for c in p.columns]
        self._part: SubsetPart | None = None
        self._tar: tarfile.TarFile | None = None
        self._file: HashingFile | None = None
        self._shard_index = 0
        self._shard_name = ""
        self._shard_samples = 0
        self._shard_bytes = 0

    def begin_subset(self, part: SubsetPart) -> None:
        self._part = part
        self._shard_index = 0

    def write(self, record: ExportRecord) -> None:
        if self._tar is None:
            self._open_shard()
        assert self._tar is not None
        key = f"{record.sample_id:012d}"
        images = []
        for index, ref in enumerate(record.images):
            member = f"{key}.{index}.{ref.extension}"
            if ref.size <= WHOLE_READ_MAX_BYTES:
                data = ref.read()  # one read of the known size: cheaper than streaming a small file
                size = len(data)
                self._tar.addfile(_member(member, size), BytesIO(data))
            else:
                with ref.open() as stream:
                    size = os.fstat(stream.fileno()).st_size
                    self._tar.addfile(_member(member, size), stream)  # copies in blocks, never the whole file
            images.append({"name": f"{index}.{ref.extension}", "sha256": ref.sha256})
            self._shard_bytes += size
        meta: dict[str, Any] = {
            "texts": record.turns,
            "images": images,
            "subset": record.subset.name,
            "source": record.source,
        }
        for name in self.column_names:
            meta[name] = record.columns.get(name)
        data = json.dumps(meta, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        self._tar.addfile(_member(f"{key}.json", len(data)), BytesIO(data))
        self._shard_bytes += len(data)
        self._shard_samples += 1
        if self._shard_samples >= SHARD_MAX_SAMPLES or self._shard_bytes >= SHARD_MAX_BYTES:
            self._close_shard()

    def end_subset(self) -> None:
        self._close_shard()

    def close(self) -> None:
        self._close_shard()

    def _open_shard(self) -> None:
        assert self._part is not None
        self._shard_name = f"shards/{self._part.slug}-{self._shard_index:06d}.tar"
        path: Path = self.context.root / self._shard_name
        path.parent.mkdir(parents=True, exist_ok=True)
        self._file = HashingFile(path)
        self._tar = tarfile.open(fileobj=self._file, mode="w", format=tarfile.USTAR_FORMAT)  # closed by _close_shard
        self._shard_index += 1
        self._shard_samples = 0
        self._shard_bytes = 0

    def _close_shard(self) -> None:
        if self._tar is None:
            return
        self._tar.close()
        self._tar = None
        assert self._file is not None
        self._file.close()
        self.context.sink.add(self._file.written(name=self._shard_name, kind="data"))
        self._file = None


@register_format
class WebDatasetFormat(ExportFormat):
    name = "webdataset"
    label = "WebDataset shards"
    description = "Tar shards per subset: <key>.<n>.<ext> images and <key>.json (texts, source, ratings)."

    def open(self, context: ExportContext) -> WebDatasetWriter:
        return WebDatasetWriter(context)
