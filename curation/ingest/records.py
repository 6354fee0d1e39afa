"""Turn a record as read into a row to store: images stored by sha256 and replaced by {"$image": sha},
everything else made JSON-serialisable, or RowRejected saying why the row cannot be kept.

Images are found in four shapes: Hugging Face Image structs {bytes, path}; raw bytes; base64 data URLs
("data:image/png;base64,..."); and strings that end in an image extension, taken as paths relative to the
source's image folder when it has one, else to the source file's folder.

A column that holds image references (by its name, e.g. `image` or `img_path`, or because other rows of the
source held images in it) takes every string in it as an image, with or without an extension: a value that is
not a readable image under the allowed roots rejects its row with the reason, never stays behind as text.
"""
import base64
import binascii
import datetime as dt
import hashlib
import math
import re
import uuid
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import numpy as np

from curation.errors import ApplicationError
from curation.ingest.readers.base import IMAGE_EXTENSIONS
from curation.models import Image
from curation.services.images import ImageRejected, image_prepare, image_prepare_file, image_rows_insert
from curation.services.paths import PathNotAllowed, RelativePaths

IMAGE_KEY = "$image"
# Longer strings are text, never a file name.
MAX_PATH_CHARS = 1024
# Images handed to the ingest's threads at a time.
IMAGE_CHUNK = 16
# Paths already stored in this ingest, so an image named by many rows is read once.
PATH_CACHE_SIZE = 4096
# Karpathy's caption splits (dataset_coco.json, dataset_flickr30k.json) name each image by two fields,
# `filepath` ("val2014") and `filename` ("COCO_val2014_000000391895.jpg"): the file is <root>/<filepath>/<filename>.
KARPATHY_FOLDER_KEY = "filepath"
KARPATHY_NAME_KEY = "filename"
# Names of columns that hold image references: image, images, img, image_path, img_file, image_0, picture ...
IMAGE_COLUMN_NAME = re.compile(
    r"(?:image|img|picture|photo)s?(?:_?(?:path|file|filename|name|\d+))?s?", re.IGNORECASE
)


class RowRejected(ApplicationError, ValueError):
    """The record cannot be kept; the message says why (shown on the job's rejected rows)."""

    code = "row_rejected"
    status = 422


class ImageTask:
    """One image being checked and written (image_prepare), shared by every row that names the same path or bytes."""

    __slots__ = ("function", "kwargs", "image", "error", "chunk", "collected")

    def __init__(self, function: Callable[..., Image], kwargs: dict[str, Any]) -> None:
        self.function, self.kwargs = function, kwargs
        self.image: Image | None = None
        self.error: ImageRejected | None = None
        self.chunk: Future[None] | None = None  # set when handed to the threads; done when its chunk's images are
        self.collected = False  # its Image handed to ImageWork.ready already (it is saved once)

    def run(self) -> None:
        try:
            self.image = self.function(**self.kwargs)
        except ImageRejected as exc:
            self.error = exc
        self.kwargs = {}  # the bytes of an image given as bytes are not held longer

    def done(self) -> bool:
        return self.chunk is not None and self.chunk.done()


def _run_chunk(tasks: list[ImageTask]) -> None:
    for task in tasks:
        task.run()


_DONE: "Future[None]" = Future()  # the chunk of a task run in the calling thread
_DONE.set_result(None)


@dataclass(slots=True)
class ImageCheck:
    """An image a prepared row waits for; RecordPreparer.settle fills in its sha256 or rejects the row."""

    task: ImageTask
    ref: dict[str, str]  # the row's {"$image": sha256}, completed when the sha256 is known (a file not read yet)
    index: int  # its place in the row's image_shas
    where: str
    name: str | None  # the path as the record gives it; None for bytes

    def rejected(self, exc: ImageRejected) -> "RowRejected":
        if self.name is None:
            return RowRejected(f"{self.where}: bytes that are not an image we keep ({exc})")
        return RowRejected(f"{self.where}: {self.name}: {exc}")


@dataclass
class PreparedRow:
    data: dict[str, Any]
    image_shas: list[str]
    # The record's JSON text as read, when preparing changed nothing: written as it is, not serialised again.
    json_text: str | None = None
    # Images still being checked: the row is not complete (nor kept) until RecordPreparer.settle has seen them.
    checks: list[ImageCheck] = field(default_factory=list)


class ImageWork:
    """Checks and writes the images of one ingest: on a pool of threads (decoding, hashing and writing files
    release the GIL, so they run beside the reading of the next rows), or in the calling thread when threads is 0.
    Images go to the threads IMAGE_CHUNK at a time: one hand-over, and one wake-up of whoever waits, per chunk
    (per image, they cost as much as the smaller images' checks). Images checked wait in `ready` until the rows
    that use them are written, in the same transaction."""

    def __init__(self, *, threads: int) -> None:
        self._pool = ThreadPoolExecutor(threads, thread_name_prefix="ingest-images") if threads > 0 else None
        self._queued: list[ImageTask] = []
        self.ready: list[Image] = []

    def submit(self, function: Callable[..., Image], /, **kwargs: Any) -> ImageTask:
        task = ImageTask(function, kwargs)
        if self._pool is None:
            task.run()
            task.chunk = _DONE
            return task
        self._queued.append(task)
        if len(self._queued) >= IMAGE_CHUNK:
            self.send()
        return task

    def send(self) -> None:
        """Hand the images queued to the threads (a caller about to wait for one of them calls this first)."""
        if self._pool is None or not self._queued:
            return
        chunk, self._queued = self._queued, []
        future = self._pool.submit(_run_chunk, chunk)
        for task in chunk:
            task.chunk = future

    def wait(self, task: ImageTask) -> Image:
        """The task's Image once checked and written; ImageRejected if it is not an image we keep."""
        if task.chunk is None:
            self.send()
        assert task.chunk is not None  # noqa: S101  (send gave every queued task its chunk)
        task.chunk.result()  # what is not an ImageRejected (a full disk) fails the ingest here
        if task.error is not None:
            raise task.error
        assert task.image is not None  # noqa: S101  (ran without error)
        return task.image

    def take_ready(self) -> list[Image]:
        ready, self.ready = self.ready, []
        return ready

    def close(self) -> None:
        self._queued = []
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)


def image_ref(sha256: str) -> dict[str, str]:
    return {IMAGE_KEY: sha256}


def is_image_ref(value: Any) -> bool:
    return isinstance(value, dict) and len(value) == 1 and IMAGE_KEY in value


def _is_image_struct(value: dict) -> bool:
    keys = set(value)
    if keys == {"bytes", "path"}:
        return isinstance(value["bytes"], bytes | bytearray | memoryview | None) and isinstance(value["path"], str | None)
    return keys == {"bytes"} and isinstance(value["bytes"], bytes | bytearray | memoryview)


IMAGE_SUFFIXES = tuple(IMAGE_EXTENSIONS)
# Text of a JSON record that may need more than parsing: an image path, NUL or a lone surrogate, the reserved key.
NEEDS_PREPARING = re.compile(
    r"\.(?:jpe?g|png|webp|gif|bmp|tiff?)\s*\"|\\u0000|\\ud[89a-f]|" + re.escape(f'"{IMAGE_KEY}"') + r"|\"data:image/"
    r"|\"(?:image|img|picture|photo)s?(?:_?(?:path|file|filename|name|\d+))?s?\"\s*:\s*[\"\[]",
    re.IGNORECASE,
)
# What an ASCII record's JSON text shows when it may need more than parsing, apart from the names of its columns
# (looked at on the parsed keys): an escape (NUL, lone surrogate), a "$" (the reserved key), a data URL, a string
# ending in an image extension. A few plain scans are several times cheaper than NEEDS_PREPARING.
IMAGE_TAIL = re.compile(r"\.(?:jpe?g|png|webp|gif|bmp|tiff?)\s*\"")
# Column names already looked at, per tuple of a row's keys: the ones that name image columns.
MAX_KEY_SHAPES = 1024


def needs_preparing(json_text: str) -> bool:
    """Whether a record's JSON text may hold an image, a NUL, a lone surrogate or the reserved key (column names
    apart: RecordPreparer.prepare_quick looks at those)."""
    if not json_text.isascii():  # case-insensitive matching folds a few other letters (Kelvin sign, long s) to ASCII
        return NEEDS_PREPARING.search(json_text) is not None
    if "\\u" in json_text or "$" in json_text:
        return True
    lowered = json_text.lower()
    return '"data:image/' in lowered or IMAGE_TAIL.search(lowered) is not None


# Images inlined as data URLs, as OpenAI chat messages carry them in `image_url` parts.
DATA_URL = re.compile(r"data:image/[\w.+-]+;base64,", re.IGNORECASE)


def _looks_like_image_path(value: str) -> bool:
    # The tail alone is lowered: this runs for every string of every row.
    return (
        value[-6:].rstrip().lower().endswith(IMAGE_SUFFIXES)
        and len(value) <= MAX_PATH_CHARS
        and "\n" not in value
        and "://" not in value
    )


def is_image_column(name: str) -> bool:
    """Whether a column's name says it holds image references."""
    return IMAGE_COLUMN_NAME.fullmatch(name) is not None


def _karpathy_folder(data: dict[str, Any]) -> str | None:
    """The record's `filepath` when it names its image the Karpathy way (string filepath + filename), else None."""
    folder, name = data.get(KARPATHY_FOLDER_KEY), data.get(KARPATHY_NAME_KEY)
    if isinstance(folder, str) and folder.strip() and isinstance(name, str) and _looks_like_image_path(name):
        return folder.strip()
    return None


class RecordPreparer:
    """Prepares the records of one ingest; remembers the image paths (and bytes) it has stored already.

    image_root, when given, is the folder relative image paths are resolved against instead of the record's
    own folder (the source's image folder: LLaVA-Instruct-150k names bare COCO files kept somewhere else).
    """

    def __init__(self, *, image_root: Path | None = None, image_threads: int | None = None) -> None:
        self._image_root = image_root
        self.image_root = image_root
        # With image_threads (0: checked in this thread), prepare() returns rows whose images may still be being
        # checked (PreparedRow.checks): settle() completes them and the caller saves self.images.ready with its
        # rows. Without, prepare() returns complete rows, their images saved.
        self.images = ImageWork(threads=image_threads or 0)
        self._deferred = image_threads is not None
        self._stored_paths: OrderedDict[Path, ImageTask] = OrderedDict()
        self._stored_bytes: OrderedDict[str, ImageTask] = OrderedDict()
        self._checks: list[ImageCheck] = []  # of the row being prepared
        self._paths = RelativePaths()
        # Bytes of images given as bytes handed to the pool and not settled yet (the caller settles past a limit).
        self.pending_bytes = 0
        # Top-level columns that held an image in a row of this ingest: their strings are images in every row.
        self.image_columns: set[str] = set()
        self._image_named: dict[tuple[str, ...], tuple[str, ...]] = {}

    def prepare_quick(self, data: dict[str, Any], *, json_text: str | None) -> PreparedRow | None:
        """The row as it is, when its JSON text as read shows nothing to prepare (no database needed); else None."""
        if json_text is None or needs_preparing(json_text):
            return None
        keys = tuple(data)
        named = self._image_named.get(keys)
        if named is None:
            named = tuple(key for key in keys if is_image_column(key))
            if len(self._image_named) < MAX_KEY_SHAPES:
                self._image_named[keys] = named
        if named and any(isinstance(data[key], str | list) for key in named):
            return None
        if self.image_columns and any(isinstance(data.get(column), str | list) for column in self.image_columns):
            return None
        return PreparedRow(data=data, image_shas=[], json_text=json_text)

    def prepare(self, data: dict[str, Any], *, base_dir: Path, text_keys: frozenset[str] = frozenset()) -> PreparedRow:
        """The row to store; its images stored (this uses the database), or with image_threads, being checked."""
        root = self._image_root or base_dir
        shas: list[str] = []
        prepared: dict[str, Any] = {}
        self._checks = []
        karpathy_folder = _karpathy_folder(data)
        for key, value in data.items():
            name = self._key(key)
            before = len(shas)
            if name in text_keys and isinstance(value, str):
                prepared[name] = self._text(value, name)
            elif name == KARPATHY_NAME_KEY and karpathy_folder is not None:
                prepared[name] = self._image_path(value.strip(), name, root, shas, subfolder=karpathy_folder)
            elif name in self.image_columns or is_image_column(name):
                prepared[name] = self.image_column_value(value, name, root, shas)
            else:
                prepared[name] = self._value(value, name, root, shas)
            if len(shas) > before:
                self.image_columns.add(name)
        row = PreparedRow(data=prepared, image_shas=shas, checks=self._checks)
        self._checks = []
        if not self._deferred:
            self.settle(row)
            image_rows_insert(images=self.images.take_ready())
        return row

    def settle(self, row: PreparedRow) -> None:
        """Wait for the row's images; fill in their sha256s, or RowRejected with the reason of the first bad one.
        The images checked are then in self.images.ready, to be saved with the row."""
        checks, row.checks = row.checks, []
        for check in checks:
            task = check.task
            try:
                image = self.images.wait(task)
            except ImageRejected as exc:
                raise check.rejected(exc) from exc
            check.ref[IMAGE_KEY] = image.sha256
            row.image_shas[check.index] = image.sha256
            if not task.collected:
                task.collected = True
                self.images.ready.append(image)

    def column_images(self, value: Any, where: str, base_dir: Path) -> tuple[Any, list[str]]:
        """A value of a column now known to hold images, its images stored: (the value with references, the
        sha256s); RowRejected if a string in it is not an image."""
        shas: list[str] = []
        self._checks = []
        try:
            stored = self.image_column_value(value, where, base_dir, shas)
            row = PreparedRow(data={}, image_shas=shas, checks=self._checks)
        finally:
            self._checks = []
        self.settle(row)
        image_rows_insert(images=self.images.take_ready())
        return stored, shas

    def image_column_value(self, value: Any, where: str, base_dir: Path, shas: list[str]) -> Any:
        """A value of a column that holds images: every non-empty string is an image (RowRejected if it is not one)."""
        if isinstance(value, str):
            name = value.strip()
            if not name:
                return value
            if name[:5].lower() == "data:":
                if DATA_URL.match(name):
                    return self._data_url(name, where, shas)
                raise RowRejected(f"{where}: {name[:40]!r}… is a data URL but not of a base64 image")
            if "://" in name:
                raise RowRejected(f"{where}: {name[:200]} is a URL; remote images are not fetched (download them and "
                                  "give their paths)")
            if len(name) > MAX_PATH_CHARS or "\n" in name:
                raise RowRejected(f"{where}: holds text, not the path of an image file ({len(name):,} characters)")
            return self._image_path(name, where, base_dir, shas)
        if isinstance(value, list | tuple):
            return [self.image_column_value(v, f"{where}[{i}]", base_dir, shas) for i, v in enumerate(value)]
        return self._value(value, where, base_dir, shas)


    def _key(self, key: Any) -> str:
        name = key if isinstance(key, str) else str(key)
        if name == IMAGE_KEY:
            raise RowRejected(f"uses the reserved key {IMAGE_KEY}")
        if "\x00" in name:
            raise RowRejected("a key contains a NUL character")
        return name

    def _text(self, value: str, where: str) -> str:
        if "\x00" in value:
            raise RowRejected(f"{where}: contains a NUL character")
        return value

    def _value(self, value: Any, where: str, base_dir: Path, shas: list[str]) -> Any:
        if value is None or isinstance(value, bool | int):
            return value
        if isinstance(value, str):
            if value[:5].lower() == "data:" and DATA_URL.match(value):
                return self._data_url(value, where, shas)
            if _looks_like_image_path(value):
                return self._string_path(value, where, base_dir, shas)
            return self._text(value, where)
        if isinstance(value, float):
            return value if math.isfinite(value) else None
        if isinstance(value, dict):
            if _is_image_struct(value):
                return self._image_struct(value, where, base_dir, shas)
            return {
                self._key(k): self._value(v, f"{where}.{k}", base_dir, shas) for k, v in value.items()
            }
        if isinstance(value, list | tuple):
            return [self._value(v, f"{where}[{i}]", base_dir, shas) for i, v in enumerate(value)]
        if isinstance(value, bytes | bytearray | memoryview):
            return self._image_bytes(bytes(value), where, shas)
        return self._scalar(value, where, base_dir, shas)

    def _scalar(self, value: Any, where: str, base_dir: Path, shas: list[str]) -> Any:
        """Values of Parquet and numpy types, as JSON can hold them."""
        if isinstance(value, np.ndarray):
            return self._value(value.tolist(), where, base_dir, shas)
        if isinstance(value, np.generic):
            return self._value(value.item(), where, base_dir, shas)
        if isinstance(value, dt.datetime | dt.date | dt.time):
            return value.isoformat()
        if isinstance(value, dt.timedelta):
            return value.total_seconds()
        if isinstance(value, Decimal):
            return str(value) if value.is_finite() else None
        if isinstance(value, uuid.UUID):
            return str(value)
        raise RowRejected(f"{where}: a value of type {type(value).__name__} cannot be stored")

    def _image_bytes(self, data: bytes, where: str, shas: list[str]) -> dict[str, str]:
        sha = hashlib.sha256(data).hexdigest()
        task = self._stored_bytes.get(sha)
        if task is None:
            task = self.images.submit(image_prepare, data=data, sha256=sha)
            self.pending_bytes += len(data)
            self._remember(self._stored_bytes, sha, task)
        return self._check(task, where, None, shas, sha)

    def _check(self, task: ImageTask, where: str, name: str | None, shas: list[str], sha: str = "") -> dict[str, str]:
        """The reference to the task's image, complete now if it is done and good, else checked at settle()."""
        if task.done() and task.collected and task.image is not None:
            sha = task.image.sha256
            shas.append(sha)
            return image_ref(sha)
        ref = image_ref(sha)
        self._checks.append(ImageCheck(task=task, ref=ref, index=len(shas), where=where, name=name))
        shas.append(sha)
        return ref

    @staticmethod
    def _remember(cache: "OrderedDict[Any, ImageTask]", key: Any, task: ImageTask) -> None:
        cache[key] = task
        if len(cache) > PATH_CACHE_SIZE:
            cache.popitem(last=False)

    def _data_url(self, value: str, where: str, shas: list[str]) -> dict[str, str]:
        try:
            data = base64.b64decode(value.partition(",")[2], validate=True)
        except (binascii.Error, ValueError) as exc:
            raise RowRejected(f"{where}: a data URL whose base64 cannot be decoded ({exc})") from exc
        return self._image_bytes(data, where, shas)

    def _image_struct(self, value: dict, where: str, base_dir: Path, shas: list[str]) -> dict[str, str] | None:
        if value.get("bytes"):
            return self._image_bytes(bytes(value["bytes"]), where, shas)
        if value.get("path"):
            return self._image_path(value["path"], where, base_dir, shas)
        return None

    def _string_path(self, value: str, where: str, base_dir: Path, shas: list[str]) -> Any:
        name = value.strip()
        if any(c.isspace() for c in name):
            # Prose that happens to end in ".png" stays text unless it names a file that is there.
            try:
                if not self._paths.resolve(base=base_dir, relative=name)[1]:
                    return self._text(value, where)
            except PathNotAllowed:
                return self._text(value, where)
        return self._image_path(name, where, base_dir, shas)

    def _image_path(
        self, name: str, where: str, base_dir: Path, shas: list[str], *, subfolder: str | None = None
    ) -> dict[str, str]:
        """The image at base_dir/name (or, for a Karpathy record, base_dir/subfolder/name), stored once per path."""
        relatives = [name] if subfolder is None else [name, str(Path(subfolder) / name)]
        tried: list[Path] = []
        for relative in relatives:
            try:
                path, is_file = self._paths.resolve(base=base_dir, relative=relative)
            except PathNotAllowed as exc:
                raise RowRejected(f"{where}: {exc}") from exc
            task = self._stored_paths.get(path)
            if task is None and is_file:
                task = self.images.submit(image_prepare_file, path=path)
                self._remember(self._stored_paths, path, task)
            if task is not None:
                return self._check(task, where, name, shas)
            tried.append(path)
        raise RowRejected(self._not_found(name, where, tried))

    def _not_found(self, name: str, where: str, tried: list[Path]) -> str:
        looked = " or ".join(str(path) for path in tried)
        if self._image_root is None:
            hint = "if the images are kept in another folder, set the source's image folder to it"
        else:
            hint = f"check that the source's image folder ({self._image_root}) is the one that holds them"
        return f"{where}: image file not found: {name} (looked for {looked}); {hint}"
