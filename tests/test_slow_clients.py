"""Slow clients cannot take the app offline: 20 connections trickling POST bodies, and a normal request still answered.

The server is the production command (gunicorn -c config/gunicorn.py, as docker-compose runs it) on loopback.
"""
import socket
import threading
import time

import pytest
import requests

from tests.production import (
    database_url_for_tests,
    production_env,
    production_server,
    production_static,  # noqa: F401  (a fixture)
)

SLOW_CLIENTS = 20
TRICKLE_SECONDS = 6.0
BODY_BYTES = 1000


def _trickle(port: int, stop: threading.Event, started: threading.Barrier) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as conn:
        conn.sendall(
            b"POST /login/ HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            + f"Content-Length: {BODY_BYTES}\r\n\r\n".encode()
        )
        started.wait()
        sent = 0
        while not stop.is_set() and sent < BODY_BYTES:  # bounded: at most BODY_BYTES sends
            conn.sendall(b"a")
            sent += 1
            stop.wait(0.5)


@pytest.mark.django_db(transaction=True)
def test_twenty_slow_clients_do_not_delay_a_normal_request(production_static):  # noqa: F811
    env = production_env(DATABASE_URL=database_url_for_tests(), STATIC_ROOT=str(production_static))
    with production_server(env=env) as base:
        port = int(base.rsplit(":", 1)[1])
        stop = threading.Event()
        started = threading.Barrier(SLOW_CLIENTS + 1)
        clients = [threading.Thread(target=_trickle, args=(port, stop, started), daemon=True) for _ in range(SLOW_CLIENTS)]
        for client in clients:
            client.start()
        started.wait(timeout=10)
        time.sleep(1.0)  # every slow client now holds whatever the server gave it
        latencies = []
        deadline = time.monotonic() + TRICKLE_SECONDS
        try:
            while time.monotonic() < deadline:
                began = time.monotonic()
                response = requests.get(f"{base}/login/", timeout=5)
                latencies.append(time.monotonic() - began)
                assert response.status_code == 200
                time.sleep(0.25)
        finally:
            stop.set()
            for client in clients:
                client.join(timeout=10)
        print(f"slow clients: {SLOW_CLIENTS} trickling, {len(latencies)} normal requests, "
              f"max {max(latencies) * 1000:.0f} ms, median {sorted(latencies)[len(latencies) // 2] * 1000:.0f} ms")
        assert max(latencies) < 1.0
