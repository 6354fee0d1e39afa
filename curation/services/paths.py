"""Which files FineCurate may read: only those under the configured data roots."""
import os
import stat
from pathlib import Path

from django.conf import settings

from curation.errors import ApplicationError


class PathNotAllowed(ApplicationError, ValueError):
    """The path lies outside every allowed data root (or escapes one through .. or a link)."""

    code = "path_not_allowed"
    status = 400


def allowed_roots() -> list[Path]:
    return [Path(root).resolve() for root in settings.FINECURATE_DATA_ROOTS]


def data_root_default_ensure() -> Path:
    """The default data root (the first configured one, var/data unless the operator names others), made if missing,
    so a newcomer has a folder to drop files into before registering them."""
    default = allowed_roots()[0]
    default.mkdir(parents=True, exist_ok=True)
    return default


def path_check_allowed(*, path: Path | str) -> Path:
    """The resolved path if it lies under an allowed root; PathNotAllowed otherwise."""
    try:
        resolved = Path(path).expanduser().resolve()
    except (RuntimeError, OSError) as exc:  # "~nobody/x" (no such home), a loop of links
        raise PathNotAllowed(f"{path} cannot be resolved: {exc}") from exc
    if _under_roots(resolved, allowed_roots()):
        return resolved
    roots = ", ".join(str(r) for r in allowed_roots())
    raise PathNotAllowed(f"{path} is outside the allowed data roots ({roots})")


def _under_roots(resolved: Path, roots: list[Path]) -> bool:
    return any(resolved == root or resolved.is_relative_to(root) for root in roots)


def path_resolve_relative(*, base: Path, relative: str) -> Path:
    """A path named inside a source file, taken relative to the source's folder and checked against the roots."""
    candidate = Path(relative)
    if not candidate.is_absolute():
        candidate = base / candidate
    return path_check_allowed(path=candidate)


# Folders a RelativePaths has found to be real folders (no link) under a root, remembered per ingest.
CHECKED_FOLDERS_LIMIT = 4096


class RelativePaths:
    """path_resolve_relative for the many paths one source names, with fewer system calls.

    A path that goes down from an allowed folder through real folders (no link, no "..") to a real file is
    under the roots already: checked with one lstat per part not checked before, instead of one per part of
    the whole path every time. Anything else (a link, "..", an absolute or missing path) takes
    path_check_allowed, so the answer is the same.
    """

    def __init__(self) -> None:
        self._roots = allowed_roots()
        self._bases: dict[Path, Path | None] = {}  # folder as given -> resolved, when under a root
        self._folders: set[str] = set()

    def resolve(self, *, base: Path, relative: str) -> tuple[Path, bool]:
        """(the resolved path, whether it is a regular file); PathNotAllowed as path_resolve_relative."""
        parts = relative.split("/")
        if not relative or relative.startswith("/") or any(part in ("", ".", "..") for part in parts):
            path = path_resolve_relative(base=base, relative=relative)
            return path, path.is_file()
        if base in self._bases:
            resolved_base = self._bases[base]
        else:
            resolved_base = base.resolve()
            if not _under_roots(resolved_base, self._roots):
                resolved_base = None
            if len(self._bases) < CHECKED_FOLDERS_LIMIT:
                self._bases[base] = resolved_base
        if resolved_base is None:
            path = path_resolve_relative(base=base, relative=relative)
            return path, path.is_file()
        current = str(resolved_base)
        for i, part in enumerate(parts):
            current = f"{current}/{part}"
            last = i == len(parts) - 1
            if not last and current in self._folders:
                continue
            try:
                mode = os.lstat(current).st_mode
            except (OSError, ValueError):
                break  # missing (or a name no file can have): path_resolve_relative answers
            if last and stat.S_ISREG(mode):
                return Path(current), True
            if last or not stat.S_ISDIR(mode):
                break
            if len(self._folders) < CHECKED_FOLDERS_LIMIT:
                self._folders.add(current)
        path = path_resolve_relative(base=base, relative=relative)
        return path, path.is_file()
