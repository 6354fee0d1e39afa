"""Exports: create one (validated, queued as a Job), run it (files, checksums, manifest), expire and clean up."""
import shutil
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth.models import User
from django.db import transaction
from django.utils import timezone

from curation.bulk_memory import collector_frozen
from curation.errors import ApplicationError
from curation.exporters.records import ExportDataError
from curation.exporters.registry import ExportConfigError, columns_clean, filters_clean, format_get
from curation.exporters.runner import export_root, export_write
from curation.models import Export, ExportFile, Job, Subset
from curation.services import job_kinds
from curation.services.actors import actor_user
from curation.services.jobs import job_create, job_enqueue, job_progress


class ExportFailed(ApplicationError):
    """An export could not be written; the message says why, for the curator."""

    code = "export_failed"
    status = 422


def export_create(
    *,
    subsets: Iterable[Subset],
    format: str,
    by: User | None,
    filters: dict[str, Any] | None = None,
    columns: Iterable[str] | None = None,
    name: str = "",
    enqueue: bool = True,
) -> Export:
    """A queued Export of approved subsets with its Job; ExportConfigError says what is wrong with the request."""
    subset_ids = sorted({s.pk for s in subsets})
    if not subset_ids:
        raise ExportConfigError("choose at least one subset", field="subsets")
    format_get(format)
    cleaned_filters = filters_clean(filters)
    cleaned_columns = columns_clean(columns)
    with transaction.atomic():
        # Locked so a subset cannot be reopened between this check and the export's creation.
        locked = list(Subset.objects.select_for_update().filter(pk__in=subset_ids).order_by("name"))
        missing = set(subset_ids) - {s.pk for s in locked}
        if missing:
            raise ExportConfigError(f"no subset with id {', '.join(map(str, sorted(missing)))}", field="subsets")
        drafts = [s.name for s in locked if s.status != Subset.Status.APPROVED]
        if drafts:
            raise ExportConfigError(f"only approved subsets can be exported; not approved: {', '.join(drafts)}", field="subsets")
        export = Export.objects.create(
            name=name.strip()[:200],
            format=format,
            filters=cleaned_filters,
            columns=cleaned_columns,
            created_by=actor_user(by),
        )
        export.subsets.set(locked)
        job = job_create(kind=job_kinds.EXPORT.key, target=export, params={"export_id": export.pk}, created_by=by)
        export.job = job
        export.save(update_fields=["job"])
        if enqueue:
            job_enqueue(job=job)
    return export


def export_run(*, export_id: int, job: Job) -> Export:
    """Write the export's files; safe to run again after a crash (it starts from an empty folder)."""
    export = Export.objects.select_related("created_by").filter(pk=export_id).first()
    if export is None:
        raise ExportFailed(f"export {export_id} was deleted before it could be written")
    if export.state in (Export.State.SUCCEEDED, Export.State.EXPIRED):
        return export
    Export.objects.filter(pk=export.pk).update(state=Export.State.RUNNING)
    root = export_root(export)
    _remove_files(export)
    root.mkdir(parents=True)

    def progress(done: int, total: int) -> None:
        job_progress(job=job, done=done, total=total)

    timings: dict[str, float] = {}
    try:
        with collector_frozen():
            manifest = export_write(export=export, root=root, on_progress=progress, timings=timings)
    except (ExportDataError, ExportConfigError) as exc:
        _fail(export)
        raise ExportFailed(str(exc)) from exc
    except BaseException:
        _fail(export)
        raise
    now = timezone.now()
    Export.objects.filter(pk=export.pk).update(
        state=Export.State.SUCCEEDED,
        manifest=manifest,
        sample_count=manifest["counts"]["out"],
        finished_at=now,
        expires_at=now + timedelta(days=settings.FINECURATE_EXPORT_TTL_DAYS),
    )
    job.result = {"export_id": export.pk, "samples": manifest["counts"]["out"], "files": export.files.count(),
                  "timings": timings}
    export.refresh_from_db()
    return export


def export_cancelled(*, job: Job) -> None:
    """An export cancelled while no worker ran it (queued, or its worker died): failed, its half-written files
    removed, as export_run does when it sees the cancel; else it would stay 'running' and its files be kept for
    ever, since cleanup leaves running exports alone (job_kinds settle)."""
    export = Export.objects.filter(pk=job.params.get("export_id"), state__in=[Export.State.QUEUED, Export.State.RUNNING]).first()
    if export is not None:
        _fail(export)


def export_expire(*, export: Export) -> Export:
    """Delete the export's files now; its row, manifest and checksums stay as the record of what was exported."""
    _remove_files(export)
    Export.objects.filter(pk=export.pk).update(state=Export.State.EXPIRED, expires_at=timezone.now())
    export.refresh_from_db()
    return export


def export_cleanup(*, now: datetime | None = None) -> int:
    """Expire every finished export whose time is up; returns how many."""
    now = now or timezone.now()
    due = Export.objects.filter(expires_at__lte=now).exclude(state__in=[Export.State.EXPIRED, Export.State.RUNNING, Export.State.QUEUED])
    count = 0
    for export in due.order_by("pk").iterator():
        export_expire(export=export)
        count += 1
    return count


def export_file_path(*, export_file: ExportFile) -> Path:
    """The file on disk; never built from a name a client sent, only from the stored row."""
    return Path(settings.MEDIA_ROOT) / export_file.storage_name


def _remove_files(export: Export) -> None:
    shutil.rmtree(export_root(export), ignore_errors=True)
    ExportFile.objects.filter(export=export).delete()


def _fail(export: Export) -> None:
    # Half-written files are of no use to anyone: remove them so nothing can download them.
    _remove_files(export)
    Export.objects.filter(pk=export.pk).update(state=Export.State.FAILED, finished_at=timezone.now())
