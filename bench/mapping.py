"""Benchmark: the mapping preview's latency, and apply (and re-map) against a floor, with flat memory.

1. Preview: pick first/random/hardest rows (the hardest among a scan of 300 mapped rows) and map them,
   as the page does on every pause in typing. Goal: median under 300 ms (the editor's debounce is 400 ms).
2. Apply: build every row of a ScienceQA-style source (options, answer index, hint, one image in nine
   rows of ten) into the subset's samples, then re-map it with a new version. The floor, measured in the
   same run on the same rows: one SQL cursor reading the rows, the same pure `row_map` in a plain loop,
   and COPY of the resulting samples and image links, in one transaction, into tables of the same shape
   (same columns, indexes, checks and foreign keys; LIKE ... INCLUDING ALL copies all but the foreign keys,
   which are added by hand, deferred as Django makes them). The floor runs before apply and again after
   re-map; the faster run counts. Goal: apply and re-map >= 0.5x the floor's rows/s; re-map no slower
   than the first apply (>= 0.9x, allowing for noise). The floor without foreign keys is printed too: the
   checks of the foreign keys (one lookup per key per row, at commit) are a large part of both.
3. Memory: apply runs in a fresh process on a small and a 10x larger source (100k and 1M; --quick 2k
   and 20k); each reports the peak RSS of apply alone. Goal: large / small <= 1.2.

Each run prints where apply's time goes (read, map, stage, and the swap's statements and commit).
It creates its own database (bench_mapping on the server of DATABASE_URL) and media folder, and drops both.
Usage: DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/x .venv/bin/python bench/mapping.py [--quick]
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchdb import database_drop, database_recreate, database_url  # noqa: E402  (bench/ is on sys.path)

BENCH_DB = "bench_mapping"
DISTINCT_IMAGES = 50
INSERT_BATCH = 5_000
PREVIEW_RUNS = 7
GOAL_PREVIEW_MS = 300
GOAL_FLOOR_RATIO = 0.5
GOAL_REMAP_RATIO = 0.9
GOAL_MEMORY_RATIO = 1.2
FLOOR_BATCH = 5_000


def _proc_status_kb(key: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise SystemExit(f"{key} not in /proc/self/status: this benchmark measures memory on Linux")


def _reset_peak_rss() -> None:
    """Make VmHWM start again from the current RSS (Linux: write 5 to clear_refs)."""
    Path("/proc/self/clear_refs").write_text("5")


def _make_source(rows: int):
    import io

    from django.db import connection
    from PIL import Image as PILImage

    from curation.ingest.writer import row_json
    from curation.models import Source
    from curation.services.images import image_store

    shas = []
    for n in range(DISTINCT_IMAGES):
        buffer = io.BytesIO()
        PILImage.new("RGB", (16, 16), (n * 5 % 256, n * 11 % 256, n * 17 % 256)).save(buffer, format="PNG")
        shas.append(image_store(data=buffer.getvalue()).pk)
    source = Source.objects.create(name="scienceqa-bench", location="/data/scienceqa.jsonl", status=Source.Status.READY,
                                   layout="table", row_count=rows,
                                   columns={"image": "image|null", "question": "string", "choices": "list",
                                            "answer": "integer", "hint": "string", "lecture": "string"})
    with connection.cursor() as cursor, cursor.cursor.copy(
        "COPY curation_sourcerow (source_id, row_number, data, image_shas) FROM STDIN"
    ) as copy:
        for n in range(rows):
            sha = shas[n % DISTINCT_IMAGES]
            choices = [f"option {k} of question {n}" for k in range(2 + n % 3)]
            data = {"image": {"$image": sha} if n % 10 else None, "question": f"Which option answers question {n}?",
                    "choices": choices, "answer": n % len(choices), "hint": "" if n % 2 else f"Hint for {n}. " * (n % 7),
                    "lecture": "A lecture. " * 20}
            copy.write_row((source.pk, n, row_json(data), row_json([sha] if n % 10 else [])))
    return source


def _floor_tables(*, foreign_keys: bool) -> None:
    """floor_sample and floor_sampleimage: the columns, indexes and checks of the real tables (LIKE ... INCLUDING
    ALL) and, with `foreign_keys`, their foreign keys too (LIKE leaves those out), deferred as Django makes them."""
    from django.db import connection

    from curation.models import Sample, SampleImage

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS floor_sampleimage; DROP TABLE IF EXISTS floor_sample")
        cursor.execute("CREATE TABLE floor_sample (LIKE curation_sample INCLUDING ALL)")
        cursor.execute("CREATE TABLE floor_sampleimage (LIKE curation_sampleimage INCLUDING ALL)")
        if not foreign_keys:
            return
        for table, model in (("floor_sample", Sample), ("floor_sampleimage", SampleImage)):
            for field in model._meta.concrete_fields:
                if not field.is_relation or not field.db_constraint:
                    continue
                target = field.related_model
                target_table = "floor_sample" if target is Sample else target._meta.db_table
                cursor.execute(f"ALTER TABLE {table} ADD FOREIGN KEY ({field.column}) REFERENCES {target_table} "
                               f"({target._meta.pk.column}) DEFERRABLE INITIALLY DEFERRED")


def _floor(source, spec, *, subset, mapping, foreign_keys: bool = True) -> float:
    """Read the rows with one cursor, row_map each in a plain loop, COPY samples and links into look-alike tables."""
    import orjson
    from django.db import connection, transaction

    from curation.mapping.apply import FilteredOut, row_map
    from curation.models import Sample

    _floor_tables(foreign_keys=foreign_keys)
    # Every column of the sample table: the ones a mapped row gives, the model's defaults for the rest.
    fields = [f for f in Sample._meta.concrete_fields]
    columns = [f.column for f in fields]
    defaults = {f.column: (json.dumps(f.get_default()) if f.get_internal_type() == "JSONField" and f.get_default()
                           is not None else f.get_default()) for f in fields}
    now = "2026-01-01T00:00:00Z"
    started = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        raw = connection.connection
        next_id = 1
        link_id = 0
        with raw.cursor(name="floor_rows") as rows:
            rows.itersize = FLOOR_BATCH
            rows.execute("SELECT row_number, data::text FROM curation_sourcerow WHERE source_id = %s ORDER BY row_number",
                         [source.pk])
            while True:
                batch = rows.fetchmany(FLOOR_BATCH)
                if not batch:
                    break
                samples, links = [], []
                for row_number, text in batch:
                    out = row_map(spec, source_name=source.name, row_number=row_number, data=orjson.loads(text))
                    if isinstance(out, FilteredOut):
                        continue
                    sample_id = next_id
                    next_id += 1
                    samples.append((sample_id, row_number, orjson.dumps(out.turns).decode(), len(out.images)))
                    links.extend((sample_id, position, str(ref.value)) for position, ref in enumerate(out.images))
                with cursor.cursor.copy(f"COPY floor_sample ({', '.join(columns)}) FROM STDIN") as copy:
                    for sample_id, row_number, turns, count in samples:
                        given = {"id": sample_id, "subset_id": subset.pk, "source_id": source.pk, "mapping_id": mapping.pk,
                                 "row_number": row_number, "turns": turns, "image_count": count, "created_at": now,
                                 "updated_at": now}
                        copy.write_row([given.get(column, defaults.get(column)) for column in columns])
                with cursor.cursor.copy("COPY floor_sampleimage (id, sample_id, position, image_id) FROM STDIN") as copy:
                    for sample_id, position, sha in links:
                        link_id += 1
                        copy.write_row((link_id, sample_id, position, sha))
    return time.perf_counter() - started


def _apply(mapping, user) -> tuple[float, dict]:
    from curation.models import Job
    from curation.services.mapping import mapping_accept
    from workers.tasks.mapping import apply_mapping

    job = mapping_accept(mapping=mapping, by=user)
    started = time.perf_counter()
    apply_mapping.run(job.pk)
    seconds = time.perf_counter() - started
    job.refresh_from_db()
    if job.state != Job.State.SUCCEEDED:
        raise SystemExit(f"apply failed: {job.message}")
    return seconds, dict(job.result.get("timings", {}))


def _setup(name: str):
    admin_url = os.environ.get("DATABASE_URL", "")
    if not admin_url.startswith("postgres"):
        raise SystemExit("DATABASE_URL must point at PostgreSQL")
    database_recreate(admin_url, name)
    workdir = Path(tempfile.mkdtemp(prefix="bench_mapping_"))
    os.environ["DATABASE_URL"] = database_url(admin_url, name)
    os.environ["FINECURATE_DATA_ROOTS"] = str(workdir)
    os.environ["FINECURATE_VAR_DIR"] = str(workdir / "var")
    # Accepting queues the apply task after commit; keep it in this process (we run the task body ourselves),
    # never on a shared broker where a worker of another database could pick it up.
    os.environ["CELERY_BROKER_URL"] = "memory://"
    os.environ.setdefault("DEBUG", "1")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    return admin_url, workdir


def child_run(rows: int, full: bool) -> None:
    """One size in a fresh process: (full) preview, floor, apply and re-map; always apply's peak RSS."""
    name = f"{BENCH_DB}_{rows}"
    admin_url, workdir = _setup(name)
    from django.contrib.auth.models import User
    from django.db import connections

    from curation.mapping.spec import TemplateTurns, spec_from_dict
    from curation.models import Sample, Subset
    from curation.services.mapping import (
        mapping_create_version,
        mapping_preview,
        mapping_preview_pick,
        mapping_suggest,
    )

    out: dict = {"rows": rows}
    try:
        user = User.objects.create_user("bench")
        source = _make_source(rows)
        suggested = mapping_suggest(source=source, engine="rules")
        spec = spec_from_dict(suggested.spec, columns=source.columns)
        if full:
            preview_ms = []
            for seed in range(PREVIEW_RUNS):
                started = time.perf_counter()
                previews = mapping_preview(spec=spec, source=source,
                                           rows=mapping_preview_pick(spec=spec, source=source, seed=seed))
                preview_ms.append(1000 * (time.perf_counter() - started))
            assert all(p.outcome == "sample" for p in previews), [p.message for p in previews]
            out["preview_ms"] = preview_ms
            floor_subset = Subset.objects.create(name="floor")
            out["floor_no_fk_s"] = _floor(source, spec, subset=floor_subset, mapping=suggested, foreign_keys=False)
            out["floor_runs_s"] = [_floor(source, spec, subset=floor_subset, mapping=suggested)]
        _reset_peak_rss()
        before_kb = _proc_status_kb("VmRSS")
        out["apply_s"], out["apply_timings"] = _apply(suggested, user)
        out["apply_peak_rss_kb"] = _proc_status_kb("VmHWM")
        out["rss_before_kb"] = before_kb
        if full:
            assert isinstance(spec.turns, TemplateTurns) and spec.turns.answer is not None
            edited = replace(spec, turns=replace(spec.turns, answer=replace(spec.turns.answer, format="letter")))
            out["remap_s"], out["remap_timings"] = _apply(
                mapping_create_version(source=source, spec=edited, by=user, based_on=suggested), user)
            # Once more after apply and re-map, so a change of load during the run counts against apply, not for it.
            out["floor_runs_s"].append(_floor(source, spec, subset=floor_subset, mapping=suggested))
            out["floor_s"] = min(out["floor_runs_s"])
        out["samples"] = Sample.objects.filter(source=source).count()
    finally:
        connections.close_all()
        database_drop(admin_url, name)
        shutil.rmtree(workdir, ignore_errors=True)
    print("RESULT " + json.dumps(out))


def _child(rows: int, full: bool) -> dict:
    args = [sys.executable, __file__, "--child", str(rows)] + (["--full"] if full else [])
    done = subprocess.run(args, capture_output=True, text=True, check=False)
    if done.returncode:
        raise SystemExit(f"child for {rows} rows failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}")
    line = next(line for line in done.stdout.splitlines() if line.startswith("RESULT "))
    return json.loads(line[len("RESULT "):])


def _timings(label: str, timings: dict) -> str:
    parts = ", ".join(f"{k} {v:.2f} s" for k, v in timings.items())
    return f"  {label} time went to: {parts}" if parts else ""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000, help="the large size; the small one is a tenth")
    parser.add_argument("--quick", action="store_true", help="20k and 2k rows: well under a minute")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--full", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child_run(args.child, args.full)
        return
    large = 20_000 if args.quick else args.rows
    small = large // 10
    big = _child(large, full=True)
    little = _child(small, full=False)
    assert big["samples"] == large and little["samples"] == small, (big["samples"], little["samples"])

    median_ms = statistics.median(big["preview_ms"])
    floor_rate, apply_rate, remap_rate = large / big["floor_s"], large / big["apply_s"], large / big["remap_s"]
    apply_ratio, remap_ratio = apply_rate / floor_rate, remap_rate / floor_rate
    memory_ratio = big["apply_peak_rss_kb"] / little["apply_peak_rss_kb"]
    print(f"rows:                      {large:,} (memory also at {small:,})")
    print(f"preview: median {median_ms:.0f} ms, runs {[round(ms) for ms in big['preview_ms']]}")
    print(f"floor (cursor, row_map loop, COPY):  {floor_rate:,.0f} rows/s ({big['floor_s']:.2f} s; runs "
          f"{[round(s, 2) for s in big['floor_runs_s']]}); without foreign keys {large / big['floor_no_fk_s']:,.0f} "
          f"rows/s ({big['floor_no_fk_s']:.2f} s)")
    print(f"apply, new subset:         {apply_rate:,.0f} rows/s ({big['apply_s']:.2f} s), {apply_ratio:.2f}x floor")
    print(_timings("apply", big["apply_timings"]))
    print(f"apply, re-map:             {remap_rate:,.0f} rows/s ({big['remap_s']:.2f} s), {remap_ratio:.2f}x floor")
    print(_timings("re-map", big["remap_timings"]))
    print(f"apply peak RSS: {big['apply_peak_rss_kb'] / 1024:.1f} MB at {large:,}, "
          f"{little['apply_peak_rss_kb'] / 1024:.1f} MB at {small:,}: ratio {memory_ratio:.2f}")
    met = (median_ms < GOAL_PREVIEW_MS and min(apply_ratio, remap_ratio) >= GOAL_FLOOR_RATIO
           and remap_rate >= GOAL_REMAP_RATIO * apply_rate and memory_ratio <= GOAL_MEMORY_RATIO)
    print(json.dumps({
        "bench": "mapping", "rows": large, "preview_median_ms": round(median_ms, 1),
        "floor_rows_per_s": round(floor_rate), "floor_no_fk_rows_per_s": round(large / big["floor_no_fk_s"]),
        "apply_rows_per_s": round(apply_rate),
        "remap_rows_per_s": round(remap_rate), "apply_vs_floor": round(apply_ratio, 2),
        "remap_vs_floor": round(remap_ratio, 2), "remap_vs_apply": round(remap_rate / apply_rate, 2),
        "apply_peak_rss_mb": round(big["apply_peak_rss_kb"] / 1024, 1), "memory_ratio": round(memory_ratio, 2),
        "apply_timings_s": big["apply_timings"], "remap_timings_s": big["remap_timings"],
        "goal": (f"preview median < {GOAL_PREVIEW_MS} ms; apply and re-map >= {GOAL_FLOOR_RATIO}x the floor "
                 f"(row_map loop + COPY); re-map >= {GOAL_REMAP_RATIO}x apply; peak RSS at 10x rows <= "
                 f"{GOAL_MEMORY_RATIO}x"),
        "met": met,
    }))


if __name__ == "__main__":
    main()
