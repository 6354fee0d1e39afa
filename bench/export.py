"""Benchmark: Parquet export throughput against plain pyarrow, and peak memory as the subset grows.

1. Throughput: FineCurate's Parquet exporter (database keyset batches, image files, row groups, card,
   checksums, manifest) on a subset of 100k samples, against a plain pyarrow script writing the same rows
   with the same schema, compression and row groups in this run: one server-side SQL cursor, image files
   read from disk, pa.Table.from_pylist per row group. Goal: exporter samples/s >= 0.5 x that script's.
   Also reported (full run): pyarrow writing the same rows already held in memory, a bound no exporter that reads them reaches.
2. Memory: the exporter runs in a fresh subprocess on a small and a 10x larger subset (100k and 1M;
   --quick: 10k and 100k); each reports its peak RSS (VmHWM of /proc/self/status). Goal: large / small <= 1.5.

Every image is ~2.7 KB (a JPEG followed by random bytes): small images make the per-sample cost count.

It creates its own database (bench_export on the server of DATABASE_URL) and media folder, and drops both;
Django is imported inside the functions because the environment must point at them first.
Usage: DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/x .venv/bin/python bench/export.py [--quick]
"""
import argparse
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from benchdb import database_drop, database_recreate, database_url  # noqa: E402  (bench/ is on sys.path)

BENCH_DB = "bench_export"
IMAGE_SIDE = 32
DISTINCT_IMAGES = 20_000
RANDOM_TAIL_BYTES = 2048  # ~2.7 KB per image: small images make the per-sample cost count; 1M stay a few GB




# ---------------------------------------------------------------- child: one export, report peak memory


def _proc_status_kb(key: str) -> int:
    """VmRSS / VmHWM of this process in kB. Not getrusage's maxrss: Linux carries that over from the parent."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise SystemExit(f"{key} not in /proc/self/status: this benchmark measures memory on Linux")


def child_run(kind: str, subset_id: int) -> None:
    """One measured run in a fresh process: the exporter, or the plain pyarrow script (streamed or in memory)."""
    import django

    django.setup()
    from django.conf import settings

    from curation.models import Subset
    from curation.services.exports import export_create, export_run
    from curation.services.jobs import job_claim

    if kind == "exporter":
        export = export_create(subsets=[Subset.objects.get(pk=subset_id)], format="parquet", by=None, enqueue=False)
        job = job_claim(job_id=export.job_id)
        assert job is not None
        rss_before = _proc_status_kb("VmRSS")
        started = time.perf_counter()
        samples = export_run(export_id=export.pk, job=job).sample_count
        seconds = time.perf_counter() - started
    else:
        rss_before = _proc_status_kb("VmRSS")
        out_dir = Path(settings.MEDIA_ROOT) / "plain"
        out_dir.mkdir(exist_ok=True)
        samples, seconds = _pyarrow_run(subset_id, out_dir, in_memory=kind == "pyarrow_in_memory")
    print(json.dumps({"samples": samples, "seconds": seconds, "rss_before_kb": rss_before, "peak_rss_kb": _proc_status_kb("VmHWM")}))


# ---------------------------------------------------------------- parent




def _base_jpeg() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (IMAGE_SIDE, IMAGE_SIDE), (90, 140, 200)).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def _copy_rows(cursor, model, instances) -> None:
    """COPY model rows, every column prepared by the model's own fields (so new fields with defaults just work)."""
    from django.db import connection

    fields = [f for f in model._meta.concrete_fields if not (f.primary_key and f.auto_created)]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    with cursor.copy(f"COPY {model._meta.db_table} ({columns}) FROM STDIN") as copy:
        for obj in instances:
            copy.write_row([f.get_db_prep_save(getattr(obj, f.attname), connection) for f in fields])


def _make_images(count: int, media_root: Path, base_jpeg: bytes) -> list[str]:
    """`count` distinct images: a valid JPEG followed by random bytes (which decoders ignore), so compression
    finds nothing to shrink; files and rows written directly (image_store would validate each one)."""
    import hashlib

    from django.db import connection
    from django.utils import timezone

    from curation.models import Image

    now = timezone.now()
    images = []
    folders: set[Path] = set()
    for _ in range(count):
        data = base_jpeg + os.urandom(RANDOM_TAIL_BYTES)
        image = Image(sha256=hashlib.sha256(data).hexdigest(), width=IMAGE_SIDE, height=IMAGE_SIDE, format="JPEG",
                      bytes=len(data), created_at=now)
        target = media_root / image.storage_name
        if target.parent not in folders:
            target.parent.mkdir(parents=True, exist_ok=True)
            folders.add(target.parent)
        with open(target, "wb") as handle:
            handle.write(data)
        images.append(image)
    with connection.cursor() as cursor:
        _copy_rows(cursor.cursor, Image, images)
    return [image.sha256 for image in images]


def _make_subset(name: str, size: int, source, mapping, shas: list[str]) -> int:
    """A subset of `size` one-image samples written with COPY. Sample r shows image r mod len(shas): a repeat
    lies len(shas) rows away, far beyond any compression window, so every row group is all distinct images."""
    from django.db import connection
    from django.utils import timezone

    from curation.models import Sample, SampleImage, Subset

    subset = Subset.objects.create(name=name, category=Subset.Category.CHART_TABLE)
    now = timezone.now()
    with connection.cursor() as django_cursor:
        cursor = django_cursor.cursor  # the psycopg cursor, for COPY
        # One prepared row from the model's own fields; only row_number and turns change from row to row.
        fields = [f for f in Sample._meta.concrete_fields if not (f.primary_key and f.auto_created)]
        template = Sample(subset=subset, source=source, mapping=mapping, row_number=0, image_count=1, turns=[],
                          created_at=now, updated_at=now)
        values = [f.get_db_prep_save(getattr(template, f.attname), connection) for f in fields]
        names = [f.name for f in fields]
        row_at, turns_at = names.index("row_number"), names.index("turns")
        turns_field = Sample._meta.get_field("turns")
        columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
        with cursor.copy(f"COPY {Sample._meta.db_table} ({columns}) FROM STDIN") as copy:
            for row in range(size):
                values[row_at] = row
                turns = [{"user": f"What is the value of bar {row % 97}?", "assistant": f"It is {row % 1013}."}]
                values[turns_at] = turns_field.get_db_prep_save(turns, connection)
                copy.write_row(values)
        cursor.execute(
            f"INSERT INTO {SampleImage._meta.db_table} (sample_id, image_id, position) "  # noqa: S608
            f"SELECT s.id, (%s::text[])[1 + (s.row_number %% {len(shas)})], 0 FROM {Sample._meta.db_table} s "
            "WHERE s.subset_id = %s",
            [shas, subset.pk],
        )
        for model in (Sample, SampleImage):
            cursor.execute(f"ANALYZE {model._meta.db_table}")
    Subset.objects.filter(pk=subset.pk).update(sample_count=size, status=Subset.Status.APPROVED, approved_at=now)
    return subset.pk


def _plain_rows(subset_id: int, media_root: Path):
    """The rows as a plain script reads them: one server-side SQL cursor, image files read from disk."""
    from django.db import connection, transaction

    from curation.models import Image, Rating, Sample, SampleImage, SampleRating, Source
    from curation.models.ratings import RATING_AXES

    # The current judge's minima and per-turn scores (the SampleRating cache names the judge).
    minima, rows = SampleRating._meta.db_table, Rating._meta.db_table
    ratings = (
        f"(SELECT json_object_agg(m.axis, m.minimum) FROM {minima} m WHERE m.sample_id = s.id), "
        f"(SELECT json_object_agg(x.axis, x.scores) FROM (SELECT r.axis, json_agg(r.score ORDER BY r.turn) AS scores "
        f"FROM {rows} r JOIN {minima} c ON c.sample_id = r.sample_id AND c.axis = r.axis AND c.engine = r.engine "
        f"AND c.engine_version = r.engine_version WHERE r.sample_id = s.id AND r.rater_id IS NULL GROUP BY r.axis) x)"
    )
    sql = (
        f"SELECT s.id, s.turns, src.name, {ratings}, "  # noqa: S608
        "array_agg(i.sha256 || '.' || lower(i.format) ORDER BY si.position) FILTER (WHERE i.sha256 IS NOT NULL) "
        f"FROM {Sample._meta.db_table} s JOIN {Source._meta.db_table} src ON src.id = s.source_id "
        f"LEFT JOIN {SampleImage._meta.db_table} si ON si.sample_id = s.id LEFT JOIN {Image._meta.db_table} i ON i.sha256 = si.image_id "
        "WHERE s.subset_id = %s AND s.status IN ('accepted', 'pending') GROUP BY s.id, src.name ORDER BY s.id"
    )
    with transaction.atomic(), connection.connection.cursor(name="plain_export") as cursor:
        cursor.itersize = 5000
        cursor.execute(sql, [subset_id])
        for row in cursor:
            images = [
                {"bytes": (media_root / "images" / f[:2] / f[2:4] / f).read_bytes(), "path": f} for f in (row[-1] or [])
            ]
            # Django's connection hands jsonb over as text (JSONField parses it); a plain script parses it too.
            low, scores = (json.loads(v) if isinstance(v, str) else v or {} for v in row[3:5])
            columns = {f"{axis}_{kind}": value for axis in RATING_AXES
                       for kind, value in (("ratings", scores.get(axis)), ("min", low.get(axis)))}
            yield {"images": images, "texts": json.loads(row[1]), "source": row[2], **columns}


def _pyarrow_run(subset_id: int, out_dir: Path, *, in_memory: bool) -> tuple[int, float]:
    """Plain pyarrow with the same schema, compression and row groups: (rows, seconds). Streamed from the
    database and disk, or (in_memory) writing rows read beforehand, outside the timer."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    from django.conf import settings

    from curation.exporters import parquet
    from curation.exporters.registry import columns_for
    from curation.exporters.schema import arrow_schema

    schema = arrow_schema(columns_for([]))
    step = parquet.ROW_GROUP_MAX_ROWS
    rows = _plain_rows(subset_id, Path(settings.MEDIA_ROOT))
    if in_memory:
        rows = iter(list(rows))
    started = time.perf_counter()
    count, batch = 0, []
    with pq.ParquetWriter(out_dir / "plain.parquet", schema, compression=parquet.COMPRESSION) as writer:
        for row in rows:
            batch.append(row)
            if len(batch) == step:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                count, batch = count + len(batch), []
        if batch:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
            count += len(batch)
    return count, time.perf_counter() - started


def _child(kind: str, subset_id: int) -> dict:
    result = subprocess.run(
        [sys.executable, __file__, "--child", kind, str(subset_id)], capture_output=True, text=True, check=False,
        env=os.environ.copy(),
    )
    if result.returncode != 0:
        raise SystemExit(f"{kind} run failed:\n{result.stderr[-4000:]}")
    return json.loads(result.stdout.strip().splitlines()[-1])


def _rate(run: dict) -> float:
    return run["samples"] / run["seconds"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="10k and 100k samples instead of 100k and 1M.")
    parser.add_argument("--child", nargs=2, metavar=("KIND", "SUBSET"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_run(args.child[0], int(args.child[1]))
        return

    base_url = os.environ.get("DATABASE_URL", "")
    if not base_url.startswith("postgres"):
        raise SystemExit("set DATABASE_URL to a PostgreSQL server (the benchmark creates its own database there)")
    small, large = (10_000, 100_000) if args.quick else (100_000, 1_000_000)
    throughput_size = 100_000
    media = Path(tempfile.mkdtemp(prefix="bench_export_"))
    os.environ["DATABASE_URL"] = database_url(base_url, BENCH_DB)
    os.environ["FINECURATE_MEDIA_ROOT"] = str(media)
    os.environ["LOG_LEVEL"] = "WARNING"
    database_recreate(base_url, BENCH_DB)
    try:
        import django

        django.setup()
        from django.core.management import call_command

        from curation.models import Mapping, Source

        call_command("migrate", verbosity=0)
        shas = _make_images(DISTINCT_IMAGES, media, _base_jpeg())
        source = Source.objects.create(name="bench-source", license="CC BY 4.0", location="/bench", status=Source.Status.READY)
        mapping = Mapping.objects.create(source=source, version=1, spec={}, status=Mapping.Status.ACCEPTED, engine="bench")
        t0 = time.perf_counter()
        subset_ids = {
            size: _make_subset(f"bench-{size}", size, source, mapping, shas) for size in sorted({small, large, throughput_size})
        }
        print(f"data: {len(subset_ids)} subsets made in {time.perf_counter() - t0:.1f}s ({', '.join(f'{s:,}' for s in subset_ids)} samples)", flush=True)

        # Every measured run is a fresh process. The image files were just written, so every run reads them from
        # the page cache; the full run alternates two runs of each side and keeps the best.
        target = subset_ids[throughput_size]
        plain_runs, exporter_runs = [], []
        for _ in range(1 if args.quick else 2):
            plain_runs.append(_child("pyarrow", target))
            exporter_runs.append(_child("exporter", target))
        plain, exporter = max(plain_runs, key=_rate), max(exporter_runs, key=_rate)
        assert plain["samples"] == exporter["samples"] == throughput_size
        speed_ratio = _rate(exporter) / _rate(plain)
        in_memory = None if args.quick else _child("pyarrow_in_memory", target)
        print(f"throughput at {throughput_size:,}: exporter {_rate(exporter):,.0f} samples/s ({exporter['seconds']:.2f}s); "
              f"plain pyarrow reading the same rows from the database and disk {_rate(plain):,.0f} samples/s "
              f"({plain['seconds']:.2f}s): ratio {speed_ratio:.2f}"
              + (f"; plain pyarrow writing rows already in memory {_rate(in_memory):,.0f} samples/s" if in_memory else ""),
              flush=True)

        memory = {size: exporter if size == throughput_size else _child("exporter", subset_ids[size]) for size in (small, large)}
        for size, m in memory.items():
            print(f"memory at {size:,}: peak RSS {m['peak_rss_kb'] / 1024:.0f} MB (before the export {m['rss_before_kb'] / 1024:.0f} MB), "
                  f"{_rate(m):,.0f} samples/s", flush=True)
        memory_ratio = memory[large]["peak_rss_kb"] / memory[small]["peak_rss_kb"]
        met = speed_ratio >= 0.5 and memory_ratio <= 1.5
        print(json.dumps({
            "bench": "export",
            "throughput_samples": throughput_size,
            "exporter_samples_per_s": round(_rate(exporter)),
            "pyarrow_samples_per_s": round(_rate(plain)),
            "pyarrow_in_memory_write_samples_per_s": round(_rate(in_memory)) if in_memory else None,
            "pyarrow_peak_rss_mb": round(plain["peak_rss_kb"] / 1024, 1),
            "speed_ratio": round(speed_ratio, 3),
            "memory_sizes": [small, large],
            "peak_rss_mb": {str(size): round(m["peak_rss_kb"] / 1024, 1) for size, m in memory.items()},
            "export_growth_mb": {str(size): round((m["peak_rss_kb"] - m["rss_before_kb"]) / 1024, 1) for size, m in memory.items()},
            "memory_ratio": round(memory_ratio, 3),
            "goal": "exporter >= 0.5x plain pyarrow samples/s; peak memory at 10x the samples <= 1.5x",
            "met": met,
        }))
    finally:
        from django.db import connections

        connections.close_all()
        database_drop(base_url, BENCH_DB)
        shutil.rmtree(media, ignore_errors=True)


if __name__ == "__main__":
    main()
