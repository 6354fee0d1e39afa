"""Selectors: every read the pages, the API and the workers share."""
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models

from curation.models import Job, Source, SourceRow


def job_latest_for(*, target: models.Model, kind: str | None = None) -> Job | None:
    jobs = Job.objects.filter(target_type=ContentType.objects.get_for_model(target), target_id=str(target.pk))
    if kind:
        jobs = jobs.filter(kind=kind)
    return jobs.order_by("-created_at", "-id").first()


def jobs_for(*, target: models.Model, limit: int = 20) -> list[Job]:
    return list(
        Job.objects.filter(target_type=ContentType.objects.get_for_model(target), target_id=str(target.pk)).order_by(
            "-created_at", "-id"
        )[:limit]
    )


# --- sources and their rows (ingest) ---

# Rows per page of a source's row browser.
SOURCE_ROWS_PAGE_SIZE = 25


def sources_list() -> models.QuerySet[Source]:
    return Source.objects.select_related("created_by").order_by("-created_at", "-id")


def source_ingest_job(*, source: Source) -> Job | None:
    """The source's latest ingest job (the one its page shows)."""
    return job_latest_for(target=source, kind=Job.Kind.INGEST)


def source_unfinished_ingest(*, source: Source) -> Job | None:
    return (
        Job.objects.filter(
            kind=Job.Kind.INGEST,
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
