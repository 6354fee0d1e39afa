"""Export files written once: their sha256 and size are computed as the bytes go out, never by reading them back."""
import hashlib
import io
from pathlib import Path

from curation.exporters.registry import WrittenFile


class HashingFile(io.RawIOBase):
    """A new file opened for writing that keeps the sha256 and size of everything written to it."""

    def __init__(self, path: Path):
        super().__init__()
        self._file = path.open("wb")
        self._digest = hashlib.sha256()
        self.size = 0

    def writable(self) -> bool:
        return True

    def tell(self) -> int:
        return self.size  # written strictly in order, never seeking

    def write(self, data) -> int:  # type: ignore[no-untyped-def, override]
        written = self._file.write(data)
        self._digest.update(memoryview(data)[:written])
        self.size += written
        return written

    def flush(self) -> None:
        if not self.closed:
            self._file.flush()

    def close(self) -> None:
        if self.closed:
            return
        super().close()  # flushes first
        self._file.close()

    @property
    def sha256(self) -> str:
        return self._digest.hexdigest()

    def written(self, *, name: str, kind: str) -> WrittenFile:
        return WrittenFile(name=name, kind=kind, size=self.size, sha256=self.sha256)
