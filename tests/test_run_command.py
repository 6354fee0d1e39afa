"""The README's first command on the embedded default: SQLite, a filesystem broker, a worker, the demo, a login."""
import contextlib
import http.cookiejar
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
DEMO_SOURCES = {"demo-llava", "demo-cauldron", "demo-sharegpt", "demo-gui"}
# Rows of each demo source: twelve photographs, five GUI trajectories.
DEMO_ROWS = {"demo-llava": 12, "demo-cauldron": 12, "demo-sharegpt": 12, "demo-gui": 5}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_for(predicate, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"timed out waiting for {what}")


@contextlib.contextmanager
def _up(tmp_path, *options: str):
    """`manage.py up` on the embedded default with its own var/ folder: (base URL, var dir, log path, process)."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_SETTINGS_MODULE"}}
    env.update({"DEBUG": "1", "FINECURATE_VAR_DIR": str(tmp_path / "var"), "PYTHONUNBUFFERED": "1"})
    env.pop("FINECURATE_DATA_ROOTS", None)
    log = (tmp_path / "up.log").open("w")
    process = subprocess.Popen(
        [sys.executable, "manage.py", "up", "--addr", f"127.0.0.1:{port}", *options],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        yield f"http://127.0.0.1:{port}", tmp_path / "var", tmp_path / "up.log", process
    finally:
        process.send_signal(signal.SIGTERM)  # `up` stops its worker, then exits
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        try:  # whatever of the process group is still alive (a worker's pool children)
            os.killpg(process.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


@pytest.fixture
def running_app(tmp_path):
    with _up(tmp_path) as running:
        yield running


def _banner(log_path: Path, process: subprocess.Popen) -> str:
    def started():
        text = log_path.read_text()
        if process.poll() is not None:
            pytest.fail(f"`manage.py up` exited with {process.returncode}:\n{text[-3000:]}")
        return "FineCurate is at" in text and text

    return _wait_for(started, 180, "the app to start")


def test_up_makes_the_default_data_root_and_says_where_it_is(tmp_path):
    with _up(tmp_path, "--no-demo", "--no-worker") as (_, var_dir, log_path, process):
        assert not (var_dir / "data").exists()
        output = _banner(log_path, process)
        assert (var_dir / "data").is_dir()
        assert f"Put source files in {(var_dir / 'data').resolve()} and register them" in output


def test_up_serves_the_demo_with_a_printed_login_and_a_working_worker(running_app):
    base_url, var_dir, log_path, process = running_app
    output = _banner(log_path, process)
    match = re.search(r"curator\s+password: (\S+)", output)
    assert match, output
    password = match.group(1)

    def demo_ingested():
        with sqlite3.connect(var_dir / "finecurate.sqlite3") as db:
            rows = db.execute("SELECT name, status, row_count FROM curation_source").fetchall()
        ready = {name: count for name, status, count in rows if status == "ready"}
        return ready if set(ready) == DEMO_SOURCES else None

    ingested = _wait_for(demo_ingested, 240, "the worker to ingest the demo sources")
    assert ingested == DEMO_ROWS, ingested

    def demo_suggested():
        with sqlite3.connect(var_dir / "finecurate.sqlite3") as db:
            rows = db.execute(
                "SELECT s.name, m.engine FROM curation_mapping m JOIN curation_source s ON s.id = m.source_id"
                " WHERE m.status = 'suggested'"
            ).fetchall()
        return dict(rows) if {name for name, _ in rows} == DEMO_SOURCES else None

    suggested = _wait_for(demo_suggested, 120, "the worker to suggest a mapping for each demo source")
    assert all(suggested.values()), suggested  # each suggestion names the engine that made it

    jar = http.cookiejar.CookieJar()
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
    opener.open(f"{base_url}/login/", timeout=30).read()
    csrf = next(cookie.value for cookie in jar if cookie.name == "csrftoken")
    body = urllib.parse.urlencode({"username": "curator", "password": password, "csrfmiddlewaretoken": csrf}).encode()
    request = urllib.request.Request(f"{base_url}/login/", data=body, headers={"Referer": f"{base_url}/login/"})
    home = opener.open(request, timeout=30).read().decode()
    assert "Sign out" in home
    sources = opener.open(f"{base_url}/sources/", timeout=30).read().decode()
    assert all(name in sources for name in DEMO_SOURCES)
