"""Benchmark: server time of claim + decide under 20 concurrent reviewers, with 10k and with 1M queued items.

A real HTTP server (gunicorn, on 127.0.0.1) serves the review API from a database of its own
(bench_review on the server of DATABASE_URL, created, migrated and dropped here). Twenty client threads,
each a reviewer with an API token, loop a fixed number of times: claim the next item of one queue
(POST /api/review/queues/<id>/claim/, the sample's payload included), then decide it
(POST /api/review/items/<id>/decide/, accept or reject with a reason), and stop by themselves.
Server time is gunicorn's own request time (%(D)s in its access log: from the request read to the
response written, so waiting in the listen queue is not counted); the client round trip is reported too.
Items are seeded with INSERT ... SELECT; the queue grows from 10k items to 1M (--quick: 50k) between runs.

Goal: p95 of claim + decide <= 50 ms at the large size, and p95(large) / p95(10k) <= 1.5.
Usage: DEBUG=1 DATABASE_URL=postgres://postgres@127.0.0.1:5432/x .venv/bin/python bench/review.py [--quick]
"""
import argparse
import http.client
import json
import os
import secrets
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

from benchdb import database_drop, database_recreate, database_url  # noqa: E402  (bench/ is on sys.path)

BENCH_DB = "bench_review"
CLIENTS = 20
SMALL = 10_000
GOAL_P95_MS = 50.0
GOAL_RATIO = 1.5
SEED_BATCH = 250_000
WARMUP_PAIRS = 3  # per client, not counted: connection and cache warm-up
REJECT_EVERY = 4





# ---------------------------------------------------------------- seeding


def _setup_django(bench_url: str) -> None:
    os.environ["DATABASE_URL"] = bench_url
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def _seed_base(clients: int) -> tuple[int, int, list[str]]:
    """A subset with its (empty) sample queue, and CLIENTS reviewers with API tokens."""
    from django.contrib.auth.models import Group, User

    from curation.models import Source, Subset
    from curation.services.api_tokens import token_rotate
    from curation.services.review import review_queue_create

    subset = Subset.objects.create(name="bench-review")
    source = Source.objects.create(name="bench-review-source", location="/dev/null", status=Source.Status.READY)
    queue = review_queue_create(kind="sample", subset=subset, by=None)
    reviewers = Group.objects.get(name="reviewer")
    tokens = []
    for i in range(clients):
        user = User.objects.create_user(username=f"bench-reviewer-{i}")
        user.groups.add(reviewers)
        tokens.append(token_rotate(user=user)[1])
    return queue.pk, source.pk, tokens


def _seed_items(queue_id: int, source_id: int, start: int, stop: int) -> float:
    """Samples start..stop-1 and one queued item each, inserted set-wise by the database; returns seconds."""
    from django.contrib.contenttypes.models import ContentType
    from django.db import connection

    from curation.models import ReviewQueue, Sample

    queue = ReviewQueue.objects.get(pk=queue_id)
    sample_type = ContentType.objects.get_for_model(Sample).pk
    began = time.perf_counter()
    with connection.cursor() as cursor:
        for low in range(start, stop, SEED_BATCH):
            high = min(stop, low + SEED_BATCH)
            cursor.execute(
                """
                INSERT INTO curation_sample (subset_id, source_id, row_number, turns, image_count, status,
                    reject_reason, rating_engine, created_at, updated_at)
                SELECT %s, %s, g, jsonb_build_array(jsonb_build_object(
                        'user', 'What does picture ' || g || ' show?', 'assistant', 'A test card, number ' || g || '.')),
                    0, 'pending', '', '', now(), now()
                FROM generate_series(%s, %s) AS g
                """,
                [queue.subset_id, source_id, low, high - 1],
            )
            cursor.execute(
                """
                INSERT INTO curation_reviewitem (queue_id, kind, subset_id, target_type_id, target_id, round, state,
                    priority, score, attributes, verdict, created_at)
                SELECT %s, 'sample', s.subset_id, %s, s.id::text, 1, 'queued', 0, NULL,
                    jsonb_build_object('source', s.source_id, 'images', 0, 'turns', 1), '', now()
                FROM curation_sample s
                WHERE s.subset_id = %s AND s.row_number BETWEEN %s AND %s
                """,
                [queue_id, sample_type, queue.subset_id, low, high - 1],
            )
        cursor.execute("VACUUM ANALYZE curation_sample")
        cursor.execute("VACUUM ANALYZE curation_reviewitem")
    return time.perf_counter() - began


def _queued(queue_id: int) -> int:
    from curation.models import ReviewItem

    return ReviewItem.objects.filter(queue_id=queue_id, state="queued").count()


# ---------------------------------------------------------------- the server


# What config/gunicorn.py gives docker-compose's web service (its defaults, as the bench runs them).
SHIPPED_GUNICORN = "config/gunicorn.py: gthread, WEB_CONCURRENCY=" + os.environ.get("WEB_CONCURRENCY", "3") + \
    " workers x GUNICORN_THREADS=" + os.environ.get("GUNICORN_THREADS", "16") + " threads"


class Server:
    """gunicorn serving FineCurate from the bench database, its access log recording request times."""

    def __init__(self, bench_url: str, workdir: Path):
        self.port = _free_port()
        self.log = workdir / "access.log"
        self.errors = workdir / "gunicorn.err"
        env = {
            **os.environ,
            "DATABASE_URL": bench_url,
            "DEBUG": "0",
            "SECRET_KEY": secrets.token_urlsafe(50),
            # Plain HTTP on loopback, the documented switch; everything else is the shipped default.
            "FINECURATE_PLAIN_HTTP": "1",
            "ALLOWED_HOSTS": "127.0.0.1",
            "LOG_LEVEL": "WARNING",
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "FINECURATE_VAR_DIR": str(workdir / "var"),
        }
        gunicorn = Path(sys.executable).with_name("gunicorn")
        self.process = subprocess.Popen(
            [
                # Exactly what docker-compose's web service runs; only the access log is added, to read request times.
                str(gunicorn), "-c", "config/gunicorn.py", "config.wsgi",
                "--access-logfile", str(self.log),
                "--access-logformat", "%(m)s %(U)s %(s)s %(D)s %({x-bench-op}i)s",
                "--log-level", "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=self.errors.open("wb"),
        )

    def wait_ready(self, token: str) -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited: {self._error_tail()}")
            try:
                status, _, _ = _request(self.port, "GET", "/api/review/queues/", token)
                if status == 200:
                    return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"gunicorn did not answer within 60 s: {self._error_tail()}")

    def _error_tail(self) -> str:
        return self.errors.read_text(errors="replace")[-3000:] if self.errors.exists() else ""

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()

    def request_times(self) -> dict[str, dict[str, float]]:
        """{op id: {"claim": ms, "decide": ms}} from the access log."""
        ops: dict[str, dict[str, float]] = {}
        for line in self.log.read_text().splitlines():
            parts = line.split()
            if len(parts) != 5 or parts[4] == "-":
                continue
            _method, path, _status, micros, op = parts
            step = "claim" if path.endswith("/claim/") else "decide" if path.endswith("/decide/") else None
            if step:
                ops.setdefault(op, {})[step] = int(micros) / 1000.0
        return ops


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _request(port: int, method: str, path: str, token: str, body: dict | None = None, op: str = "") -> tuple[int, bytes, float]:
    # A fresh connection per request, as each reviewer's client would open.
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    headers = {"Authorization": f"Token {token}", "Host": "127.0.0.1"}
    if op:
        headers["X-Bench-Op"] = op
    payload = None
    if body is not None:
        payload = json.dumps(body).encode()
        headers["Content-Type"] = "application/json"
    began = time.perf_counter()
    conn.request(method, path, body=payload, headers=headers)
    response = conn.getresponse()
    data = response.read()
    elapsed = (time.perf_counter() - began) * 1000
    conn.close()
    return response.status, data, elapsed


# ---------------------------------------------------------------- clients


def _run_clients(port: int, queue_id: int, tokens: list[str], pairs: int, label: str) -> tuple[list[str], list[float], int]:
    """Each client claims and decides `pairs` + warm-up items; returns counted op ids, client round trips, errors."""
    counted: list[str] = []
    round_trips: list[float] = []
    errors: list[str] = []
    lock = threading.Lock()
    start = threading.Barrier(len(tokens))

    def client(index: int, token: str) -> None:
        start.wait()
        for n in range(pairs + WARMUP_PAIRS):
            op = f"{label}-{index}-{n}"
            status, data, claim_ms = _request(port, "POST", f"/api/review/queues/{queue_id}/claim/", token, op=op)
            if status != 200:
                with lock:
                    errors.append(f"claim {status}: {data[:200]!r}")
                return
            item = json.loads(data)
            verdict = {"verdict": "reject", "reason": "formatting"} if n % REJECT_EVERY == 0 else {"verdict": "accept"}
            status, data, decide_ms = _request(port, "POST", f"/api/review/items/{item['id']}/decide/", token, verdict, op=op)
            if status != 200:
                with lock:
                    errors.append(f"decide {status}: {data[:200]!r}")
                return
            if n >= WARMUP_PAIRS:
                with lock:
                    counted.append(op)
                    round_trips.append(claim_ms + decide_ms)

    threads = [threading.Thread(target=client, args=(i, t), daemon=True) for i, t in enumerate(tokens)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    if errors:
        raise SystemExit(f"{len(errors)} client errors, first: {errors[0]}")
    return counted, round_trips, len(errors)


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return statistics.quantiles(ordered, n=100, method="inclusive")[q - 1] if len(ordered) > 1 else ordered[0]


def _measure(server: Server, queue_id: int, tokens: list[str], pairs: int, label: str) -> dict[str, float]:
    began = time.perf_counter()
    counted, round_trips, _ = _run_clients(server.port, queue_id, tokens, pairs, label)
    wall = time.perf_counter() - began
    time.sleep(0.5)  # let gunicorn flush its access log
    times = server.request_times()
    server_ms = [times[op]["claim"] + times[op]["decide"] for op in counted if "claim" in times.get(op, {}) and "decide" in times[op]]
    if len(server_ms) != len(counted):
        raise SystemExit(f"{label}: {len(counted) - len(server_ms)} requests missing from the access log")
    claims = [times[op]["claim"] for op in counted]
    decides = [times[op]["decide"] for op in counted]
    return {
        "pairs": len(server_ms),
        "p50_ms": round(_percentile(server_ms, 50), 2),
        "p95_ms": round(_percentile(server_ms, 95), 2),
        "claim_p95_ms": round(_percentile(claims, 95), 2),
        "decide_p95_ms": round(_percentile(decides, 95), 2),
        "client_p50_ms": round(_percentile(round_trips, 50), 2),
        "client_p95_ms": round(_percentile(round_trips, 95), 2),
        "pairs_per_s": round((len(counted) + WARMUP_PAIRS * len(tokens)) / wall, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="50k items instead of 1M and fewer pairs (under a minute)")
    parser.add_argument("--large", type=int, default=None, help="queued items in the large run (default 1M; 50k with --quick)")
    parser.add_argument("--pairs", type=int, default=None, help="claim+decide pairs per client (default 60; 25 with --quick)")
    parser.add_argument("--clients", type=int, default=CLIENTS, help="concurrent reviewers (the goal is stated for 20)")
    args = parser.parse_args()
    large = args.large or (50_000 if args.quick else 1_000_000)
    pairs = args.pairs or (25 if args.quick else 60)
    base_url = os.environ.get("DATABASE_URL", "")
    if not base_url.startswith("postgres"):
        raise SystemExit("DATABASE_URL must point at PostgreSQL (the bench creates its own database beside it)")
    admin_url = database_url(base_url, "postgres")
    bench_url = database_url(base_url, BENCH_DB)
    workdir = Path(tempfile.mkdtemp(prefix="bench-review-"))
    database_recreate(admin_url, BENCH_DB)
    server = None
    try:
        _setup_django(bench_url)
        queue_id, source_id, tokens = _seed_base(args.clients)
        seed_small = _seed_items(queue_id, source_id, 0, SMALL)
        print(f"seeded {SMALL:,} items in {seed_small:.1f}s", flush=True)
        server = Server(bench_url, workdir)
        server.wait_ready(tokens[0])
        small = _measure(server, queue_id, tokens, pairs, "small")
        print(f"{SMALL:,} items: {small}", flush=True)
        seed_large = _seed_items(queue_id, source_id, SMALL, large)
        queued = _queued(queue_id)
        print(f"seeded up to {large:,} items in {seed_large:.1f}s ({queued:,} queued)", flush=True)
        big = _measure(server, queue_id, tokens, pairs, "large")
        print(f"{large:,} items: {big}", flush=True)
    finally:
        if server is not None:
            server.stop()
        from django.db import connections

        connections.close_all()
        database_drop(admin_url, BENCH_DB)
        shutil.rmtree(workdir, ignore_errors=True)
    ratio = big["p95_ms"] / small["p95_ms"]
    met = big["p95_ms"] <= GOAL_P95_MS and ratio <= GOAL_RATIO
    print(json.dumps({
        "bench": "review",
        "clients": args.clients,
        "gunicorn": SHIPPED_GUNICORN,
        "small_items": SMALL,
        "large_items": large,
        "pairs_per_run": big["pairs"],
        "p50_ms_small": small["p50_ms"],
        "p95_ms_small": small["p95_ms"],
        "p50_ms_large": big["p50_ms"],
        "p95_ms_large": big["p95_ms"],
        "claim_p95_ms_large": big["claim_p95_ms"],
        "decide_p95_ms_large": big["decide_p95_ms"],
        "client_p95_ms_large": big["client_p95_ms"],
        "pairs_per_s_large": big["pairs_per_s"],
        "p95_ratio_large_to_small": round(ratio, 3),
        "goal": f"server time of claim+decide p95 <= {GOAL_P95_MS:g} ms at {large:,} queued items with {args.clients} "
                f"concurrent clients, and p95({large:,}) / p95({SMALL:,}) <= {GOAL_RATIO}",
        "met": met,
    }))


if __name__ == "__main__":
    main()
