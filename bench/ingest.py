"""Benchmark: ingest N text samples from JSONL through the real ingest service, against a raw psycopg COPY;
and a source whose rows each name a 512 px JPEG, against a floor that COPYs the same rows and writes the same
image files (read, sha256, content-addressed file, one image row each), since images take the slow path.

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


IMAGE_SIDE = 512


def _write_image_samples(folder: Path, count: int) -> tuple[Path, dict[str, tuple[int, int]]]:
    """count rows, each naming its own 512x512 JPEG (distinct bytes); the images' (width, height) by file name."""
    from PIL import Image as PILImage
    from PIL import ImageDraw

    images = folder / "images"
    images.mkdir(parents=True, exist_ok=True)
    sizes: dict[str, tuple[int, int]] = {}
    path = folder / "image_samples.jsonl"
    with path.open("w") as handle:
        for i in range(count):
            name = f"images/{i:06d}.jpg"
            picture = PILImage.new("RGB", (IMAGE_SIDE, IMAGE_SIDE), (i * 37 % 256, i * 91 % 256, i * 53 % 256))
            ImageDraw.Draw(picture).text((20 + i % 400, 20 + i * 7 % 400), f"item {i}", fill=(255, 255, 255))
            picture.save(folder / name, format="JPEG", quality=85)
            sizes[name] = (IMAGE_SIDE, IMAGE_SIDE)
            record = {"id": f"img-{i}", "image": name, "conversations": [
                {"from": "human", "value": f"<image>\nWhat number is written on picture {i}?"},
                {"from": "gpt", "value": f"It says item {i}."}]}
            handle.write(json.dumps(record) + "\n")
    return path, sizes


def _run_image_floor(url: str, path: Path, sizes: dict[str, tuple[int, int]], source_id: int, media: Path) -> float:
    """The same rows COPYed with their image sha256s, the same files written content-addressed, one image row each."""
    import hashlib
    import shutil

    shutil.rmtree(media, ignore_errors=True)
    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS raw_image_rows")
        conn.execute("DROP TABLE IF EXISTS raw_images")
        conn.execute("CREATE TABLE raw_image_rows (LIKE curation_sourcerow INCLUDING ALL)")
        conn.execute("CREATE TABLE raw_images (LIKE curation_image INCLUDING ALL)")
        conn.commit()
        started = time.perf_counter()
        images: list[tuple[str, int, int, str, int]] = []
        with conn.cursor() as cursor, path.open("rb") as handle:
            with cursor.copy("COPY raw_image_rows (source_id, row_number, data, image_shas) FROM STDIN") as copy:
                for number, line in enumerate(handle):
                    record = json.loads(line)
                    data = (path.parent / record["image"]).read_bytes()
                    sha = hashlib.sha256(data).hexdigest()
                    target = media / sha[:2] / sha[2:4] / f"{sha}.jpg"
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(data)
                    width, height = sizes[record["image"]]
                    images.append((sha, width, height, "JPEG", len(data)))
                    copy.write_row((source_id, number, line.rstrip(b"\n").decode(), json.dumps([sha])))
            with cursor.copy("COPY raw_images (sha256, width, height, format, bytes, created_at) FROM STDIN") as copy:
                for row in images:
                    copy.write_row((*row, "now"))
        conn.commit()
        return time.perf_counter() - started


def _run_service(path: Path) -> tuple[float, int, int]:
    from curation.models import Job, SourceRow
    from curation.services.ingest import source_ingest
    from curation.services.jobs import job_create
    from curation.services.sources import source_register

    source = source_register(name=f"bench-{time.time_ns()}", location=str(path))
    job = job_create(kind=Job.Kind.INGEST, target=source)
    started = time.perf_counter()
    source_ingest(source=source, job=job)
    elapsed = time.perf_counter() - started
    return elapsed, SourceRow.objects.filter(source=source).count(), source.pk


def _run_reingest(path: Path) -> float:
    from curation.models import Job, Source
    from curation.services.ingest import source_ingest
    from curation.services.jobs import job_create

    source = Source.objects.order_by("-id").first()
    job = job_create(kind=Job.Kind.INGEST, target=source)
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
    parser.add_argument("--image-rows", type=int, default=5_000, help="rows of the image-bearing source (one JPEG each)")
    args = parser.parse_args()
    rows = 20_000 if args.quick else args.rows
    image_rows = 1_000 if args.quick else args.image_rows

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
        # The image-bearing source: each run a new source over fresh media folders, so every image is stored anew.
        image_path, sizes = _write_image_samples(workdir / "with_images", image_rows)
        image_service_runs: list[float] = []
        image_floor_runs: list[float] = []
        for run in range(args.repeat):
            from django.conf import settings

            settings.MEDIA_ROOT = workdir / f"media-{run}"
            seconds, image_service_rows, image_source_id = _run_service(image_path)
            image_service_runs.append(seconds)
            image_floor_runs.append(_run_image_floor(bench_url, image_path, sizes, image_source_id, workdir / "floor-media"))
        assert image_service_rows == image_rows, (image_service_rows, image_rows)
        image_service_s, image_floor_s = min(image_service_runs), min(image_floor_runs)
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
    image_rate, image_floor_rate = image_rows / image_service_s, image_rows / image_floor_s
    image_ratio = image_rate / image_floor_rate
    print(f"image rows (512 px JPEG each): {image_rows:,}: service {image_rate:,.0f} rows/s, floor {image_floor_rate:,.0f} rows/s")
    print(f"ratio service / floor:        {image_ratio:.2f} (goal >= {GOAL_RATIO})")
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
                "image_rows": image_rows,
                "image_service_rows_per_s": round(image_rate),
                "image_floor_rows_per_s": round(image_floor_rate),
                "image_ratio": round(image_ratio, 3),
                "goal": f"ingest service >= {GOAL_RATIO} x raw psycopg COPY samples/s, and on 512 px JPEG rows >= "
                f"{GOAL_RATIO} x a floor that COPYs the same rows and writes the same image files",
                "met": ratio >= GOAL_RATIO and image_ratio >= GOAL_RATIO,
            }
        )
    )


if __name__ == "__main__":
    main()
