"""The worker side of mapping: propose a spec for a source, and apply an accepted version to build samples.

Tasks in workers/tasks/mapping.py call these; the page side (start, accept, reject) is in services/mapping.py.
"""
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from curation.bulk_memory import collector_frozen
from curation.errors import ApplicationError
from curation.mapping.apply import FilteredOut, ImageRef, RowMappingError, image_refs, row_map
from curation.mapping.spec import MappingSpec, SpecError, spec_from_dict
from curation.mapping.suggesters import SourceProfile, SuggestionFailed, suggest
from curation.models import Image, Job, Mapping, MappingStagedRow, Source, SourceRow
from curation.selectors import source_rows_first, source_rows_random, source_unfinished_ingest
from curation.services.images import ImageRejected, image_store, image_store_path
from curation.services.jobs import (
    RowError,
    job_already_text,
    job_progress,
    job_reject_rows,
    job_reset_errors,
    job_warn_rows,
)
from curation.services.mapping_rows import SourceRowRead, SourceRowReader, StagedRow, staged_rows_write
from curation.services.paths import PathNotAllowed, path_resolve_relative
from curation.services.samples import SubsetFrozen, samples_swap_in

# Rows read, mapped and staged at a time (the memory of apply is bounded by one batch).
APPLY_BATCH_SIZE = 5000
PROFILE_FIRST_ROWS = 30
PROFILE_RANDOM_ROWS = 20
# A source of at most this many rows is profiled whole.
PROFILE_ALL_ROWS = 200
# Rows with images added to a profile whose first and random rows hold none.
PROFILE_IMAGE_ROWS = 10


class MappingApplyFailed(ApplicationError, RuntimeError):
    """Apply stopped without touching the live samples; the message says why, for the job's page."""

    code = "mapping_apply_failed"
    status = 422


class SourceNotReady(ApplicationError, ValueError):
    """A mapping is suggested for an ingested source only (pages, API, commands and the task share this check)."""

    code = "source_not_ready"
    status = 409


# --- suggest --------------------------------------------------------------------------------------------

def mapping_suggest_check(*, source: Source) -> None:
    """SourceNotReady unless the source is ingested; while it is being ingested, says what its ingest is doing."""
    source.refresh_from_db(fields=["status"])
    if source.status == Source.Status.READY:
        return
    ingest = source_unfinished_ingest(source=source)
    if ingest is not None:
        doing = job_already_text(ingest, what="its ingest")
        raise SourceNotReady(f"source {source.name} is still being ingested ({doing}); "
                             "suggest a mapping once it is ingested")
    raise SourceNotReady(f"source {source.name} is {source.get_status_display().lower()}; "
                         "suggest a mapping once it is ingested")


def source_profile(*, source: Source, seed: int = 0) -> SourceProfile:
    """The rows the suggesters look at: every row of a small source; else the first ones, some at random, and,
    when none of those holds an image, rows that do (a column of images must not be missed by the sample)."""
    total = SourceRow.objects.filter(source=source).count()
    if total <= PROFILE_ALL_ROWS:
        rows = source_rows_first(source=source, n=PROFILE_ALL_ROWS)
    else:
        rows = source_rows_first(source=source, n=PROFILE_FIRST_ROWS)
        rows += source_rows_random(source=source, n=PROFILE_RANDOM_ROWS, seed=seed, exclude={r.row_number for r in rows})
        if not any(r.image_shas for r in rows):
            seen = {r.row_number for r in rows}
            with_images = SourceRow.objects.filter(source=source).exclude(image_shas=[]).exclude(row_number__in=seen)
            rows += list(with_images.order_by("row_number")[:PROFILE_IMAGE_ROWS])
    return SourceProfile(
        name=source.name,
        layout=source.layout,
        columns=dict(source.columns or {}),
        rows=[r.data for r in rows if isinstance(r.data, dict)],
    )


def mapping_next_version(*, source: Source) -> int:
    """The next version number; callers hold the source's row lock so two writers never take the same one."""
    last = Mapping.objects.filter(source=source).aggregate(last=Max("version"))["last"]
    return (last or 0) + 1


def mapping_suggest(*, source: Source, job: Job | None = None, engine: str = "auto") -> Mapping:
    """Run the suggesters on the source's rows and store the proposal as a new suggested version."""
    if job is not None:
        done = Job.objects.filter(pk=job.pk).values_list("result", flat=True).first() or {}
        if done.get("mapping_id"):  # a redelivered task: the version was already stored
            return Mapping.objects.get(pk=done["mapping_id"])
    mapping_suggest_check(source=source)
    if not SourceRow.objects.filter(source=source).exists():
        raise SuggestionFailed(f"source {source.name} has no rows yet; ingest it first")
    profile = source_profile(source=source)
    outcome = suggest(profile, engine=engine)
    chosen = outcome.chosen
    reasons = [r.to_dict() for r in chosen.reasons]
    reasons += [{"role": "error", "column": None, "text": e, "confidence": 0.0} for e in chosen.errors]
    with transaction.atomic():
        Source.objects.select_for_update().filter(pk=source.pk).first()
        latest = Mapping.objects.filter(source=source).order_by("-version").first()
        same = (
            latest is not None and latest.status == Mapping.Status.SUGGESTED and latest.spec == chosen.spec_json()
            and latest.engine == chosen.engine
        )
        if same and latest is not None:
            mapping = latest
        else:
            mapping = Mapping.objects.create(
                source=source, version=mapping_next_version(source=source), spec=chosen.spec_json(),
                status=Mapping.Status.SUGGESTED, engine=chosen.engine, confidence=round(chosen.confidence, 3),
                reasons=reasons, created_by=job.created_by if job else None,
            )
        if job is not None:
            job.result = {
                "mapping_id": mapping.pk, "version": mapping.version, "engine": chosen.engine,
                "confidence": mapping.confidence, "valid": chosen.is_valid, "tried": outcome.tried,
            }
            Job.objects.filter(pk=job.pk).update(result=job.result, done=1, total=1)
    return mapping


# --- images ---------------------------------------------------------------------------------------------

def source_folder(*, source: Source) -> Path:
    """Where a row's relative image paths point from: the source's image folder, else the data file's folder."""
    if source.image_root:
        return Path(source.image_root)
    location = Path(source.location)
    return location if location.is_dir() else location.parent


def image_refs_resolve(*, refs: list[ImageRef], source: Source, stored: set[str]) -> list[str]:
    """The sha256 of every image a mapped row refers to, storing path and bytes images; RowMappingError if one
    is missing or not an image. `stored` holds shas known to exist (looked up once per batch)."""
    shas = []
    for ref in refs:
        try:
            if ref.kind == "sha":
                if ref.value not in stored:
                    raise RowMappingError(f"image {str(ref.value)[:12]}… is not stored (was the source ingested fully?)")
                shas.append(str(ref.value))
            elif ref.kind == "path":
                base = Path(ref.base) if ref.base else source_folder(source=source)
                if not base.is_absolute():
                    base = source_folder(source=source) / base
                path = path_resolve_relative(base=base, relative=str(ref.value))
                image = image_store_path(path=path)
                stored.add(image.pk)
                shas.append(image.pk)
            else:
                image = image_store(data=ref.value if isinstance(ref.value, bytes) else str(ref.value).encode())
                stored.add(image.pk)
                shas.append(image.pk)
        except (ImageRejected, PathNotAllowed) as exc:
            raise RowMappingError(f"image {str(ref.value)[:80]!r}: {exc}") from exc
    return shas


def stored_shas(refs: list[ImageRef]) -> set[str]:
    wanted = {str(r.value) for r in refs if r.kind == "sha"}
    return set(Image.objects.filter(pk__in=wanted).values_list("pk", flat=True)) if wanted else set()


# --- apply ----------------------------------------------------------------------------------------------

@dataclass
class _Counts:
    rows: int = 0
    built: int = 0
    filtered: int = 0
    rejected: int = 0
    warned: int = 0
    # Seconds spent reading rows, mapping them (images included), writing the stage; swap is added later.
    timings: dict[str, float] = field(default_factory=lambda: {"read": 0.0, "map": 0.0, "stage": 0.0})


def mapping_apply(*, mapping: Mapping, job: Job) -> dict[str, Any]:
    """Build every row under the accepted version, then swap the result in as the subset's samples of the
    source, in one transaction. Safe to run twice; a crash before the swap leaves the old samples as they were."""
    mapping = Mapping.objects.select_related("source", "subset").get(pk=mapping.pk)
    source = mapping.source
    if mapping.status != Mapping.Status.ACCEPTED:
        raise MappingApplyFailed(f"version {mapping.version} is {mapping.get_status_display().lower()}, not accepted; "
                                 "nothing was applied")
    if mapping.subset is None:
        raise MappingApplyFailed(f"version {mapping.version} has no subset; accept it again")
    try:
        spec = spec_from_dict(mapping.spec, columns=source.columns)
    except SpecError as exc:
        raise MappingApplyFailed(f"the spec of version {mapping.version} is not valid: {exc}") from exc
    job_reset_errors(job=job)  # the warnings of an earlier attempt too
    MappingStagedRow.objects.filter(mapping=mapping).delete()
    with collector_frozen():
        counts = _build(spec=spec, mapping=mapping, source=source, job=job)
    if counts.rows and not counts.built and counts.rejected:
        MappingStagedRow.objects.filter(mapping=mapping).delete()
        raise MappingApplyFailed(f"every one of the {counts.rows:,} rows was rejected (see the rejected rows); "
                                 "the previous samples are kept")
    swap_started = time.perf_counter()
    with transaction.atomic():
        locked = Mapping.objects.select_for_update().get(pk=mapping.pk)
        if locked.status != Mapping.Status.ACCEPTED:
            raise MappingApplyFailed(f"version {mapping.version} was superseded while it was being applied; "
                                     "the newer version's job applies instead")
        try:
            swap = samples_swap_in(mapping=locked, subset=mapping.subset)
        except SubsetFrozen as exc:
            raise MappingApplyFailed(str(exc)) from exc
        Mapping.objects.filter(pk=mapping.pk).update(applied_at=timezone.now())
        commit_started = time.perf_counter()
    swap_done = time.perf_counter()
    result = {
        "mapping_id": mapping.pk, "version": mapping.version, "subset_id": mapping.subset_id,
        "rows": counts.rows, "samples": swap.written, "filtered": counts.filtered,
        "rejected": counts.rejected, "warned": counts.warned, "removed": swap.removed,
        # The commit checks the new rows' foreign keys (Django defers them), a large part of the swap.
        "timings": {**{k: round(v, 3) for k, v in counts.timings.items()},
                    "swap": round(swap_done - swap_started, 3),
                    **{f"swap.{k}": v for k, v in swap.timings.items()},
                    "swap.commit": round(swap_done - commit_started, 3)},
    }
    job.result = result
    return result


def mapping_apply_cancelled(*, job: Job) -> None:
    """An apply cancelled while no worker ran it: its staged rows are dropped (the live samples were never touched;
    the next apply would drop them too, this frees the space now) (job_kinds settle)."""
    if job.target_id:
        MappingStagedRow.objects.filter(mapping_id=job.target_id).delete()


def _build(*, spec: MappingSpec, mapping: Mapping, source: Source, job: Job) -> _Counts:
    counts = _Counts()
    job_progress(job=job, done=0, total=SourceRow.objects.filter(source=source).count())
    reader = SourceRowReader(source=source, batch_size=APPLY_BATCH_SIZE)
    for batch in reader:
        started = time.perf_counter()
        mapped: list[tuple[SourceRowRead, Any]] = []
        errors: list[RowError] = []
        warnings: list[RowError] = []
        for row in batch:
            try:
                mapped.append((row, row_map(spec, source_name=source.name, row_number=row.row_number, data=row.data)))
            except RowMappingError as exc:
                errors.append(RowError(message=str(exc), row_number=row.row_number, location=f"row {row.row_number}"))
        stored = stored_shas([ref for _, out in mapped if not isinstance(out, FilteredOut) for ref in out.images])
        staged: list[StagedRow] = []
        for row, out in mapped:
            row_number = row.row_number
            if isinstance(out, FilteredOut):
                counts.filtered += 1
                continue
            try:
                shas = image_refs_resolve(refs=out.images, source=source, stored=stored)
            except RowMappingError as exc:
                errors.append(RowError(message=str(exc), row_number=row_number, location=f"row {row_number}"))
                continue
            staged.append(StagedRow(row_number=row_number, turns=out.turns, image_shas=shas))
            # Each stored image in a row is an object with the image key, and each distinct sha the sample took
            # is one of them: when the row's text holds no more image keys than that, the sample took them all.
            taken = len({ref.value for ref in out.images if ref.kind == "sha"})
            if row.image_keys is not None and row.image_keys <= taken:
                continue
            dropped = _images_left_out(row.data, shas)
            if dropped:
                warnings.append(RowError(message=dropped, row_number=row_number, location=f"row {row_number}"))
        mapped_at = time.perf_counter()
        staged_rows_write(mapping=mapping, rows=staged)
        counts.timings["map"] += mapped_at - started
        counts.timings["stage"] += time.perf_counter() - mapped_at
        counts.rows += len(batch)
        counts.built += len(staged)
        counts.rejected += job_reject_rows(job=job, errors=errors)
        counts.warned += job_warn_rows(job=job, warnings=warnings)
        job_progress(job=job, done=counts.rows)
    counts.timings["read"] = reader.seconds
    return counts


def _images_left_out(data: Any, used: list[str]) -> str:
    """Why the sample lacks images its row stored ('' when it has them all): the mapping does not take their column."""
    if not isinstance(data, dict):
        return ""
    kept = set(used)
    columns = {key: [sha for sha in image_refs(value) if sha not in kept] for key, value in data.items()}
    columns = {key: shas for key, shas in columns.items() if shas}
    if not columns:
        return ""
    n = len({sha for shas in columns.values() for sha in shas})
    names = ", ".join(f"'{key}'" for key in columns)
    return (f"built without {n} stored image{'s' if n != 1 else ''} of column{'s' if len(columns) != 1 else ''} "
            f"{names}: the mapping does not take {'them' if len(columns) != 1 else 'it'}")
