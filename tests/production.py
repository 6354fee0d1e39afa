"""The production web server started here, on loopback: the same gunicorn config docker-compose runs, DEBUG=0."""
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_SECRET_KEY = "production-like-secret-key-for-tests-only-" + "k" * 40  # noqa: S105
# Everything a test process may carry that a deployment would not.
DROPPED = {"DEBUG", "SECRET_KEY", "DJANGO_ALLOW_ASYNC_UNSAFE", "DJANGO_SETTINGS_MODULE"}


def production_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in DROPPED}
    env.update(
        DEBUG="0",
        SECRET_KEY=PRODUCTION_SECRET_KEY,
        # Plain HTTP on loopback: the documented switch for trials without the TLS proxy.
        FINECURATE_PLAIN_HTTP="1",
        PYTHONPATH=str(ROOT),
    )
    env.update(extra)
    return env


def dockerfile_collectstatic() -> str:
    """The Dockerfile's collectstatic command line, exactly as the image build runs it."""
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    runs = [line.removeprefix("RUN ").strip() for line in lines if line.startswith("RUN ") and "collectstatic" in line]
    assert len(runs) == 1, "the Dockerfile runs collectstatic exactly once"
    return runs[0]


@pytest.fixture(scope="session")
def production_static(tmp_path_factory) -> Path:
    """STATIC_ROOT filled by the Dockerfile's collectstatic command, run as the build runs it."""
    base = tmp_path_factory.mktemp("production")
    static_root = base / "staticfiles"
    env = production_env(STATIC_ROOT=str(static_root), FINECURATE_VAR_DIR=str(base / "var"))
    env.pop("SECRET_KEY")  # the Dockerfile's line brings its own throwaway key
    env.pop("DEBUG")
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    command = dockerfile_collectstatic()
    result = subprocess.run(["sh", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)  # noqa: S603
    assert result.returncode == 0, result.stderr[-3000:]
    assert (static_root / "staticfiles.json").exists(), "collectstatic wrote no manifest"
    return static_root


def database_url_for_tests() -> str:
    """The pytest database, for a server process the test starts."""
    from django.db import connection

    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


def manage(*args: str, env: dict[str, str], timeout: float = 180) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, timeout=timeout
    )


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def production_server(*, env: dict[str, str], ready_path: str = "/login/") -> Iterator[str]:
    """gunicorn -c config/gunicorn.py config.wsgi on a free loopback port; yields its base URL."""
    port = free_port()
    env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}"}
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    process = subprocess.Popen(  # noqa: S603
        [gunicorn, "-c", "config/gunicorn.py", "config.wsgi"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"gunicorn exited: {process.stderr.read().decode()[-3000:]}")
            try:
                urllib.request.urlopen(base + ready_path, timeout=2)  # noqa: S310
                break
            except urllib.error.HTTPError:
                break  # it answers
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
