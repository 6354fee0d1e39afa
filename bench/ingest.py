"""Benchmark: ingest N text samples from JSONL through the real ingest service, against a raw psycopg COPY.

Both write the same rows into PostgreSQL in the same run: the service (read, parse, prepare, COPY, progress)
into curation_sourcerow, and a bare COPY of the file's lines into a table of the same shape. Goal: the service
reaches at least half the raw COPY's rate. Needs DATABASE_URL pointing at PostgreSQL; works in a database of
its own (bench_ingest), created and dropped here.

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python bench/ingest.py [--quick] [--rows N]
"""
import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from curation.services import job_kinds

BENCH_DB = "bench_ingest"
GOAL_RATIO = 0.5
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchdb import database_drop, database_recreate, database_url  # noqa: E402  (bench/ is on sys.path)


def _write_samples(path: Path, count: int) -> None:
    subjects = ["chart", "table", "receipt", "street sign", "diagram", "menu", "poster", "screenshot"]
    with path.open("w") as handle:
        for i in range(count):
            subject = subjects[i % len(subjects)]
            record = {
                "id": f"sample-{i}",
                "messages": [
                    {"role": "user", "content": f"What does the {subject} number {i} say? Answer in one sentence."},
                    {"role": "assistant", "content": f"The {subject} reads \"item {i * 7 % 1000}\", priced at {i % 97}.{i % 10}0."},
                ],
                "category": "ocr_qa",
                "difficulty": i % 5,
            }
            handle.write(json.dumps(record) + "\n")


def _run_service(path: Path) -> tuple[float, int, int]:
    from curation.models import SourceRow
    from curation.services.ingest import source_ingest
    from curation.services.jobs import job_create
    from curation.services.sources import source_register

    source = source_register(name=f"bench-{time.time_ns()}", location=str(path))
    job = job_create(kind=job_kinds.INGEST.key, target=source)
    started = time.perf_counter()
    source_ingest(source=source, job=job)
    elapsed = time.perf_counter() - started
    return elapsed, SourceRow.objects.filter(source=source).count(), source.pk


def _run_reingest(path: Path) -> float:
    from curation.models import Source
    from curation.services.ingest import source_ingest
    from curation.services.jobs import job_create

    source = Source.objects.order_by("-id").first()
    job = job_create(kind=job_kinds.INGEST.key, target=source)
    started = time.perf_counter()
    source_ingest(source=source, job=job)
    return time.perf_counter() - started


def _run_raw_copy(url: str, path: Path, source_id: int) -> tuple[float, int]:
    """The same file's lines COPYed as they are into a table equivalent to curation_sourcerow: the ceiling.

    Equivalent: the same columns, defaults, unique index and the same deferred foreign key to the source,
    so both sides pay the same database costs per row and the ratio measures what the service adds.
    """
    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS raw_rows")
        conn.execute("CREATE TABLE raw_rows (LIKE curation_sourcerow INCLUDING ALL)")
        conn.execute(
            "ALTER TABLE raw_rows ADD FOREIGN KEY (source_id) REFERENCES curation_source (id) DEFERRABLE INITIALLY DEFERRED"
        )
        conn.commit()
        started = time.perf_counter()
        with conn.cursor() as cursor, path.open("rb") as handle:
            with cursor.copy("COPY raw_rows (source_id, row_number, data, image_shas) FROM STDIN") as copy:
                for number, line in enumerate(handle):
                    copy.write_row((source_id, number, line.rstrip(b"\n").decode(), "[]"))
        conn.commit()
        elapsed = time.perf_counter() - started
        count = conn.execute("SELECT count(*) FROM raw_rows").fetchone()[0]
    return elapsed, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--quick", action="store_true", help="20k rows: finishes well under a minute")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side; the best one counts")
    args = parser.parse_args()
    rows = 20_000 if args.quick else args.rows

    admin_url = os.environ.get("DATABASE_URL", "")
    if not admin_url.startswith("postgres"):
        raise SystemExit("DATABASE_URL must point at PostgreSQL")
    bench_url = database_url(admin_url, BENCH_DB)
    database_recreate(admin_url, BENCH_DB)
    workdir = Path(tempfile.mkdtemp(prefix="bench_ingest_"))
    os.environ["DATABASE_URL"] = bench_url
    os.environ["FINECURATE_DATA_ROOTS"] = str(workdir)
    os.environ["FINECURATE_VAR_DIR"] = str(workdir / "var")
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connections

    try:
        call_command("migrate", verbosity=0)
        path = workdir / "samples.jsonl"
        _write_samples(path, rows)
        # Alternating runs, best of each: the machine may be busy with other work during any one of them.
        service_runs: list[float] = []
        raw_runs: list[float] = []
        for _ in range(args.repeat):
            seconds, service_rows, source_id = _run_service(path)
            service_runs.append(seconds)
            seconds, raw_rows = _run_raw_copy(bench_url, path, source_id)
            raw_runs.append(seconds)
        service_s, raw_s = min(service_runs), min(raw_runs)
        reingest_s = _run_reingest(path)
    finally:
        connections.close_all()
        database_drop(admin_url, BENCH_DB)
        for file in sorted(workdir.rglob("*"), reverse=True):
            file.rmdir() if file.is_dir() else file.unlink()
        workdir.rmdir()

    assert service_rows == raw_rows == rows, (service_rows, raw_rows, rows)
    service_rate, raw_rate, reingest_rate = rows / service_s, rows / raw_s, rows / reingest_s
    ratio = service_rate / raw_rate
    print(f"rows:                         {rows:,} (best of {args.repeat} runs each)")
    print(f"ingest service (new source):  {service_rate:,.0f} samples/s ({service_s:.2f} s)")
    print(f"ingest service (re-ingest):   {reingest_rate:,.0f} samples/s ({reingest_s:.2f} s, upsert path)")
    print(f"raw psycopg COPY:             {raw_rate:,.0f} samples/s ({raw_s:.2f} s)")
    print(f"every run (samples/s):        service {[round(rows / t) for t in service_runs]}, raw {[round(rows / t) for t in raw_runs]}")
    print(f"ratio service / raw:          {ratio:.2f} (goal >= {GOAL_RATIO})")
    print(
        json.dumps(
            {
                "bench": "ingest",
                "rows": rows,
                "repeat": args.repeat,
                "service_samples_per_s": round(service_rate),
                "reingest_samples_per_s": round(reingest_rate),
                "raw_copy_samples_per_s": round(raw_rate),
                "ratio": round(ratio, 3),
                "goal": f"ingest service >= {GOAL_RATIO} x raw psycopg COPY samples/s",
                "met": ratio >= GOAL_RATIO,
            }
        )
    )


if __name__ == "__main__":
    main()
