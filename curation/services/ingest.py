"""Ingest a source: stream its records, store their images, write rows in bulk, report progress on its Job.

Memory stays flat whatever the file size: records are read one at a time and flushed every FLUSH_ROWS
rows (or FLUSH_SECONDS, so a slow image source still moves its progress bar). A bad record is rejected
with where and why; the rest goes on. A source that cannot be read at all fails the job (JobFailed).
"""
import logging
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from curation.bulk_memory import collector_frozen
from curation.ingest.columns import ColumnTypes
from curation.ingest.layouts import LAYOUT_SAMPLE_SIZE, layout_detect
from curation.ingest.readers import SourceUnreadable, reader_open
from curation.ingest.readers.base import Reader, Record, records_guarded
from curation.ingest.records import PreparedRow, RecordPreparer, RowRejected, is_image_column
from curation.ingest.writer import RowWriter
from curation.models import Job, Mapping, Source, SourceRow
from curation.selectors import job_latest_for, source_image_count, source_unfinished_ingest
from curation.services import job_kinds
from curation.services.jobs import (
    JobCancelled,
    JobFailed,
    RowError,
    job_progress,
    job_reject_rows,
    job_reset_errors,
)
from curation.services.mapping import mapping_suggest_start
from curation.services.paths import PathNotAllowed, path_check_allowed
from curation.services.source_declaration import source_declaration

logger = logging.getLogger(__name__)

FLUSH_ROWS = 50_000
FLUSH_SECONDS = 1.0
# Rows held in memory (a re-ingest's, or after a row with images) are written once they pass this size.
FLUSH_BYTES = 64 * 1024 * 1024
# Rows held back while their images are checked on the image threads, and the bytes of images given inline
# (Parquet, data URLs) they may hold, before the reading waits for the oldest.
WAITING_ROWS = 256
WAITING_BYTES = 256 * 1024 * 1024
# Rows read at a time when rows written before a column was seen holding images are checked again.
RECHECK_BATCH_ROWS = 2000


@dataclass
class _Run:
    """What one ingest has seen so far."""

    source: Source
    job: Job
    reader: Reader
    total: int | None
    writer: RowWriter
    preparer: RecordPreparer = field(default_factory=RecordPreparer)
    columns: ColumnTypes = field(default_factory=ColumnTypes)
    sample: list[dict[str, Any]] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    # Prepared rows, in the order read, whose images (or an earlier row's) are still being checked.
    waiting: deque[tuple[Record, PreparedRow]] = field(default_factory=deque)
    read: int = 0
    written: int = 0
    rejected: int = 0
    image_refs: int = 0
    next_row: int = 0
    layout: str = ""
    last_flush: float = field(default_factory=time.monotonic)
    cancelled: bool = False


def source_ingest(*, source: Source, job: Job) -> None:
    """Read the source's file or folder into SourceRows; safe to run again (rows are keyed on row_number).

    A source read for the first time then gets a mapping suggestion queued for the curator.
    """
    job_reset_errors(job=job)
    Source.objects.filter(pk=source.pk).update(status=Source.Status.INGESTING)
    run: _Run | None = None
    try:
        with collector_frozen():
            run = _start(source, job)
            _read_all(run)
            _finish(run)
    except BaseException as exc:
        if run is not None:
            run.writer.abort(exc)
        Source.objects.filter(pk=source.pk).update(status=Source.Status.FAILED)
        raise
    finally:
        if run is not None:
            run.preparer.images.close()
    _suggest_first_mapping(source=source, job=job)


def source_ingest_cancelled(*, job: Job) -> None:
    """An ingest cancelled while no worker ran it (queued, or its worker died): the source is left as a run that
    sees the cancel leaves it, failed with the rows it has, instead of 'ingesting' for ever (job_kinds settle)."""
    source = Source.objects.filter(pk=job.target_id).first() if job.target_id else None
    if source is None or source.status != Source.Status.INGESTING or source_unfinished_ingest(source=source) is not None:
        return
    Source.objects.filter(pk=source.pk, status=Source.Status.INGESTING).update(
        status=Source.Status.FAILED, row_count=SourceRow.objects.filter(source=source).count()
    )


def _suggest_first_mapping(*, source: Source, job: Job) -> None:
    """A source ingested for the first time gets a worker's mapping suggestion, ready for a curator to review."""
    source.refresh_from_db(fields=["status"])
    if source.status != Source.Status.READY or Mapping.objects.filter(source=source).exists():
        return
    latest = job_latest_for(target=source, kind=job_kinds.SUGGEST_MAPPING.key)
    if latest is None or latest.is_finished:
        mapping_suggest_start(source=source, by=job.created_by)


def _start(source: Source, job: Job) -> _Run:
    try:
        path = path_check_allowed(path=source.location)
    except PathNotAllowed as exc:
        raise JobFailed(str(exc)) from exc
    try:
        if source.join_location:
            path_check_allowed(path=source.join_location)
    except PathNotAllowed as exc:
        raise JobFailed(f"joined file: {exc}") from exc
    try:
        reader = reader_open(path, source.format, source_declaration(source))
        total = reader.count()
    except SourceUnreadable as exc:
        raise JobFailed(str(exc)) from exc
    try:
        job_progress(job=job, done=0, total=total)
    except JobCancelled:
        pass  # the first flush sees it again and stops the run there
    # Rows of an earlier ingest (or an interrupted attempt) are upserted and pruned rather than COPYed anew.
    replace = SourceRow.objects.filter(source=source).exists()
    logger.info("ingesting %s from %s as %s (%s records expected)", source.name, path, reader.format, total)
    # Relative image paths are taken from the source's image folder when it has one (checked again: roots change).
    try:
        image_root = path_check_allowed(path=source.image_root) if source.image_root else None
    except PathNotAllowed as exc:
        raise JobFailed(f"image folder: {exc}") from exc
    if image_root is not None and not image_root.is_dir():
        raise JobFailed(f"the source's image folder {image_root} is not a folder (any more)")
    return _Run(
        source=source,
        job=job,
        reader=reader,
        total=total,
        writer=RowWriter(source=source, replace=replace),
        preparer=RecordPreparer(image_root=image_root, image_threads=settings.FINECURATE_INGEST_IMAGE_THREADS),
    )


def _read_all(run: _Run) -> None:
    path = Path(run.source.location)
    records = records_guarded(run.reader.records(), path=path, base_dir=path if path.is_dir() else path.parent)
    try:
        for record in records:
            _take(run, record)
            if (run.writer.pending + len(run.errors) >= FLUSH_ROWS or run.writer.buffered_bytes >= FLUSH_BYTES
                    or time.monotonic() - run.last_flush >= FLUSH_SECONDS):
                _flush(run)
                if run.cancelled:
                    return
    except SourceUnreadable as exc:
        raise JobFailed(str(exc)) from exc
    _flush(run)


def _take(run: _Run, record: Record) -> None:
    if record.row_number is not None:
        run.read += 1
        run.next_row = record.row_number + 1
    error = record.error
    if error is None and record.data is not None and record.row_number is not None:
        try:
            prepared = run.preparer.prepare_quick(record.data, json_text=record.json_text)
            if prepared is None:
                prepared = run.preparer.prepare(record.data, base_dir=record.base_dir, text_keys=record.text_keys)
        except RowRejected as exc:
            error = str(exc)
        else:
            if prepared.checks or run.waiting:  # its images are being checked, or an earlier row's: keep the order
                run.waiting.append((record, prepared))
                if run.preparer.pending_bytes >= WAITING_BYTES:
                    _settle(run, keep_waiting=0)
                else:
                    _settle(run, keep_waiting=WAITING_ROWS // 2 if len(run.waiting) >= WAITING_ROWS else None)
            else:
                _keep(run, record, prepared)
            return
    _reject(run, record, error or "no data")


def _keep(run: _Run, record: Record, prepared: PreparedRow) -> None:
    assert record.row_number is not None  # noqa: S101  (only numbered records are prepared)
    if prepared.image_shas:
        # A row with images is written in the transaction that saves its images (the COPY under way ends).
        run.writer.hold()
    try:
        run.writer.add(record.row_number, prepared)
    except RowRejected as exc:
        _reject(run, record, str(exc))
        return
    run.columns.observe(prepared.data, has_images=prepared.json_text is None)
    run.image_refs += len(prepared.image_shas)
    if len(run.sample) < LAYOUT_SAMPLE_SIZE:
        run.sample.append(prepared.data)


def _reject(run: _Run, record: Record, error: str) -> None:
    run.rejected += 1
    run.errors.append(RowError(message=error, row_number=record.row_number, location=record.location))
    if record.row_number is not None:
        run.writer.drop(record.row_number)


def _settle(run: _Run, *, keep_waiting: int | None = None) -> None:
    """Keep (or reject) the waiting rows, oldest first, whose images are checked; and, waiting for their images,
    as many more as it takes to leave at most keep_waiting rows waiting (None: wait for nothing)."""
    preparer = run.preparer
    while run.waiting:
        record, prepared = run.waiting[0]
        must = keep_waiting is not None and len(run.waiting) > keep_waiting
        if not must and not all(check.task.done() for check in prepared.checks):
            break
        run.waiting.popleft()
        try:
            preparer.settle(prepared)
        except RowRejected as exc:
            _reject(run, record, str(exc))
        else:
            _keep(run, record, prepared)
    if not run.waiting:
        preparer.pending_bytes = 0
    run.writer.add_images(preparer.images.take_ready())


def _flush(run: _Run) -> None:
    _settle_all(run)
    run.written += run.writer.flush()
    with transaction.atomic():
        job_reject_rows(job=run.job, errors=run.errors)
        total = max(run.total, run.read) if run.total is not None else None
        try:
            job_progress(job=run.job, done=run.read, total=total)
        except JobCancelled:
            run.cancelled = True
        counts: dict[str, Any] = {"row_count": run.written, "rejected_count": run.rejected}
        if not run.layout and run.sample:
            run.layout = layout_detect(run.sample, format=run.reader.format)
            counts.update(layout=run.layout, detected_format=run.reader.format)
        Source.objects.filter(pk=run.source.pk).update(**counts)
    run.errors = []
    run.last_flush = time.monotonic()
    logger.info("%s: %d records read, %d rows written, %d rejected", run.source.name, run.read, run.written, run.rejected)


def _settle_all(run: _Run) -> None:
    """Every waiting row kept or rejected, its images checked."""
    _settle(run, keep_waiting=0)


def _recheck_image_columns(run: _Run) -> None:
    """Rows written before a column was first seen holding an image kept its strings as text: take each one as an
    image now, storing it when it is one and rejecting its row with the reason when it is not."""
    types = run.columns.as_dict()
    # Columns named for images had every value taken as an image as it was read.
    columns = sorted(c for c in run.preparer.image_columns
                     if not is_image_column(c) and "string" in types.get(c, "").split("|"))
    if not columns:
        return
    base_dir = run.preparer.image_root or (Path(run.source.location) if Path(run.source.location).is_dir()
                                           else Path(run.source.location).parent)
    rows = SourceRow.objects.filter(source=run.source).order_by("row_number")
    last = -1
    while True:
        batch = list(rows.filter(row_number__gt=last).only("pk", "row_number", "data", "image_shas")[:RECHECK_BATCH_ROWS])
        if not batch:
            break
        last = batch[-1].row_number
        rejected: list[int] = []
        fixed: list[SourceRow] = []
        for row in batch:
            texts = [c for c in columns if isinstance(row.data, dict) and isinstance(row.data.get(c), str)
                     and row.data[c].strip()]
            if not texts:
                continue
            shas: list[str] = []
            try:
                for column in texts:
                    row.data[column], stored = run.preparer.column_images(row.data[column], column, base_dir)
                    shas.extend(stored)
            except RowRejected as exc:
                rejected.append(row.row_number)
                run.errors.append(RowError(message=str(exc), row_number=row.row_number, location=f"row {row.row_number}"))
                continue
            row.image_shas = [*row.image_shas, *shas]
            fixed.append(row)
            run.image_refs += len(shas)
        if rejected:
            SourceRow.objects.filter(source=run.source, row_number__in=rejected).delete()
            run.written -= len(rejected)
            run.rejected += len(rejected)
        if fixed:
            SourceRow.objects.bulk_update(fixed, ["data", "image_shas"])
        job_reject_rows(job=run.job, errors=run.errors)
        run.errors = []


def _finish(run: _Run) -> None:
    if not run.cancelled:
        # Whatever an earlier, longer version of the source left beyond its end is no longer in it.
        run.writer.delete_from(run.next_row)
        _recheck_image_columns(run)
        job_progress(job=run.job, done=run.read, total=run.read)
    if not run.layout:
        run.layout = layout_detect(run.sample, format=run.reader.format)
    # Counting distinct images scans the rows: only worth it when some row had one.
    image_count = source_image_count(source=run.source) if run.image_refs else 0
    ok = run.written > 0 and not run.cancelled
    Source.objects.filter(pk=run.source.pk).update(
        status=Source.Status.READY if ok else Source.Status.FAILED,
        row_count=SourceRow.objects.filter(source=run.source).count() if run.cancelled else run.written,
        rejected_count=run.rejected,
        image_count=image_count,
        columns=run.columns.as_dict(),
        detected_format=run.reader.format,
        layout=run.layout,
        ingested_at=timezone.now(),
    )
    run.job.result = {
        "rows": run.written,
        "rejected": run.rejected,
        "images": image_count,
        "format": run.reader.format,
        "layout": run.layout,
    }
    join_report = getattr(run.reader, "report", None)
    if join_report is not None:  # what the join matched, with counts and examples of what it did not
        run.job.result["join"] = join_report.as_dict()
    Job.objects.filter(pk=run.job.pk).update(result=run.job.result)
    logger.info("%s: done, %s", run.source.name, run.job.result)
    if run.cancelled:
        return
    if not run.written:
        name = Path(run.source.location).name
        if run.rejected:
            raise JobFailed(f"no rows could be read from {name}: all {run.rejected:,} records were rejected")
        raise JobFailed(f"{name} holds no records")
