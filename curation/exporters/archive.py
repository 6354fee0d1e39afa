"""One archive of a finished export: every file under one folder, in its layout, streamed as a tar.

Unpacked, the folder is the export as written (data/<subset>/train-*.parquet with its README.md card, or
data.jsonl and images/, or shards/), so `datasets.load_dataset(folder, subset)` works on it. The tar is
built as it is sent, a block at a time: memory stays flat whatever the size of the files. Members carry
no owner or permissions of this machine; their time is the export's finish time.
"""
import tarfile
from collections.abc import Iterable, Iterator
from pathlib import Path

from curation.models import Export, ExportFile

BLOCK = tarfile.BLOCKSIZE
READ_CHUNK = 1024 * 1024


def archive_folder_name(export: Export) -> str:
    return f"finecurate-export-{export.pk}"


def archive_member(name: str, size: int, mtime: float) -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.size = size
    info.mtime = int(mtime)
    info.mode = 0o644
    info.uname = info.gname = ""
    return info


def archive_size(export: Export, files: Iterable[ExportFile]) -> int:
    """Bytes of the archive `archive_stream` yields for these files (for Content-Length)."""
    total = 0
    folder = archive_folder_name(export)
    for export_file in files:
        header = archive_member(f"{folder}/{export_file.name}", export_file.size, 0).tobuf(tarfile.PAX_FORMAT)
        total += len(header) + _padded(export_file.size)
    return total + 2 * BLOCK


def archive_stream(export: Export, files: Iterable[tuple[ExportFile, Path]]) -> Iterator[bytes]:
    """The tar, block by block: a header, the file's bytes in chunks, padding; two empty blocks at the end."""
    folder = archive_folder_name(export)
    mtime = export.finished_at.timestamp() if export.finished_at else 0
    for export_file, path in files:
        yield archive_member(f"{folder}/{export_file.name}", export_file.size, mtime).tobuf(tarfile.PAX_FORMAT)
        sent = 0
        with open(path, "rb") as handle:
            while chunk := handle.read(READ_CHUNK):
                sent += len(chunk)
                yield chunk
        if sent != export_file.size:
            # A file that changed on disk would corrupt every member after it; stop loudly instead.
            raise OSError(f"{export_file.name} is {sent} bytes on disk, not the {export_file.size} recorded")
        yield b"\0" * (_padded(sent) - sent)
    yield b"\0" * (2 * BLOCK)


def _padded(size: int) -> int:
    return -(-size // BLOCK) * BLOCK
