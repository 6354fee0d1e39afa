"""Sources: register a file or folder (or an upload) under an allowed data root, and start its ingest."""
import uuid
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser, User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils.text import get_valid_filename

from curation.ingest.readers import SourceUnreadable, format_detect
from curation.models import Job, Source
from curation.selectors import source_unfinished_ingest
from curation.services.jobs import job_create, job_enqueue
from curation.services.paths import PathNotAllowed, allowed_roots, path_check_allowed


def _existing_path_resolve(value: str, *, field: str) -> Path:
    """An absolute path, or one relative to a data root, checked to lie under an allowed root and to exist."""
    candidates = [Path(value)] if Path(value).is_absolute() else [root / value for root in allowed_roots()]
    try:
        resolved = [path_check_allowed(path=c) for c in candidates]
    except PathNotAllowed as exc:
        raise ValidationError({field: str(exc)}) from exc
    existing = next((p for p in resolved if p.exists()), None)
    if existing is None:
        raise ValidationError({field: f"{value} does not exist"})
    return existing


def _location_resolve(location: str) -> Path:
    location = location.strip()
    if not location:
        raise ValidationError({"location": "Give the path of a file or folder under an allowed data root."})
    return _existing_path_resolve(location, field="location")


def _image_root_resolve(image_root: str) -> str:
    """The folder relative image paths are taken from, resolved; '' (the data file's folder) when not given."""
    image_root = image_root.strip()
    if not image_root:
        return ""
    folder = _existing_path_resolve(image_root, field="image_root")
    if not folder.is_dir():
        raise ValidationError({"image_root": f"{image_root} is a file; the image folder must be a folder."})
    return str(folder)


def _is_parquet(path: Path) -> bool:
    with path.open("rb") as handle:
        return handle.read(4) == b"PAR1"


def source_register(
    *,
    name: str,
    location: str,
    format: str = "auto",
    origin: str = "",
    license: str = "",
    license_unknown: bool = False,
    citation: str = "",
    description: str = "",
    created_by: AbstractBaseUser | AnonymousUser | None = None,
    image_root: str = "",
) -> Source:
    """Register a source; ValidationError (by field) for a taken name, a path outside the roots or missing, a bad format.

    image_root, when given, is the folder relative image paths in the rows are found in (e.g. a COCO folder).
    """
    name = name.strip()
    if not name:
        raise ValidationError({"name": "A source needs a name."})
    if Source.objects.filter(name__iexact=name).exists():
        raise ValidationError({"name": f"A source named {name!r} already exists."})
    if format not in Source.Format.values:
        raise ValidationError({"format": f"Unknown format {format!r}; choose one of {', '.join(Source.Format.values)}."})
    path = _location_resolve(str(location))
    image_folder = _image_root_resolve(str(image_root))
    detected = format
    if format == Source.Format.AUTO:
        try:
            detected = format_detect(path)
        except SourceUnreadable as exc:
            raise ValidationError({"format": str(exc)}) from exc
    elif format == Source.Format.IMAGEFOLDER and not path.is_dir():
        raise ValidationError({"format": f"{path.name} is a file; an image folder source is a folder."})
    elif format != Source.Format.IMAGEFOLDER and path.is_dir() and format_detect(path) == Source.Format.IMAGEFOLDER:
        raise ValidationError({"format": f"{path.name} holds no {format} files."})
    elif path.is_file() and (format == Source.Format.PARQUET) != _is_parquet(path):
        # Caught now, not by a failed ingest: a source's format cannot be changed once it is registered.
        what = "not a Parquet file" if format == Source.Format.PARQUET else "a Parquet file"
        raise ValidationError({"format": f"{path.name} is {what}; choose its format or 'Detect from the file'."})
    if image_folder and detected == Source.Format.IMAGEFOLDER:
        raise ValidationError({"image_root": "An image folder source holds its images itself; leave this empty."})
    try:
        with transaction.atomic():
            return Source.objects.create(
                name=name,
                location=str(path),
                image_root=image_folder,
                format=format,
                origin=origin.strip(),
                license=license.strip(),
                license_unknown=license_unknown and not license.strip(),
                citation=citation.strip(),
                description=description.strip(),
                created_by=created_by if isinstance(created_by, User) else None,
            )
    except IntegrityError as exc:  # the same name registered at the same moment
        raise ValidationError({"name": f"A source named {name!r} already exists."}) from exc


def source_upload_save(*, upload: UploadedFile) -> Path:
    """Save an uploaded file under FINECURATE_UPLOAD_DIR (a folder of its own, so names never clash)."""
    name = get_valid_filename(Path(upload.name or "upload").name)
    target = Path(settings.FINECURATE_UPLOAD_DIR) / uuid.uuid4().hex / name
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    return target


def source_ingest_prepare(*, source: Source, by: AbstractBaseUser | AnonymousUser | None = None) -> tuple[Job, bool]:
    """The ingest job to run: the one already queued or running, or a new one. (job, created)."""
    with transaction.atomic():
        Source.objects.select_for_update().filter(pk=source.pk).first()
        running = source_unfinished_ingest(source=source)
        if running is not None:
            return running, False
        job = job_create(
            kind=Job.Kind.INGEST,
            target=source,
            params={"location": source.location, "image_root": source.image_root, "format": source.format},
            created_by=by if isinstance(by, User) else None,
        )
        Source.objects.filter(pk=source.pk).update(status=Source.Status.INGESTING)
        source.status = Source.Status.INGESTING
        return job, True


def source_ingest_start(*, source: Source, by: AbstractBaseUser | AnonymousUser | None = None) -> Job:
    """Create the ingest Job and enqueue the worker task after commit (an ingest already under way is returned)."""
    with transaction.atomic():
        job, created = source_ingest_prepare(source=source, by=by)
        if created:
            job_enqueue(job=job)
    return job
