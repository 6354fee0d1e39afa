"""A loopback OpenAI-compatible chat-completions server for tests and the quality bench: the one thing
they stub (a remote model endpoint). Each request is answered by `behaviour(body, n)` after `latency`."""
import json
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

# (status, raw body or reply text, extra headers); a str body is wrapped as a chat completion.
Answer = tuple[int, bytes | str, dict[str, str]]


def completion(text: str) -> bytes:
    return json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": text}}]}).encode()


def prompt_of(body: dict[str, Any]) -> str:
    content = body["messages"][-1]["content"]
    if isinstance(content, list):
        return " ".join(part.get("text", "") for part in content if part.get("type") == "text")
    return str(content)


class ChatServer:
    def __init__(
        self, behaviour: Callable[[dict[str, Any], int], Answer], *, latency: float = 0.0,
        stats: Callable[[], dict[str, Any]] | None = None, port: int = 0,
    ):
        self.behaviour = behaviour
        self.stats = stats or dict
        self.latency = latency
        self.requests: list[dict[str, Any]] = []
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # Headers and body are two writes; without TCP_NODELAY the body waits for a delayed ACK (~40 ms).
            disable_nagle_algorithm = True

            def do_POST(self) -> None:  # noqa: N802 (http.server's name)
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                with server._lock:
                    server.requests.append(body)
                    n = len(server.requests)
                    server.in_flight += 1
                    server.max_in_flight = max(server.max_in_flight, server.in_flight)
                try:
                    if server.latency:
                        time.sleep(server.latency)
                    status, payload, headers = server.behaviour(body, n)
                finally:
                    with server._lock:
                        server.in_flight -= 1
                if status == 0:  # hang up without answering (a dropped connection)
                    self.close_connection = True
                    return
                raw = completion(payload) if isinstance(payload, str) else payload
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                for key, value in headers.items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(raw)

            def do_GET(self) -> None:  # noqa: N802 (http.server's name): GET /stats, for a server in another process
                with server._lock:
                    raw = json.dumps({"requests": len(server.requests), "max_in_flight": server.max_in_flight,
                                      **server.stats()}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(raw)))
                self.end_headers()
                self.wfile.write(raw)

            def log_message(self, *args: object) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 256

        self.server = Server(("127.0.0.1", port), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}"

    def __enter__(self) -> "ChatServer":
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve(behaviour: str, latency: float, fault_share: float) -> None:
    """Serve in this process until terminated, printing the URL: "clean" answers 3 to everything; "faulty"
    answers every (1/fault_share)-th request with a 429 or a malformed answer, alternately. GET /stats
    tells how many distinct prompts were answered well, and how many of them more than once."""
    lock = threading.Lock()
    good_answers: Counter[str] = Counter()
    faults: Counter[str] = Counter()
    every = round(1 / fault_share) if fault_share else 0

    def answer(body: dict[str, Any], n: int) -> Answer:
        if behaviour == "faulty" and every and n % every == 0:
            with lock:
                kind = "429" if faults["429"] <= faults["malformed"] else "malformed"
                faults[kind] += 1
            if kind == "429":
                return 429, b'{"error": {"message": "rate limited"}}', {}
            return 200, "Rating: four out of five", {}
        with lock:
            good_answers[prompt_of(body)] += 1
        return 200, "3", {}

    def stats() -> dict[str, Any]:
        with lock:
            return {"faults": dict(faults), "answered": len(good_answers),
                    "answered_twice": sum(1 for n in good_answers.values() if n > 1)}

    with ChatServer(answer, latency=latency, stats=stats) as server:
        print(server.url, flush=True)  # noqa: T201 (the parent reads the URL)
        while True:  # until the parent terminates this process
            time.sleep(3600)


if __name__ == "__main__":
    serve(sys.argv[1], float(sys.argv[2]), float(sys.argv[3]))
