"""Benchmark: quality ratings. The built-in judge's turns/s, and the chat client's throughput.

1. The built-in judge (rules + the bundled all-MiniLM-L6-v2) rates 100k turns (--quick: 300) in the
   batches the rating job uses (RATE_BATCH_SIZE samples of one turn each), on CPU with shipped settings.
   The turns are VQA-like: questions from 40 templates filled with varied objects, colours and numbers;
   answers of every kind (counts, yes/no, options, sentences, descriptions, broken ones), all but
   repeats of the templates' words distinct. Reported as turns/s.
2. The OpenAI-compatible client (chat_many, the chat judge's path) against a loopback chat-completions
   server that answers each request after a fixed 50 ms: requests/s at concurrency 32 on clean answers,
   as a ratio to the limit concurrency / latency (32 / 0.05 s = 640 requests/s).
3. The chat judge rates turns (three text axes and image correspondence with a PNG as data URL) against the
   same server, which now answers 10% of requests with a 429 (no Retry-After: the client's own backoff) or
   a malformed answer. Every turn must come back rated on all four axes (none lost) and each axis
   request must have been answered well exactly once (none rated twice).

Goal: client throughput >= 0.8 of the limit at concurrency 32; the faulty run loses no turn and rates none twice.
Usage: DEBUG=1 .venv/bin/python bench/quality.py [--quick]
"""
import argparse
import io
import json
import os
import random
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

django.setup()

import torch  # noqa: E402
from PIL import Image  # noqa: E402

from curation.engines.chat import LLMConfig, LLMError, chat_many  # noqa: E402
from curation.engines.judges import RATING_AXES, TurnImage, TurnToRate, level_parse  # noqa: E402
from curation.engines.judges_builtin import BuiltinJudge  # noqa: E402
from curation.engines.judges_chat import ChatJudge  # noqa: E402
from curation.services.ratings import RATE_BATCH_SIZE  # noqa: E402

LATENCY = 0.05
CONCURRENCY = 32
GOAL_RATIO = 0.8
FAULT_SHARE = 0.10

OBJECTS = ["dog", "cat", "car", "bus", "tree", "person", "chair", "table", "bird", "boat", "sign", "cup", "laptop", "horse", "ball"]
COLOURS = ["red", "blue", "green", "yellow", "black", "white", "orange", "purple", "brown", "grey"]
PLACES = ["kitchen", "street", "park", "beach", "office", "field", "station", "market", "river", "garden"]
TEMPLATES = [
    "How many {o}s are in the image?", "What colour is the {o} on the left?", "Is there a {o} in the picture?",
    "What is written on the {o}?", "Where is the {o} located?", "Describe the image.", "What is the {o} doing?",
    "Which option is correct?\nA. a {o}\nB. a {o2}\nC. a {o3}", "Is the {o} {c}?", "What does the chart show about {p}s?",
    "Who wrote the book on the {o}?", "What is the capital of the country shown?", "Explain why the {o} is {c}.",
    "Count the {o}s next to the {o2}.", "What is behind the {o}?", "Is the {o} bigger than the {o2}?",
    "What time does the clock in the {p} show?", "What brand is the {o}?", "How many people are in the {p}?",
    "What is the {o} made of?",
] * 2


def synthetic_turns(n: int, seed: int = 7) -> list[TurnToRate]:
    rng = random.Random(seed)
    turns = []
    for i in range(n):
        o, o2, o3 = rng.sample(OBJECTS, 3)
        c, p = rng.choice(COLOURS), rng.choice(PLACES)
        question = rng.choice(TEMPLATES).format(o=o, o2=o2, o3=o3, c=c, p=p)
        kind = i % 8
        if kind == 0:
            answer = str(rng.randint(0, 40))
        elif kind == 1:
            answer = rng.choice(["Yes", "No", "Yes, it is.", "No, it is not."])
        elif kind == 2:
            answer = rng.choice("ABC")
        elif kind == 3:
            answer = f"The {o} is {c} and stands in the {p} near a {o2}, about {rng.randint(2, 90)} metres away."
        elif kind == 4:
            answer = f"A {c} {o} in a {p} with a {o2} and {rng.randint(2, 9)} {o3}s around it"
        elif kind == 5:
            answer = f"<image> the {o} the {o} the {o} the {o} the {o} is {c}"
        elif kind == 6:
            answer = f"It looks like a {o2} made of {rng.choice(['wood', 'metal', 'glass', 'plastic'])}."
        else:
            answer = f"There are {rng.randint(1, 12)} {o}s and {rng.randint(1, 12)} {o2}s in the {p} #{i}."
        turns.append(TurnToRate(question=question, answer=answer, image_count=0 if i % 10 == 0 else 1))
    return turns


def bench_builtin(n: int) -> dict:
    judge = BuiltinJudge()
    turns = synthetic_turns(n)
    judge.rate(turns[:32])  # load the model once, outside the timing
    start, cpu_start = time.perf_counter(), time.process_time()
    rated = 0
    for begin in range(0, n, RATE_BATCH_SIZE):
        rated += len(judge.rate(turns[begin : begin + RATE_BATCH_SIZE]))
    elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    return {
        "builtin_turns": rated, "builtin_seconds": round(elapsed, 2), "builtin_turns_per_s": round(rated / elapsed, 1),
        "builtin_cpu_seconds": round(cpu, 2), "builtin_turns_per_cpu_s": round(rated / cpu, 1) if cpu else None,
        "torch_threads": torch.get_num_threads(), "load_average_1m": round(os.getloadavg()[0], 2),
    }


class RemoteServer:
    """The loopback server in its own process (as a real endpoint is): this process holds only the client."""

    def __init__(self, behaviour: str):
        self.process = subprocess.Popen(  # noqa: S603 (our own script)
            [sys.executable, "-m", "tests.curation.ratings.chat_server", behaviour, str(LATENCY), str(FAULT_SHARE)],
            stdout=subprocess.PIPE, text=True, cwd=ROOT
        )
        line = self.process.stdout.readline() if self.process.stdout else ""
        self.url = line.strip()
        if not self.url.startswith("http://127.0.0.1:"):
            raise RuntimeError(f"the loopback server did not start: {line!r}")

    def stats(self) -> dict:
        with urllib.request.urlopen(f"{self.url}/stats", timeout=10) as response:  # noqa: S310 (loopback)
            return json.loads(response.read())

    def __enter__(self) -> "RemoteServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.terminate()
        self.process.wait(timeout=10)


def bench_client(requests_count: int) -> dict:
    with RemoteServer("clean") as server:
        config = LLMConfig(base_url=server.url, model="bench", concurrency=CONCURRENCY, timeout=10)
        warm = [[{"role": "user", "content": "warm"}]] * CONCURRENCY
        chat_many(warm, parse=level_parse, config=config)
        requests = [[{"role": "user", "content": f"rate {i}"}] for i in range(requests_count)]
        start, cpu_start = time.perf_counter(), time.process_time()
        answers = chat_many(requests, parse=level_parse, config=config)
        elapsed, cpu = time.perf_counter() - start, time.process_time() - cpu_start
        stats = server.stats()
    failures = sum(isinstance(a, LLMError) for a in answers)
    throughput = requests_count / elapsed
    limit = CONCURRENCY / LATENCY
    return {
        "client_requests": requests_count,
        "client_failures": failures,
        "client_requests_per_s": round(throughput, 1),
        "client_limit_per_s": round(limit, 1),
        "client_ratio": round(throughput / limit, 3),
        "client_max_in_flight": stats["max_in_flight"],
        # The client's own CPU per request: what it costs beside the server's latency.
        "client_cpu_ms_per_request": round(1000 * cpu / requests_count, 3),
        "load_average_1m_after": round(os.getloadavg()[0], 2),
    }


def _png() -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def bench_faults(turn_count: int) -> dict:
    image = TurnImage(_png(), "image/png")
    turns = [
        TurnToRate(question=f"What colour is object {i} in the image?", answer=f"Object {i} is red.", image_count=1, images=(image,))
        for i in range(turn_count)
    ]
    with RemoteServer("faulty") as server:
        judge = ChatJudge(LLMConfig(base_url=server.url, model="bench", concurrency=CONCURRENCY, timeout=10))
        start = time.perf_counter()
        results = judge.rate(turns)
        elapsed = time.perf_counter() - start
        stats = server.stats()
    return {
        "faults_turns": turn_count,
        "faults_axis_requests": turn_count * len(RATING_AXES),
        "faults_http_requests": stats["requests"],
        "faults_429": stats["faults"].get("429", 0),
        "faults_malformed": stats["faults"].get("malformed", 0),
        "faults_turns_lost": sum(1 for r in results if any(r[a].score is None for a in RATING_AXES)),
        "faults_axes_lost": sum(1 for r in results for axis in RATING_AXES if r[axis].score is None),
        "faults_answered_axes": stats["answered"],
        "faults_rated_twice": stats["answered_twice"],
        "faults_seconds": round(elapsed, 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer turns and requests (under a minute)")
    args = parser.parse_args()
    builtin = bench_builtin(300 if args.quick else 100_000)
    client = bench_client(1_280 if args.quick else 6_400)
    faults = bench_faults(96 if args.quick else 800)
    fault_free = faults["faults_axes_lost"] == 0 and faults["faults_rated_twice"] == 0 and faults["faults_429"] > 0
    met = client["client_ratio"] >= GOAL_RATIO and client["client_failures"] == 0 and fault_free
    print(json.dumps({
        "bench": "quality",
        **builtin,
        "concurrency": CONCURRENCY,
        "latency_s": LATENCY,
        **client,
        **faults,
        "goal": f"chat client >= {GOAL_RATIO} of concurrency/latency ({CONCURRENCY}/{LATENCY} s) on clean answers; with "
                f"{FAULT_SHARE:.0%} 429s/malformed answers no turn lost and none rated twice (built-in judge turns/s reported)",
        "met": met,
    }))


if __name__ == "__main__":
    main()
