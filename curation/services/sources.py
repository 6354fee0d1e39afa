"""Sources: register a file or folder (or an upload) under an allowed data root, edit what was said about it,
and start its ingest. Deleting one, with what goes with it, is services/source_delete.py."""
import uuid
from dataclasses import dataclass
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import User
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils.text import get_valid_filename

from curation.errors import ApplicationError
from curation.ingest.readers import SourceUnreadable, format_detect
from curation.models import Job, Source
from curation.selectors import source_unfinished_ingest
from curation.services import job_kinds
from curation.services.actors import actor_user
from curation.services.decisions import decision_record
from curation.services.jobs import job_already_text, job_create, job_enqueue
from curation.services.paths import PathNotAllowed, allowed_roots, path_check_allowed
from curation.services.source_declaration import SourcePreview, declaration_clean, source_preview


class SourceInvalid(ApplicationError, ValidationError):  # type: ignore[misc]  # both define `message`
    """A source that cannot be registered, with the field at fault: a Django ValidationError by field too, so a
    form shows the message beside that field."""

    code = "invalid_source"
    status = 400

    def __init__(self, field: str, message: str):
        ValidationError.__init__(self, {field: message})  # not ApplicationError's: it would reset the code
        self.message = message
        self.extra = {"field": field}
        self.field = field


def _existing_path_resolve(value: str, *, field: str) -> Path:
    """An absolute path, or one relative to a data root, checked to lie under an allowed root and to exist."""
    candidates = [Path(value)] if Path(value).is_absolute() else [root / value for root in allowed_roots()]
    try:
        resolved = [path_check_allowed(path=c) for c in candidates]
    except PathNotAllowed as exc:
        raise SourceInvalid(field, str(exc)) from exc
    existing = next((p for p in resolved if _exists(p)), None)
    if existing is None:
        raise SourceInvalid(field, f"{value} does not exist")
    return existing


def _exists(path: Path) -> bool:
    try:
        return path.exists()
    except OSError:  # a name too long for the file system names nothing there
        return False


def _location_resolve(location: str) -> Path:
    location = location.strip()
    if not location:
        raise SourceInvalid("location", "Give the path of a file or folder under an allowed data root.")
    return _existing_path_resolve(location, field="location")


def _image_root_resolve(image_root: str) -> str:
    """The folder relative image paths are taken from, resolved; '' (the data file's folder) when not given."""
    image_root = image_root.strip()
    if not image_root:
        return ""
    folder = _existing_path_resolve(image_root, field="image_root")
    if not folder.is_dir():
        raise SourceInvalid("image_root", f"{image_root} is a file; the image folder must be a folder.")
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
    by: User | None = None,
    image_root: str = "",
    declaration: dict[str, object] | None = None,
) -> Source:
    """Register a source; SourceInvalid (by field) for a taken name, a path outside the roots or missing, a bad format.

    image_root, when given, is the folder relative image paths in the rows are found in (e.g. a COCO folder).
    declaration: where a JSON file's records are, a join, an image name pattern, label origin and task
    (services/source_declaration.py); a JSON file with one obvious list of records gets its key filled in.
    """
    name = name.strip()
    if not name:
        raise SourceInvalid("name", "A source needs a name.")
    if Source.objects.filter(name__iexact=name).exists():
        raise SourceInvalid("name", f"A source named {name!r} already exists.")
    if format not in Source.Format.values:
        raise SourceInvalid("format", f"Unknown format {format!r}; choose one of {', '.join(Source.Format.values)}.")
    path = _location_resolve(str(location))
    image_folder = _image_root_resolve(str(image_root))
    detected = format
    if format == Source.Format.AUTO:
        try:
            detected = format_detect(path)
        except SourceUnreadable as exc:
            raise SourceInvalid("format", str(exc)) from exc
    elif format == Source.Format.IMAGEFOLDER and not path.is_dir():
        raise SourceInvalid("format", f"{path.name} is a file; an image folder source is a folder.")
    elif format != Source.Format.IMAGEFOLDER and path.is_dir() and format_detect(path) == Source.Format.IMAGEFOLDER:
        raise SourceInvalid("format", f"{path.name} holds no {format} files.")
    elif path.is_file() and (format == Source.Format.PARQUET) != _is_parquet(path):
        # Caught now, not by a failed ingest: a source's format cannot be changed once it is registered.
        what = "not a Parquet file" if format == Source.Format.PARQUET else "a Parquet file"
        raise SourceInvalid("format", f"{path.name} is {what}; choose its format or 'Detect from the file'.")
    if image_folder and detected == Source.Format.IMAGEFOLDER:
        raise SourceInvalid("image_root", "An image folder source holds its images itself; leave this empty.")
    declared = declaration_clean(path=path, data=dict(declaration or {}), format=format)
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
                created_by=actor_user(by),
                **declared,
            )
    except IntegrityError as exc:  # the same name registered at the same moment
        raise SourceInvalid("name", f"A source named {name!r} already exists.") from exc


# What a curator may change after registering (the location, format and declaration are read by ingest and stay).
EDITABLE_FIELDS = ("name", "license", "license_unknown", "origin", "citation", "description", "image_root",
                   "label_origin", "task_name")


def source_update(
    *,
    source: Source,
    by: User | None,
    name: str | None = None,
    license: str | None = None,
    license_unknown: bool | None = None,
    origin: str | None = None,
    citation: str | None = None,
    description: str | None = None,
    image_root: str | None = None,
    label_origin: str | None = None,
    task_name: str | None = None,
) -> Source:
    """Change what is said about a source (None leaves a field as it is), checked as registration checks it.

    SourceInvalid (by field) for an empty or taken name, an image folder outside the data roots or missing, a value
    too long. The change is a Decision (verdict "edit") with the changed fields before and after. A new image folder
    is read by the next ingest; rows already ingested keep their images.
    """
    with transaction.atomic():
        locked = Source.objects.select_for_update().get(pk=source.pk)
        before = {field: getattr(locked, field) for field in EDITABLE_FIELDS}
        if name is not None:
            name = name.strip()
            if not name:
                raise SourceInvalid("name", "A source needs a name.")
            if Source.objects.filter(name__iexact=name).exclude(pk=locked.pk).exists():
                raise SourceInvalid("name", f"A source named {name!r} already exists.")
            locked.name = name
        for field, value in (("license", license), ("origin", origin), ("citation", citation),
                             ("description", description), ("task_name", task_name)):
            if value is not None:
                setattr(locked, field, value.strip())
        if license_unknown is not None:
            locked.license_unknown = license_unknown
        locked.license_unknown = locked.license_unknown and not locked.license  # a licence given is known
        if label_origin is not None:
            if label_origin not in Source.LabelOrigin.values:
                raise SourceInvalid("label_origin", f"Unknown label origin {label_origin!r}; choose one of "
                                                    f"{', '.join(Source.LabelOrigin.values)}.")
            locked.label_origin = label_origin
        if image_root is not None:
            folder = _image_root_resolve(image_root)
            if folder and Source.Format.IMAGEFOLDER in (locked.format, locked.detected_format):
                raise SourceInvalid("image_root", "An image folder source holds its images itself; leave this empty.")
            locked.image_root = folder
        after = {field: getattr(locked, field) for field in EDITABLE_FIELDS}
        changed = [field for field in EDITABLE_FIELDS if before[field] != after[field]]
        for field in changed:
            longest = getattr(Source._meta.get_field(field), "max_length", None)
            if longest is not None and len(after[field]) > longest:
                raise SourceInvalid(field, f"At most {longest} characters.")
        if not changed:
            return locked
        try:
            with transaction.atomic():
                locked.save(update_fields=changed)
        except IntegrityError as exc:  # the same name given at the same moment
            raise SourceInvalid("name", f"A source named {locked.name!r} already exists.") from exc
        decision_record(by=by, target=locked, verdict="edit", before={f: before[f] for f in changed},
                        after={f: after[f] for f in changed})
    return locked


def source_upload_save(*, upload: UploadedFile) -> Path:
    """Save an uploaded file under FINECURATE_UPLOAD_DIR (a folder of its own, so names never clash)."""
    name = get_valid_filename(Path(upload.name or "upload").name)
    target = Path(settings.FINECURATE_UPLOAD_DIR) / uuid.uuid4().hex / name
    target.parent.mkdir(parents=True, exist_ok=True)
    with target.open("wb") as handle:
        for chunk in upload.chunks():
            handle.write(chunk)
    return target


def source_ingest_prepare(*, source: Source, by: User | None = None) -> tuple[Job, bool]:
    """The ingest job to run: the one already queued or running, or a new one. (job, created)."""
    with transaction.atomic():
        Source.objects.select_for_update().filter(pk=source.pk).first()
        running = source_unfinished_ingest(source=source)
        if running is not None:
            return running, False
        job = job_create(
            kind=job_kinds.INGEST.key,
            target=source,
            params={"location": source.location, "image_root": source.image_root, "format": source.format},
            created_by=by if isinstance(by, User) else None,
        )
        Source.objects.filter(pk=source.pk).update(status=Source.Status.INGESTING)
        source.status = Source.Status.INGESTING
        return job, True


@dataclass(frozen=True)
class IngestRequest:
    """What asking for an ingest did: queued a new job, or found one under way (and what that one is doing)."""

    source: Source
    job: Job
    created: bool

    @property
    def message(self) -> str:
        if self.created:
            return f"Ingest of {self.source.name} queued as job #{self.job.pk}; a worker will read it."
        text = job_already_text(self.job, what=f"an ingest of {self.source.name}")
        return text[:1].upper() + text[1:] + "."


def source_ingest_request(*, source: Source, by: User | None = None) -> IngestRequest:
    """Create the ingest Job and enqueue its task after commit, or return the ingest already under way, untouched."""
    with transaction.atomic():
        job, created = source_ingest_prepare(source=source, by=by)
        if created:
            job_enqueue(job=job)
    return IngestRequest(source=source, job=job, created=created)


def source_ingest_start(*, source: Source, by: User | None = None) -> Job:
    """The ingest job: a new one enqueued after commit, or the one already under way (source_ingest_request says which)."""
    return source_ingest_request(source=source, by=by).job


def source_register_preview(*, location: str, format: str = "auto", declaration: dict[str, object] | None = None) -> SourcePreview:
    """What registering would read: the first records with the declaration applied (nothing stored)."""
    if format not in Source.Format.values:
        raise SourceInvalid("format", f"Unknown format {format!r}; choose one of {', '.join(Source.Format.values)}.")
    path = _location_resolve(str(location))
    return source_preview(path=path, format=format, data=dict(declaration or {}))
