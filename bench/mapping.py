"""Benchmark: the mapping preview's latency (it re-renders as a curator types) and apply throughput.

1. Preview: pick first/random/hardest rows (the hardest among a scan of 300 mapped rows) and map them,
   as the page does on every pause in typing. Goal: median under 300 ms, so the preview keeps up with the
   editor's 400 ms debounce.
2. Apply: build every row of a ScienceQA-style source (options, answer index, hint, one image each) into
   staged rows and swap them in as samples; then re-map with a new version (the upsert path keyed on
   subset, source and row). Goal: >= 2,000 rows/s for both.

It creates its own database (bench_mapping on the server of DATABASE_URL) and media folder, and drops both.
Usage: DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/x .venv/bin/python bench/mapping.py [--quick]
"""
import argparse
import json
import os
import shutil
import statistics
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
GOAL_ROWS_PER_S = 2_000





def _make_source(rows: int):
    import io

    from PIL import Image as PILImage

    from curation.models import Source, SourceRow
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
    batch = []
    for n in range(rows):
        sha = shas[n % DISTINCT_IMAGES]
        choices = [f"option {k} of question {n}" for k in range(2 + n % 3)]
        data = {"image": {"$image": sha} if n % 10 else None, "question": f"Which option answers question {n}?",
                "choices": choices, "answer": n % len(choices), "hint": "" if n % 2 else f"Hint for {n}. " * (n % 7),
                "lecture": "A lecture. " * 20}
        batch.append(SourceRow(source=source, row_number=n, data=data, image_shas=[sha] if n % 10 else []))
        if len(batch) == INSERT_BATCH:
            SourceRow.objects.bulk_create(batch)
            batch = []
    SourceRow.objects.bulk_create(batch)
    return source


def _apply(mapping, user) -> float:
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
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="10k rows: finishes well under a minute")
    args = parser.parse_args()
    rows = 10_000 if args.quick else args.rows

    admin_url = os.environ.get("DATABASE_URL", "")
    if not admin_url.startswith("postgres"):
        raise SystemExit("DATABASE_URL must point at PostgreSQL")
    database_recreate(admin_url, BENCH_DB)
    workdir = Path(tempfile.mkdtemp(prefix="bench_mapping_"))
    os.environ["DATABASE_URL"] = database_url(admin_url, BENCH_DB)
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
    from django.contrib.auth.models import User
    from django.core.management import call_command
    from django.db import connections

    from curation.mapping.spec import TemplateTurns, spec_from_dict
    from curation.models import Sample
    from curation.services.mapping import (
        mapping_create_version,
        mapping_preview,
        mapping_preview_pick,
        mapping_suggest,
    )

    try:
        call_command("migrate", verbosity=0)
        user = User.objects.create_user("bench")
        source = _make_source(rows)
        suggested = mapping_suggest(source=source, engine="rules")
        spec = spec_from_dict(suggested.spec, columns=source.columns)
        preview_ms = []
        for seed in range(PREVIEW_RUNS):
            started = time.perf_counter()
            previews = mapping_preview(spec=spec, source=source, rows=mapping_preview_pick(spec=spec, source=source,
                                                                                           seed=seed))
            preview_ms.append(1000 * (time.perf_counter() - started))
        assert all(p.outcome == "sample" for p in previews), [p.message for p in previews]
        apply_s = _apply(suggested, user)
        assert isinstance(spec.turns, TemplateTurns) and spec.turns.answer is not None
        edited = replace(spec, turns=replace(spec.turns, answer=replace(spec.turns.answer, format="letter")))
        remap_s = _apply(mapping_create_version(source=source, spec=edited, by=user, based_on=suggested), user)
        samples = Sample.objects.filter(source=source).count()
    finally:
        connections.close_all()
        database_drop(admin_url, BENCH_DB)
        shutil.rmtree(workdir, ignore_errors=True)

    assert samples == rows, (samples, rows)
    median_ms = statistics.median(preview_ms)
    apply_rate, remap_rate = rows / apply_s, rows / remap_s
    print(f"rows:                      {rows:,}")
    print(f"preview (first, random, hardest of 300 scanned): median {median_ms:.0f} ms, "
          f"runs {[round(ms) for ms in preview_ms]}")
    print(f"apply, new subset:         {apply_rate:,.0f} rows/s ({apply_s:.2f} s)")
    print(f"apply, re-map (upserts):   {remap_rate:,.0f} rows/s ({remap_s:.2f} s)")
    met = median_ms < GOAL_PREVIEW_MS and min(apply_rate, remap_rate) >= GOAL_ROWS_PER_S
    print(json.dumps({
        "bench": "mapping", "rows": rows, "preview_median_ms": round(median_ms, 1),
        "apply_rows_per_s": round(apply_rate), "remap_rows_per_s": round(remap_rate),
        "goal": f"preview median < {GOAL_PREVIEW_MS} ms and apply and re-map >= {GOAL_ROWS_PER_S:,} rows/s",
        "met": met,
    }))


if __name__ == "__main__":
    main()
