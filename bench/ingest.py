"""Benchmark: ingest N text samples from JSONL through the real ingest service, against a raw psycopg COPY;
and a source whose rows each name a 512 px JPEG, against a floor that COPYs the same rows and writes the same
image files (read, sha256, content-addressed file, one image row each), since images take the slow path.

Both write the same rows into PostgreSQL in the same run: the service (read, parse, prepare, COPY, progress)
into curation_sourcerow, and a bare COPY of the file's lines into a table of the same shape. Goals: the service
reaches GOAL_RATIO of the raw COPY's rate on text rows and IMAGE_GOAL_RATIO of the image floor's on image rows,
with the settings a worker runs with (DEBUG off, the default image threads). Each prints where its time goes
(read, prepare, image wait, write, commit, progress), from one more run with its parts timed. Needs DATABASE_URL
pointing at PostgreSQL; works in a database of its own (bench_ingest), created and dropped here.

A joined source too: a COCO-style captions file (100k images x 5 captions; images and annotations
in one file, annotations interleaved as COCO has them, each image naming one of a pool of real JPEG files; --quick 20k),
read by the streaming join (ijson + on-disk index) against a floor that does the same join with plain Python
dicts after json.load, in the same run; then ingested whole through the service. Goal for the join: at least
JOIN_GOAL_RATIO of the dict floor's rate, with memory that does not grow with the annotations.

    DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres python bench/ingest.py [--quick] [--rows N]
"""
import argparse
import itertools
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import psycopg

from curation.services import job_kinds

BENCH_DB = "bench_ingest"
# Text rows: the service against a bare COPY of the same lines (issue 16: at least 0.85 of it).
GOAL_RATIO = 0.85
# Rows with a 512 px JPEG each: the service against a floor that COPYs the rows and writes the image files.
IMAGE_GOAL_RATIO = 0.5
# The streaming join parses with ijson (in C) where the floor uses json.load, and keeps its index on disk: it is
# slower, and in exchange its memory does not grow with the file. Goals: a tenth of the floor's rate, at most a
# fifth of its peak memory.
JOIN_GOAL_RATIO = 0.1
JOIN_GOAL_MEMORY_RATIO = 0.2
CAPTIONS_PER_IMAGE = 5
QUICK_SERVICE_IMAGES = 1_000
IMAGE_POOL = 50  # distinct JPEG files the images name (COCO names one file per image; the pool keeps the bench small)
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


def _write_coco(root: Path, images: int) -> Path:
    """captions_train2014.json as COCO publishes it, and the image files it names."""
    from PIL import Image as PILImage

    folder = root / "train2014"
    folder.mkdir(parents=True)
    for n in range(IMAGE_POOL):
        PILImage.new("RGB", (32 + n, 24 + n), (n * 5 % 256, 120, 255 - n * 3 % 256)).save(folder / f"pool_{n}.jpg")
    path = root / "captions_train2014.json"
    with path.open("w") as handle:
        handle.write('{"info": {"description": "COCO 2014 Dataset"}, "licenses": [{"id": 1, "name": "CC BY"}], "images": [')
        for i in range(images):
            record = {"license": 1, "file_name": f"pool_{i % IMAGE_POOL}.jpg", "height": 480, "width": 640,
                      "coco_url": f"http://images.cocodataset.org/train2014/COCO_train2014_{i:012d}.jpg", "id": i}
            handle.write(("," if i else "") + json.dumps(record))
        handle.write('], "annotations": [')
        n = 0
        for k in range(CAPTIONS_PER_IMAGE):  # interleaved: the captions of one image are far apart
            for i in range(images):
                caption = f"A photo number {i} showing object {k} on a table next to a window."
                handle.write(("," if n else "") + json.dumps({"image_id": i, "id": n, "caption": caption}))
                n += 1
        handle.write("]}")
    return path


def _join_declaration():
    from curation.ingest.readers import Declaration
    from curation.ingest.readers.join import JoinDeclaration

    return Declaration(records_key="images", join=JoinDeclaration(
        location=None, records_key="annotations", left_key="id", right_key="image_id", many=True, column="captions"))


def _run_join_reader(path: Path) -> tuple[float, int, int]:
    from curation.ingest.readers import reader_open

    started = time.perf_counter()
    rows = captions = 0
    for record in reader_open(path, "json", _join_declaration()).records():
        if record.data is not None:
            rows += 1
            captions += len(record.data["captions"])
    return time.perf_counter() - started, rows, captions


def _run_join_dicts(path: Path) -> tuple[float, int, int]:
    """The floor: the whole file in memory, captions grouped per image in a dict, rows built from it."""
    started = time.perf_counter()
    with path.open("rb") as handle:
        document = json.load(handle)
    by_image: dict[int, list[dict]] = {}
    for annotation in document["annotations"]:
        by_image.setdefault(annotation["image_id"], []).append(annotation)
    rows = captions = 0
    for image in document["images"]:
        row = {**image, "captions": by_image.get(image["id"], [])}
        rows += 1
        captions += len(row["captions"])
    return time.perf_counter() - started, rows, captions


def _peak_mib(run, path: Path) -> float:
    """Peak Python memory of one run (tracemalloc: measured apart from the timed runs, which it would slow)."""
    import tracemalloc

    tracemalloc.start()
    try:
        run(path)
        return tracemalloc.get_traced_memory()[1] / (1 << 20)
    finally:
        tracemalloc.stop()


IMAGE_SIDE = 512


def _write_image_samples(folder: Path, count: int) -> Path:
    """count rows, each naming its own 512x512 JPEG (distinct bytes)."""
    from PIL import Image as PILImage
    from PIL import ImageDraw

    images = folder / "images"
    images.mkdir(parents=True, exist_ok=True)
    path = folder / "image_samples.jsonl"
    with path.open("w") as handle:
        for i in range(count):
            name = f"images/{i:06d}.jpg"
            picture = PILImage.new("RGB", (IMAGE_SIDE, IMAGE_SIDE), (i * 37 % 256, i * 91 % 256, i * 53 % 256))
            ImageDraw.Draw(picture).text((20 + i % 400, 20 + i * 7 % 400), f"item {i}", fill=(255, 255, 255))
            picture.save(folder / name, format="JPEG", quality=85)
            record = {"id": f"img-{i}", "image": name, "conversations": [
                {"from": "human", "value": f"<image>\nWhat number is written on picture {i}?"},
                {"from": "gpt", "value": f"It says item {i}."}]}
            handle.write(json.dumps(record) + "\n")
    return path


_MEDIA_RUNS = itertools.count(1)


def _fresh_media(workdir: Path) -> Path:
    """A folder no run has written for the next timed run that writes image files, with what earlier runs left in
    the page cache written out first (sync): every run of either side starts from the same disk, none pays for
    the writeback of the run before it. Nothing is deleted between runs (the workdir goes at the end): on this
    machine's disk, every run after a deletion of thousands of folders was slower than the one before."""
    os.sync()
    return workdir / f"media-{next(_MEDIA_RUNS)}"


def _run_image_floor(url: str, path: Path, source_id: int, media: Path,
                     account: dict[str, float] | None = None) -> float:
    """The same rows COPYed with their image sha256s, the same files written content-addressed (under `media`, a
    folder no run has written), one image row each.

    Each image is read once, hashed, its width and height read from its header (Pillow's lazy open, no decoding)
    and written to images/ab/cd/<sha256>.jpg as the service names it; one thread, no check that the image decodes
    (the service decodes every new image: that is part of what it costs). With account, the time of each part.
    """
    import hashlib
    import io

    from PIL import Image as PILImage

    clock = time.perf_counter
    parts = account if account is not None else {}
    for name in ("read", "image", "write", "commit"):
        parts.setdefault(name, 0.0)
    with psycopg.connect(url) as conn:
        conn.execute("DROP TABLE IF EXISTS raw_image_rows")
        conn.execute("DROP TABLE IF EXISTS raw_images")
        conn.execute("CREATE TABLE raw_image_rows (LIKE curation_sourcerow INCLUDING ALL)")
        conn.execute("CREATE TABLE raw_images (LIKE curation_image INCLUDING ALL)")
        conn.commit()
        started = clock()
        images: list[tuple[str, int, int, str, int]] = []
        with conn.cursor() as cursor, path.open("rb") as handle:
            with cursor.copy("COPY raw_image_rows (source_id, row_number, data, image_shas) FROM STDIN") as copy:
                for number, line in enumerate(handle):
                    if account is not None:
                        t0 = clock()
                    record = json.loads(line)
                    if account is not None:
                        t1 = clock()
                    data = (path.parent / record["image"]).read_bytes()
                    sha = hashlib.sha256(data).hexdigest()
                    with PILImage.open(io.BytesIO(data)) as picture:
                        width, height = picture.size
                        fmt = picture.format or ""
                    target = media / "images" / sha[:2] / sha[2:4] / f"{sha}.{fmt.lower()}"
                    target.parent.mkdir(parents=True, exist_ok=True)
                    target.write_bytes(data)
                    images.append((sha, width, height, fmt, len(data)))
                    if account is not None:
                        t2 = clock()
                    copy.write_row((source_id, number, line.rstrip(b"\n").decode(), json.dumps([sha])))
                    if account is not None:
                        parts["read"] += t1 - t0
                        parts["image"] += t2 - t1
                        parts["write"] += clock() - t2
            with cursor.copy("COPY raw_images (sha256, width, height, format, bytes, created_at) FROM STDIN") as copy:
                for row in images:
                    copy.write_row((*row, "now"))
            ended = clock()
        conn.commit()
        parts["commit"] += clock() - ended
        return clock() - started


def _run_join_service(path: Path) -> tuple[float, int]:
    from curation.models import SourceRow
    from curation.services import job_kinds
    from curation.services.ingest import source_ingest
    from curation.services.jobs import job_create
    from curation.services.sources import source_register

    source = source_register(name=f"bench-coco-{time.time_ns()}", location=str(path), image_root=str(path.parent / "train2014"),
                             declaration={"records_key": "images", "join_records_key": "annotations", "join_left_key": "id",
                                          "join_right_key": "image_id", "join_many": True, "join_column": "captions",
                                          "label_origin": "human", "task_name": "captioning"})
    job = job_create(kind=job_kinds.INGEST.key, target=source)
    started = time.perf_counter()
    source_ingest(source=source, job=job)
    elapsed = time.perf_counter() - started
    return elapsed, SourceRow.objects.filter(source=source).count()


class _Accounting:
    """Where the service's time goes, by wrapping its parts for one run (a run apart from the timed ones):
    each part's own time, without the parts it calls. Main thread only: image threads show as the wait for them."""

    PARTS = {  # part: (module, class or None, function)
        "read": [("curation.services.ingest", None, "records_guarded")],
        "prepare": [("curation.ingest.records", "RecordPreparer", "prepare_quick"),
                    ("curation.ingest.records", "RecordPreparer", "prepare")],
        "image wait": [("curation.ingest.records", "RecordPreparer", "settle")],
        "write": [("curation.ingest.writer", "RowWriter", "add"), ("curation.ingest.writer", "RowWriter", "hold")],
        "commit": [("curation.ingest.writer", "RowWriter", "flush")],
        "progress": [("curation.services.ingest", None, "_flush")],
    }

    def __init__(self) -> None:
        self.seconds: dict[str, float] = dict.fromkeys(self.PARTS, 0.0)
        self._stack: list[float] = []  # time spent in nested parts, per open part
        self._undo: list[tuple[object, str, object]] = []

    def _timed(self, part: str, function):
        import functools
        import inspect

        def enter() -> float:
            self._stack.append(0.0)
            return time.perf_counter()

        def leave(started: float) -> None:
            spent = time.perf_counter() - started
            nested = self._stack.pop()
            self.seconds[part] += spent - nested
            if self._stack:
                self._stack[-1] += spent

        if inspect.isgeneratorfunction(function):
            @functools.wraps(function)
            def generator(*args, **kwargs):
                iterator = function(*args, **kwargs)
                while True:
                    started = enter()
                    try:
                        item = next(iterator)
                    except StopIteration:
                        leave(started)
                        return
                    leave(started)
                    yield item
            return generator

        @functools.wraps(function)
        def wrapper(*args, **kwargs):
            started = enter()
            try:
                return function(*args, **kwargs)
            finally:
                leave(started)
        return wrapper

    def __enter__(self) -> "_Accounting":
        import importlib

        for part, places in self.PARTS.items():
            for module_name, class_name, attribute in places:
                owner = importlib.import_module(module_name)
                if class_name:
                    owner = getattr(owner, class_name)
                original = getattr(owner, attribute)
                self._undo.append((owner, attribute, original))
                setattr(owner, attribute, self._timed(part, original))
        return self

    def __exit__(self, *exc: object) -> None:
        for owner, attribute, original in reversed(self._undo):
            setattr(owner, attribute, original)


def _parts_line(parts: dict[str, float], total: float) -> str:
    shown = {**parts, "other": max(0.0, total - sum(parts.values()))}
    return ", ".join(f"{name} {seconds:.2f} s ({seconds / total:.0%})" for name, seconds in shown.items())


def _run_service(path: Path, account: dict[str, float] | None = None) -> tuple[float, int, int]:
    from curation.models import SourceRow
    from curation.services.ingest import source_ingest
    from curation.services.jobs import job_create
    from curation.services.sources import source_register

    source = source_register(name=f"bench-{time.time_ns()}", location=str(path))
    job = job_create(kind=job_kinds.INGEST.key, target=source)
    if account is None:
        started = time.perf_counter()
        source_ingest(source=source, job=job)
        elapsed = time.perf_counter() - started
    else:
        with _Accounting() as accounting:
            started = time.perf_counter()
            source_ingest(source=source, job=job)
            elapsed = time.perf_counter() - started
        account.update(accounting.seconds)
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


def _run_raw_copy(url: str, path: Path, source_id: int, account: dict[str, float] | None = None) -> tuple[float, int]:
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
            sent = time.perf_counter()
        conn.commit()
        elapsed = time.perf_counter() - started
        if account is not None:  # read and write are one loop here: what the server does runs beside it
            account["read+write"] = account.get("read+write", 0.0) + sent - started
            account["commit"] = account.get("commit", 0.0) + elapsed - (sent - started)
        count = conn.execute("SELECT count(*) FROM raw_rows").fetchone()[0]
    return elapsed, count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--quick", action="store_true", help="20k rows: finishes well under a minute")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each side; the best one counts")
    parser.add_argument("--images", type=int, default=100_000, help="images of the joined COCO-style source")
    parser.add_argument("--image-rows", type=int, default=5_000, help="rows of the image-bearing source (one JPEG each)")
    args = parser.parse_args()
    rows = 20_000 if args.quick else args.rows
    coco_images = 10_000 if args.quick else args.images
    image_rows = 500 if args.quick else args.image_rows

    admin_url = os.environ.get("DATABASE_URL", "")
    if not admin_url.startswith("postgres"):
        raise SystemExit("DATABASE_URL must point at PostgreSQL")
    bench_url = database_url(admin_url, BENCH_DB)
    database_recreate(admin_url, BENCH_DB)
    workdir = Path(tempfile.mkdtemp(prefix="bench_ingest_"))
    os.environ["DATABASE_URL"] = bench_url
    os.environ["FINECURATE_DATA_ROOTS"] = str(workdir)
    os.environ["FINECURATE_VAR_DIR"] = str(workdir / "var")
    # The worker that ingests runs with DEBUG off (docker-compose.yml): so does the bench, whatever the shell says.
    os.environ["DEBUG"] = "0"
    if len(os.environ.get("SECRET_KEY", "")) < 50:
        import secrets

        os.environ["SECRET_KEY"] = secrets.token_urlsafe(48)
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
        # One more run of each, with its time accounted part by part (the wrapping costs a little: not counted above).
        service_parts: dict[str, float] = {}
        raw_parts: dict[str, float] = {}
        service_parts_s = _run_service(path, account=service_parts)[0]
        raw_parts_s = _run_raw_copy(bench_url, path, source_id, account=raw_parts)[0]
        coco = _write_coco(workdir / "coco", coco_images)
        join_runs: list[float] = []
        dict_runs: list[float] = []
        for _ in range(args.repeat):
            seconds, join_rows, join_captions = _run_join_reader(coco)
            join_runs.append(seconds)
            seconds, dict_rows, dict_captions = _run_join_dicts(coco)
            dict_runs.append(seconds)
        join_s, dict_s = min(join_runs), min(dict_runs)
        join_mib, dict_mib = _peak_mib(_run_join_reader, coco), _peak_mib(_run_join_dicts, coco)
        # --quick ingests a smaller joined file through the service (images are stored row by row: the slow part).
        service_coco = coco if not args.quick else _write_coco(workdir / "coco-service", QUICK_SERVICE_IMAGES)
        service_images = coco_images if not args.quick else QUICK_SERVICE_IMAGES
        join_service_s, join_service_rows = _run_join_service(service_coco)
        # The image-bearing source: each run a new source over fresh media folders, so every image is stored anew.
        from django.conf import settings

        image_path = _write_image_samples(workdir / "with_images", image_rows)
        image_threads = settings.FINECURATE_INGEST_IMAGE_THREADS
        image_service_runs: list[float] = []
        image_floor_runs: list[float] = []
        one_thread_runs: list[float] = []
        for _ in range(args.repeat):
            settings.MEDIA_ROOT = _fresh_media(workdir)
            seconds, image_service_rows, image_source_id = _run_service(image_path)
            image_service_runs.append(seconds)
            image_floor_runs.append(_run_image_floor(bench_url, image_path, image_source_id, _fresh_media(workdir)))
            # The floor runs in one thread; the service with its image threads off, for comparison.
            settings.MEDIA_ROOT, settings.FINECURATE_INGEST_IMAGE_THREADS = _fresh_media(workdir), 0
            one_thread_runs.append(_run_service(image_path)[0])
            settings.FINECURATE_INGEST_IMAGE_THREADS = image_threads
        assert image_service_rows == image_rows, (image_service_rows, image_rows)
        image_service_s, image_floor_s, one_thread_s = min(image_service_runs), min(image_floor_runs), min(one_thread_runs)
        image_service_parts: dict[str, float] = {}
        image_floor_parts: dict[str, float] = {}
        settings.MEDIA_ROOT = _fresh_media(workdir)
        image_service_parts_s = _run_service(image_path, account=image_service_parts)[0]
        image_floor_parts_s = _run_image_floor(bench_url, image_path, image_source_id, _fresh_media(workdir),
                                               account=image_floor_parts)
    finally:
        connections.close_all()
        database_drop(admin_url, BENCH_DB)
        for file in sorted(workdir.rglob("*"), reverse=True):
            file.rmdir() if file.is_dir() else file.unlink()
        workdir.rmdir()

    assert service_rows == raw_rows == rows, (service_rows, raw_rows, rows)
    assert join_rows == dict_rows == coco_images and join_service_rows == service_images, (join_rows, dict_rows,
                                                                                          join_service_rows)
    assert join_captions == dict_captions == coco_images * CAPTIONS_PER_IMAGE
    join_rate, dict_rate, join_service_rate = coco_images / join_s, coco_images / dict_s, service_images / join_service_s
    join_ratio = join_rate / dict_rate
    memory_ratio = join_mib / dict_mib
    service_rate, raw_rate, reingest_rate = rows / service_s, rows / raw_s, rows / reingest_s
    ratio = service_rate / raw_rate
    print(f"rows:                         {rows:,} (best of {args.repeat} runs each)")
    print(f"ingest service (new source):  {service_rate:,.0f} samples/s ({service_s:.2f} s)")
    print(f"ingest service (re-ingest):   {reingest_rate:,.0f} samples/s ({reingest_s:.2f} s, upsert path)")
    print(f"raw psycopg COPY:             {raw_rate:,.0f} samples/s ({raw_s:.2f} s)")
    print(f"every run (samples/s):        service {[round(rows / t) for t in service_runs]}, raw {[round(rows / t) for t in raw_runs]}")
    print(f"ratio service / raw:          {ratio:.2f} (goal >= {GOAL_RATIO})")
    print(f"  where the service's time goes (one run, {service_parts_s:.2f} s): "
          f"{_parts_line(service_parts, service_parts_s)}")
    print(f"  where the COPY's time goes (one run, {raw_parts_s:.2f} s): {_parts_line(raw_parts, raw_parts_s)}")
    print(f"joined COCO-style source:     {coco_images:,} images x {CAPTIONS_PER_IMAGE} captions")
    print(f"  streaming join (reader):    {join_rate:,.0f} images/s ({join_s:.2f} s)")
    print(f"  plain dicts (json.load):    {dict_rate:,.0f} images/s ({dict_s:.2f} s)")
    print(f"  ratio join / dicts:         {join_ratio:.2f} (goal >= {JOIN_GOAL_RATIO})")
    print(f"  peak memory join / dicts:   {join_mib:.1f} MiB / {dict_mib:.1f} MiB = {memory_ratio:.2f} "
          f"(goal <= {JOIN_GOAL_MEMORY_RATIO})")
    print(f"  ingest service, joined:     {join_service_rate:,.0f} images/s ({service_images:,} images in "
          f"{join_service_s:.2f} s, rows with images)")
    image_rate, image_floor_rate = image_rows / image_service_s, image_rows / image_floor_s
    image_ratio = image_rate / image_floor_rate
    print(f"image rows (512 px JPEG each): {image_rows:,}: service {image_rate:,.0f} rows/s, floor {image_floor_rate:,.0f} rows/s")
    one_thread_rate = image_rows / one_thread_s
    print(f"ratio service / floor:        {image_ratio:.2f} (goal >= {IMAGE_GOAL_RATIO}; the service checks and writes "
          f"images on {image_threads} threads, the floor on one)")
    print(f"  every run (rows/s):         service {[round(image_rows / t) for t in image_service_runs]}, floor "
          f"{[round(image_rows / t) for t in image_floor_runs]}")
    print(f"  service, no image threads:  {one_thread_rate:,.0f} rows/s = {one_thread_rate / image_floor_rate:.2f} x floor")
    print(f"  where the service's time goes (one run, {image_service_parts_s:.2f} s, main thread): "
          f"{_parts_line(image_service_parts, image_service_parts_s)}")
    print(f"  where the floor's time goes (one run, {image_floor_parts_s:.2f} s): "
          f"{_parts_line(image_floor_parts, image_floor_parts_s)}")
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
                "join_images": coco_images,
                "join_captions_per_image": CAPTIONS_PER_IMAGE,
                "join_images_per_s": round(join_rate),
                "join_dict_floor_images_per_s": round(dict_rate),
                "join_ratio": round(join_ratio, 3),
                "join_service_images": service_images,
                "join_service_images_per_s": round(join_service_rate),
                "join_peak_mib": round(join_mib, 1),
                "join_dict_floor_peak_mib": round(dict_mib, 1),
                "join_memory_ratio": round(memory_ratio, 3),
                "image_rows": image_rows,
                "image_service_rows_per_s": round(image_rate),
                "image_floor_rows_per_s": round(image_floor_rate),
                "image_ratio": round(image_ratio, 3),
                "image_threads": image_threads,
                "image_one_thread_rows_per_s": round(one_thread_rate),
                "image_one_thread_ratio": round(one_thread_rate / image_floor_rate, 3),
                "goal": (f"ingest service >= {GOAL_RATIO} x raw psycopg COPY samples/s; on 512 px JPEG rows >= "
                         f"{IMAGE_GOAL_RATIO} x a floor that COPYs the same rows and writes the same image files; streaming "
                         f"join >= {JOIN_GOAL_RATIO} x plain-dict join images/s with <= {JOIN_GOAL_MEMORY_RATIO} x its "
                         "peak memory"),
                "met": (ratio >= GOAL_RATIO and image_ratio >= IMAGE_GOAL_RATIO and join_ratio >= JOIN_GOAL_RATIO
                        and memory_ratio <= JOIN_GOAL_MEMORY_RATIO),
            }
        )
    )


if __name__ == "__main__":
    main()
