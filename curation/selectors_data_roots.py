"""Reads for the data-root browser of the source form: the allowed roots, and one folder's entries under one of them.

Nothing outside the allowed roots is listed or told apart: a path is named by a root's number and a path relative
to it (never an absolute path), `..` is refused, and an entry that is a link leading out of the roots is left out.
"""
import os
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from curation.errors import ApplicationError
from curation.ingest.readers import file_format_by_name
from curation.services.paths import PathNotAllowed, allowed_roots, path_check_allowed

# Entries shown on one page of a folder.
FOLDER_PAGE_SIZE = 200
# A folder is read up to this many entries; past it the listing says it is cut (a name filter still helps).
FOLDER_SCAN_CAP = 200_000


class FolderNotFound(ApplicationError):
    """The root number names no root, or the path under it is not a folder (400: the browser shows it in place)."""

    code = "folder_not_found"
    status = 400


@dataclass(frozen=True)
class DataRoot:
    index: int
    path: Path
    exists: bool


@dataclass(frozen=True)
class FolderEntry:
    name: str
    relative: str  # under the root, with / between parts
    path: Path  # the root joined with `relative`: what a pick puts in the form
    is_dir: bool
    size: int | None  # bytes, for files
    format: str | None  # told from the name: jsonl, parquet, image, ...


@dataclass(frozen=True)
class FolderPage:
    root: DataRoot
    relative: str
    path: Path
    crumbs: list[tuple[str, str]]  # (name, relative path) from the root down to this folder
    entries: list[FolderEntry]
    total: int  # entries that match the filter (after hidden files and links out are left out)
    page: int
    pages: int
    first: int  # 1-based numbers of the first and last entries on this page (0 when there is none)
    last: int
    query: str
    capped: bool  # the folder holds more than FOLDER_SCAN_CAP entries and only that many were read


def data_roots() -> list[DataRoot]:
    return [DataRoot(index=i, path=root, exists=root.is_dir()) for i, root in enumerate(allowed_roots())]


def _relative_parts(relative: str) -> tuple[str, ...]:
    """The parts of a path typed under a root; PathNotAllowed for an absolute path, `..`, a hidden part or a NUL."""
    if "\x00" in relative or "\\" in relative:
        raise PathNotAllowed("a folder path under a root may not hold NUL bytes or backslashes")
    pure = PurePosixPath(relative)
    if pure.is_absolute():
        raise PathNotAllowed("name a folder relative to a data root, not an absolute path")
    if ".." in pure.parts:
        raise PathNotAllowed("a folder path under a root may not go up with ..")
    parts = tuple(part for part in pure.parts if part != ".")
    if any(part.startswith(".") for part in parts):
        raise PathNotAllowed("hidden folders are not browsed")
    return parts


def _inside_roots(path: Path) -> bool:
    try:
        path_check_allowed(path=path)
    except PathNotAllowed:
        return False
    return True


def data_root_folder(*, root_index: int, relative: str = "", page: int = 1, query: str = "") -> FolderPage:
    """One page of a folder under an allowed root: folders first, then files, by name; hidden entries left out."""
    roots = data_roots()
    if not 0 <= root_index < len(roots):
        raise FolderNotFound("no data root has that number")
    root = roots[root_index]
    parts = _relative_parts(relative)
    shown = root.path.joinpath(*parts)
    resolved = path_check_allowed(path=shown)  # a link on the way that leads out of the roots is refused here
    if not resolved.is_dir():
        raise FolderNotFound(f"{shown} is not a folder")

    needle = query.strip().casefold()
    found: list[tuple[bool, str, os.DirEntry[str]]] = []
    capped = False
    with os.scandir(resolved) as scan:
        for count, entry in enumerate(scan):
            if count >= FOLDER_SCAN_CAP:
                capped = True
                break
            if entry.name.startswith("."):
                continue
            if needle and needle not in entry.name.casefold():
                continue
            if entry.is_symlink() and not _inside_roots(Path(entry.path)):
                continue  # a link out of the roots is not shown at all
            try:
                is_dir = entry.is_dir()
            except OSError:
                continue
            found.append((not is_dir, entry.name.casefold(), entry))
    found.sort(key=lambda item: (item[0], item[1]))

    total = len(found)
    pages = max(1, -(-total // FOLDER_PAGE_SIZE))
    page = min(max(page, 1), pages)
    start = (page - 1) * FOLDER_PAGE_SIZE
    entries = []
    for is_file, _, entry in found[start:start + FOLDER_PAGE_SIZE]:
        entry_relative = "/".join((*parts, entry.name))
        size: int | None = None
        if is_file:
            try:
                size = entry.stat().st_size
            except OSError:
                size = None
        entries.append(FolderEntry(
            name=entry.name, relative=entry_relative, path=root.path.joinpath(*parts, entry.name), is_dir=not is_file,
            size=size, format=None if not is_file else file_format_by_name(Path(entry.name)),
        ))
    crumbs = [(part, "/".join(parts[: i + 1])) for i, part in enumerate(parts)]
    return FolderPage(root=root, relative="/".join(parts), path=shown, crumbs=crumbs, entries=entries, total=total,
                      page=page, pages=pages, first=start + 1 if entries else 0,
                      last=start + len(entries), query=query.strip(), capped=capped)
