"""Selectors: every read the pages, the API and the workers share."""
import random

from django.contrib.contenttypes.models import ContentType
from django.db import connection, models

from curation.models import Job, JobError, Mapping, Source, SourceRow, Subset
from curation.services import job_kinds


def job_latest_for(*, target: models.Model, kind: str | None = None) -> Job | None:
    jobs = Job.objects.filter(target_type=ContentType.objects.get_for_model(target), target_id=str(target.pk))
    if kind:
        jobs = jobs.filter(kind=kind)
    return jobs.order_by("-created_at", "-id").first()


# --- sources and their rows (ingest) ---

# Rows per page of a source's row browser.
SOURCE_ROWS_PAGE_SIZE = 25


def jobs_stalled() -> list[Job]:
    """Running jobs whose worker stopped beating (Job.is_stalled), oldest first: what an operator retries or
    cancels after a crash. The silence is checked per job, since a parent is stalled only when its batches are."""
    running = Job.objects.filter(state=Job.State.RUNNING).order_by("created_at", "pk")
    return [job for job in running if job.is_stalled]


def sources_list() -> models.QuerySet[Source]:
    return Source.objects.select_related("created_by").order_by("-created_at", "-id")


def source_ingest_job(*, source: Source) -> Job | None:
    """The source's latest ingest job (the one its page shows)."""
    return job_latest_for(target=source, kind=job_kinds.INGEST.key)


def source_unfinished_ingest(*, source: Source) -> Job | None:
    return (
        Job.objects.filter(
            kind=job_kinds.INGEST.key,
            target_type=ContentType.objects.get_for_model(Source),
            target_id=str(source.pk),
            state__in=[Job.State.QUEUED, Job.State.RUNNING],
        )
        .order_by("-created_at", "-id")
        .first()
    )


def source_rows_page(
    *, source: Source, after: int | None = None, before: int | None = None, size: int = SOURCE_ROWS_PAGE_SIZE
) -> tuple[list[SourceRow], int | None, int | None]:
    """One page of rows by keyset on (source, row_number): (rows, before for the previous page, after for the next).

    Never counts: a page costs one index range scan however many rows the source has.
    """
    rows_of_source = SourceRow.objects.filter(source=source)
    if before is not None:
        rows = list(rows_of_source.filter(row_number__lt=before).order_by("-row_number")[: size + 1])
        has_more_before = len(rows) > size
        rows = rows[:size][::-1]
        has_more_after = True
    else:
        if after is not None:
            rows_of_source = rows_of_source.filter(row_number__gt=after)
        rows = list(rows_of_source.order_by("row_number")[: size + 1])
        has_more_after = len(rows) > size
        rows = rows[:size]
        has_more_before = after is not None and SourceRow.objects.filter(source=source, row_number__lte=after).exists()
    prev_before = rows[0].row_number if rows and has_more_before else None
    next_after = rows[-1].row_number if rows and has_more_after else None
    return rows, prev_before, next_after


def source_image_count(*, source: Source) -> int:
    """Distinct images the source's rows refer to, counted in the database (no set of them in memory)."""
    table = SourceRow._meta.db_table
    if connection.vendor == "postgresql":
        sql = (
            f"SELECT count(DISTINCT sha) FROM {table} r, jsonb_array_elements_text(r.image_shas) sha "  # noqa: S608
            "WHERE r.source_id = %s"
        )
    else:
        sql = f"SELECT count(DISTINCT j.value) FROM {table} r, json_each(r.image_shas) j WHERE r.source_id = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [source.pk])
        return int(cursor.fetchone()[0])


# --- mapping: versions, and the rows a preview shows ---

# Rows scanned to find the ones a mapping finds hardest (every one is mapped, so keep it bounded).
MAPPING_HARDEST_SCAN_ROWS = 300


def mapping_versions(*, source: Source) -> list[Mapping]:
    return list(Mapping.objects.filter(source=source).select_related("created_by", "decided_by", "subset").order_by("-version"))


def mapping_accepted(*, source: Source) -> Mapping | None:
    return Mapping.objects.filter(source=source, status=Mapping.Status.ACCEPTED).select_related("subset").first()


def source_rows_first(*, source: Source, n: int) -> list[SourceRow]:
    return list(SourceRow.objects.filter(source=source).order_by("row_number")[:n])


def source_rows_random(*, source: Source, n: int, seed: int, exclude: set[int] | None = None) -> list[SourceRow]:
    """About n rows picked at random (reproducibly by seed) by row number, without a full-table ORDER BY random()."""
    last = SourceRow.objects.filter(source=source).aggregate(last=models.Max("row_number"))["last"]
    if last is None:
        return []
    picker = random.Random(seed)  # noqa: S311 (sampling rows to show, not security)
    candidates = [n_ for n_ in range(last + 1) if n_ not in (exclude or set())] if last < 10 * n + 50 else None
    if candidates is not None:
        wanted = picker.sample(candidates, min(n, len(candidates)))
    else:
        wanted = [picker.randint(0, last) for _ in range(3 * n)]
    rows = {r.row_number: r for r in SourceRow.objects.filter(source=source, row_number__in=wanted)}
    picked = [rows[w] for w in dict.fromkeys(wanted) if w in rows and w not in (exclude or set())]
    return picked[:n]


def source_rows_scan(*, source: Source, limit: int = MAPPING_HARDEST_SCAN_ROWS, seed: int = 0) -> list[SourceRow]:
    """Rows to rank by difficulty: the first half of `limit`, and the rest spread at random over the source."""
    first = source_rows_first(source=source, n=limit // 2)
    spread = source_rows_random(source=source, n=limit - len(first), seed=seed, exclude={r.row_number for r in first})
    return first + spread


# --- lookups by what a person types on the command line ----------------------------------------------


def subset_by_name_or_id(*, key: str) -> Subset | None:
    """The subset named `key`, else the one whose id is `key`."""
    subset = Subset.objects.filter(name=key).first()
    if subset is None and key.isdigit():
        subset = Subset.objects.filter(pk=int(key)).first()
    return subset


def source_by_name_or_id(*, key: str) -> Source | None:
    """The source named `key`, else the one whose id is `key`."""
    source = Source.objects.filter(name=key).first()
    if source is None and key.isdigit():
        source = Source.objects.filter(pk=int(key)).first()
    return source


def job_error_reasons(*, job: Job, limit: int = 5) -> list[tuple[str, int]]:
    """The most frequent reasons a job rejected rows, with how many rows each (warnings left out)."""
    rows = (
        JobError.objects.filter(job=job, is_warning=False).order_by().values_list("message")
        .annotate(n=models.Count("id")).order_by("-n", "message")[:limit]
    )
    return [(message, n) for message, n in rows]


def source_has_rows(*, source: Source) -> bool:
    return SourceRow.objects.filter(source=source).exists()
