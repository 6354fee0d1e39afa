"""Images: validate bytes with Pillow, refuse decompression bombs, store once by sha256; remove those nothing uses."""
import hashlib
import io
import os
import threading
import uuid
import warnings
from pathlib import Path

import simplejpeg
from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from curation.bulk_copy import rows_upsert_by_copy
from curation.errors import ApplicationError
from curation.models import BenchmarkImage, Image, Job, MappingStagedRow, SampleImage, SourceRow
from curation.services import job_kinds
from curation.services.paths import PathNotAllowed, path_check_allowed

# Formats a training pipeline can decode; anything else is rejected rather than stored.
ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF"}
# A JPEG is checked by decoding it at 1/JPEG_CHECK_SCALE of its size (the smallest scale libjpeg offers).
JPEG_CHECK_SCALE = 8
JPEG_START = b"\xff\xd8\xff"
# Pillow reads a JPEG whose APP2 segment holds this as MPO (a camera's multi-picture file), a format not accepted:
# such files go to Pillow, so the verdict stays its own.
MPO_MARKER = b"MPF\x00"
MPO_MARKER_WITHIN = 65_536
# Folders of MEDIA_ROOT/images this process has made or seen, so that writing an image costs no mkdir
# (there are 65,536 of them, images/ab/cd/).
MADE_FOLDERS_LIMIT = 70_000
_made_folders: set[str] = set()
# Image rows inserted per statement when an ingest writes the images it has checked (SQLite; PostgreSQL COPYs them).
IMAGE_INSERT_BATCH = 1000


class ImageRejected(ApplicationError, ValueError):
    """The bytes are not an image we keep; the message says why, for the job's rejected rows."""

    code = "image_rejected"
    status = 400


def image_inspect(*, data: bytes) -> tuple[str, int, int]:
    """(format, width, height) of an image, or ImageRejected. Decodes all of it so truncated files fail here.

    A JPEG is decoded at an eighth of its size (libjpeg's scaled decoding), its luminance only: every byte of its
    compressed data is still read and entropy-decoded, so what fails a full decode fails this one (truncated and
    corrupt files are tested), in a fraction of the time. A plain JPEG is checked by simplejpeg first (libjpeg-turbo
    without Pillow's Python around it, and without the GIL); one it has anything to say about, Pillow decides.
    """
    if not data:
        raise ImageRejected("empty image")
    if len(data) > settings.FINECURATE_MAX_IMAGE_BYTES:
        raise ImageRejected(f"image of {len(data):,} bytes is over the limit of {settings.FINECURATE_MAX_IMAGE_BYTES:,}")
    if data[:3] == JPEG_START and data.find(MPO_MARKER, 0, MPO_MARKER_WITHIN) < 0:
        checked = _jpeg_check(data)
        if checked is not None:
            return checked
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            with PILImage.open(io.BytesIO(data)) as img:
                fmt = (img.format or "").upper()
                width, height = img.size
                _pixels_check(width, height)
                if fmt == "JPEG":
                    # Luminance only where the colours are YCbCr: libjpeg still decodes every component's data.
                    img.draft("L" if img.mode == "RGB" else None,
                              (max(1, width // JPEG_CHECK_SCALE), max(1, height // JPEG_CHECK_SCALE)))
                img.load()
    except ImageRejected:
        raise
    except (PILImage.DecompressionBombWarning, PILImage.DecompressionBombError) as exc:
        raise ImageRejected(f"decompression bomb refused: {exc}") from exc
    except UnidentifiedImageError as exc:
        raise ImageRejected("not an image Pillow can read") from exc
    except Exception as exc:  # Pillow's decoders raise assorted types (struct.error, IndexError...) on hostile files
        raise ImageRejected(f"corrupt image: {exc}") from exc
    if fmt not in ACCEPTED_FORMATS:
        raise ImageRejected(f"image format {fmt or 'unknown'} is not accepted")
    return fmt, width, height


def _pixels_check(width: int, height: int) -> None:
    if width * height > settings.FINECURATE_MAX_IMAGE_PIXELS:
        raise ImageRejected(f"image of {width}x{height} pixels is over the limit of "
                            f"{settings.FINECURATE_MAX_IMAGE_PIXELS:,} (decompression bomb?)")


def _jpeg_check(data: bytes) -> tuple[str, int, int] | None:
    """image_inspect of a JPEG that libjpeg decodes without a single warning; None where Pillow must decide (a
    warning, a colour space other than YCbCr or grey, a header libjpeg refuses): Pillow accepts some files that
    libjpeg warns about, and its verdict is the one kept."""
    try:
        height, width, colorspace, _ = simplejpeg.decode_jpeg_header(data)
    except ValueError:
        return None
    if colorspace not in ("YCbCr", "Gray") or width <= 0 or height <= 0:
        return None
    _pixels_check(width, height)
    try:
        simplejpeg.decode_jpeg(data, colorspace="GRAY", strict=True, min_height=max(1, height // JPEG_CHECK_SCALE),
                               min_width=max(1, width // JPEG_CHECK_SCALE))
    except ValueError:
        return None
    return "JPEG", width, height


def image_store(*, data: bytes) -> Image:
    """Store the image bytes under MEDIA_ROOT by sha256 and return its row; the same bytes twice are stored once."""
    sha256 = hashlib.sha256(data).hexdigest()
    existing = Image.objects.filter(pk=sha256).first()
    if existing is not None:
        _write_file(existing, data)
        return existing
    fmt, width, height = image_inspect(data=data)
    image = Image(sha256=sha256, width=width, height=height, format=fmt, bytes=len(data))
    _write_file(image, data)
    try:
        with transaction.atomic():
            image.save(force_insert=True)
    except IntegrityError:  # another worker stored the same bytes at the same moment
        image = Image.objects.get(pk=sha256)
    return image


def image_prepare(*, data: bytes, sha256: str | None = None) -> Image:
    """Check the bytes and write their file (safe from any thread: no database); the Image is not saved yet,
    image_rows_insert saves a batch of them. ImageRejected if the bytes are not an image we keep."""
    fmt, width, height = image_inspect(data=data)
    image = Image(sha256=sha256 or hashlib.sha256(data).hexdigest(), width=width, height=height, format=fmt,
                  bytes=len(data))
    _write_file(image, data)
    return image


def image_prepare_file(*, path: Path) -> Image:
    """image_prepare for a file whose resolved path has been checked against the data roots: read once, then
    hashed, checked and written from memory."""
    return image_prepare(data=_image_file_bytes(path))


def _image_file_bytes(path: Path) -> bytes:
    """The bytes of an image file already checked against the data roots, never more than the size limit."""
    try:
        size = path.stat().st_size
        if size > settings.FINECURATE_MAX_IMAGE_BYTES:
            raise ImageRejected(f"image of {size:,} bytes is over the limit of {settings.FINECURATE_MAX_IMAGE_BYTES:,}")
        with path.open("rb") as handle:
            # The size read, and one byte more to see whether the file grew meanwhile: a read of the limit would
            # allocate (and free) the limit's bytes for every image, which costs more than reading it.
            data = handle.read(size + 1)
            if len(data) > size:  # it grew: what it holds now, never more than the limit
                data += handle.read(settings.FINECURATE_MAX_IMAGE_BYTES + 1 - len(data))
    except OSError as exc:
        raise ImageRejected(f"image file cannot be read: {exc.strerror or exc}") from exc
    if len(data) > settings.FINECURATE_MAX_IMAGE_BYTES:
        raise ImageRejected(f"image of more than {settings.FINECURATE_MAX_IMAGE_BYTES:,} bytes is over the limit")
    return data


def image_rows_insert(*, images: list[Image]) -> None:
    """Save Images made by image_prepare; an image already stored (by anyone) is left as it is."""
    unique = list({image.sha256: image for image in images}.values())
    if connection.vendor != "postgresql":
        Image.objects.bulk_create(unique, batch_size=IMAGE_INSERT_BATCH, ignore_conflicts=True)
        return
    now = timezone.now()
    rows_upsert_by_copy(
        table=Image._meta.db_table,
        columns=(("sha256", "text"), ("width", "integer"), ("height", "integer"), ("format", "text"),
                 ("bytes", "bigint"), ("created_at", "timestamptz")),
        rows=((image.sha256, image.width, image.height, image.format, image.bytes, now) for image in unique),
        on_conflict="ON CONFLICT (sha256) DO NOTHING",
    )


def image_store_path(*, path: Path) -> Image:
    """Store an image file read from an allowed data root."""
    try:
        resolved = path_check_allowed(path=path)
    except PathNotAllowed as exc:
        raise ImageRejected(str(exc)) from exc
    if not resolved.is_file():
        raise ImageRejected(f"image file not found: {path}")
    return image_store(data=_image_file_bytes(resolved))


def image_file_path(*, image: Image) -> Path:
    return Path(settings.MEDIA_ROOT) / image.storage_name


# Longest side of the thumbnails pages show, and the formats they are written in (PNG keeps transparency).
THUMBNAIL_PIXELS = 256
THUMBNAIL_FORMATS = ("JPEG", "PNG")
CONTENT_TYPES = {
    "JPEG": "image/jpeg",
    "PNG": "image/png",
    "WEBP": "image/webp",
    "GIF": "image/gif",
    "BMP": "image/bmp",
    "TIFF": "image/tiff",
}


def image_content_type(*, image: Image) -> str:
    return CONTENT_TYPES.get(image.format.upper(), "application/octet-stream")


def image_thumbnail_path(*, image: Image) -> tuple[Path, str]:
    """(path, content type) of a small copy for pages, made on first use and kept; small images are their own."""
    if max(image.width, image.height) <= THUMBNAIL_PIXELS:
        return image_file_path(image=image), image_content_type(image=image)
    with PILImage.open(image_file_path(image=image)) as img:
        keep_alpha = img.mode in ("RGBA", "LA", "P")
        fmt, content_type = ("PNG", "image/png") if keep_alpha else ("JPEG", "image/jpeg")
        target = _thumbnail_file(image.sha256, fmt)
        if target.exists():
            return target, content_type
        img.draft("RGB", (THUMBNAIL_PIXELS, THUMBNAIL_PIXELS))
        small = img.convert("RGBA" if keep_alpha else "RGB")
        small.thumbnail((THUMBNAIL_PIXELS, THUMBNAIL_PIXELS))
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(f"{target.suffix}.{uuid.uuid4().hex}.part")
    small.save(tmp, format=fmt)
    tmp.replace(target)
    return target, content_type


def _thumbnail_file(sha256: str, fmt: str) -> Path:
    return Path(settings.MEDIA_ROOT) / "thumbs" / sha256[:2] / f"{sha256}.{fmt.lower()}"


def image_read(*, image: Image) -> bytes:
    return image_file_path(image=image).read_bytes()


def _write_file(image: Image, data: bytes) -> None:
    # Plain strings and os calls below: this runs once per new image of an ingest, where pathlib's objects cost
    # more than the file system calls they make.
    target = str(image_file_path(image=image))
    try:
        if os.stat(target).st_size == len(data):
            return
    except FileNotFoundError:
        pass
    # Write then rename, so a reader never sees half an image. The temporary name is this thread's own: two
    # workers (or two threads of one ingest) may store the same image at once.
    tmp = f"{target}.{os.getpid()}-{threading.get_ident()}.part"
    folder = os.path.dirname(target)
    if folder not in _made_folders:
        os.makedirs(folder, exist_ok=True)
        if len(_made_folders) < MADE_FOLDERS_LIMIT:
            _made_folders.add(folder)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    except FileNotFoundError:  # the folder went since (a test's MEDIA_ROOT, an operator's clean-up)
        os.makedirs(folder, exist_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    finally:
        os.close(fd)
    os.replace(tmp, target)


# Jobs that write references to stored images: a clean-up while one is unfinished could remove an image it just reused.
IMAGE_WRITING_KINDS = (job_kinds.INGEST.key, job_kinds.APPLY_MAPPING.key, job_kinds.BENCHMARK_REGISTER.key)
# Image rows deleted per statement.
IMAGE_DELETE_BATCH = 1000


class ImagesInUse(ApplicationError):
    code = "images_in_use"
    status = 409


def images_unused() -> list[str]:
    """The sha256 of every stored image no source row, staged row, sample or benchmark refers to."""
    used_json = [SourceRow._meta.db_table, MappingStagedRow._meta.db_table]
    if connection.vendor == "postgresql":
        from_json = [f"SELECT e.sha FROM {t} r, jsonb_array_elements_text(r.image_shas) e(sha)" for t in used_json]  # noqa: S608
    else:
        from_json = [f"SELECT j.value FROM {t} r, json_each(r.image_shas) j" for t in used_json]  # noqa: S608
    used = " UNION ".join([
        *from_json,
        f"SELECT image_id FROM {SampleImage._meta.db_table}",  # noqa: S608
        f"SELECT image_id FROM {BenchmarkImage._meta.db_table} WHERE image_id IS NOT NULL",  # noqa: S608
    ])
    image = Image._meta.db_table
    # Table names come from the models; there is no value from outside in this statement.
    sql = f"SELECT i.sha256 FROM {image} i WHERE i.sha256 NOT IN ({used}) ORDER BY i.sha256"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]


def images_cleanup(*, dry_run: bool = False) -> int:
    """Remove the images nothing refers to any more (after a source was deleted): their rows, embeddings, files and
    thumbnails. Refused while an ingest, apply or benchmark registration is unfinished. Returns how many."""
    busy = Job.objects.filter(kind__in=IMAGE_WRITING_KINDS, state__in=[Job.State.QUEUED, Job.State.RUNNING])
    if busy.exists():
        ids = ", ".join(f"#{pk}" for pk in busy.values_list("pk", flat=True)[:5])
        raise ImagesInUse(f"Jobs that store images are unfinished ({ids}); run the clean-up when they are done.")
    unused = images_unused()
    if dry_run:
        return len(unused)
    for start in range(0, len(unused), IMAGE_DELETE_BATCH):
        batch = list(Image.objects.filter(pk__in=unused[start:start + IMAGE_DELETE_BATCH]))
        with transaction.atomic():
            Image.objects.filter(pk__in=[i.pk for i in batch]).delete()
        for img in batch:
            image_file_path(image=img).unlink(missing_ok=True)
            for fmt in THUMBNAIL_FORMATS:
                _thumbnail_file(img.sha256, fmt).unlink(missing_ok=True)
    return len(unused)
