"""Settings read the environment, fail loudly on bad values, and pass Django's deployment checks."""
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run_manage(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess:
    # The browser fixture allows sync ORM calls under Playwright's loop; a deployment must not inherit that.
    dropped = {"DEBUG", "SECRET_KEY", "DATABASE_URL", "CELERY_BROKER_URL", "DJANGO_ALLOW_ASYNC_UNSAFE"}
    clean = {k: v for k, v in os.environ.items() if k not in dropped}
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env={**clean, **env}, capture_output=True, text=True, timeout=120
    )


def test_production_settings_pass_check_deploy():
    result = _run_manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        env={
            "DEBUG": "0",
            "SECRET_KEY": "x" * 60 + "production-like-key-for-the-check-only",
            "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/test",
            "CELERY_BROKER_URL": "redis://127.0.0.1:6379/0",
        },
    )
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_missing_secret_key_without_debug_fails_loudly():
    result = _run_manage("check", env={"DEBUG": "0"})
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DEBUG", "maybe", "is not a boolean"),
        ("FINECURATE_MAX_IMAGE_PIXELS", "lots", "is not an integer"),
        ("FINECURATE_LLM_TIMEOUT", "0.5", "is outside"),
        ("FINECURATE_TORCH_DEVICE", "tpu", "is not one of"),
        ("DATABASE_URL", "mysql://root@127.0.0.1/test", "must point at PostgreSQL or SQLite"),
    ],
)
def test_bad_setting_values_are_refused_with_their_name(name, value, message):
    env = {"DEBUG": "1", name: value}
    result = _run_manage("check", env=env)
    assert result.returncode != 0
    assert name in result.stderr and message in result.stderr


def test_embedded_default_is_sqlite_and_filesystem_broker(tmp_path):
    script = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; django.setup();"
        "from django.conf import settings as s;"
        "print(s.DATABASES['default']['ENGINE'], s.CELERY_BROKER_URL, s.DATABASES['default']['OPTIONS']['init_command'])"
    )
    clean = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "CELERY_BROKER_URL"}}
    result = subprocess.run(
        [sys.executable, "-c", script],
        cwd=ROOT,
        env={**clean, "DEBUG": "1", "FINECURATE_VAR_DIR": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "sqlite3 filesystem://localhost/ PRAGMA journal_mode=WAL" in result.stdout


def test_production_keeps_database_connections_with_health_checks():
    script = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; django.setup();"
        "from django.conf import settings as s; d = s.DATABASES['default'];"
        "print(d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'])"
    )
    env = {k: v for k, v in os.environ.items() if k not in {"DEBUG", "DB_CONN_MAX_AGE", "DJANGO_ALLOW_ASYNC_UNSAFE"}}
    production = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env={**env, "DEBUG": "0", "SECRET_KEY": "k" * 30 + "-long-enough-for-production-use"},
        capture_output=True, text=True, timeout=60,
    )
    assert production.returncode == 0, production.stderr
    assert production.stdout.split() == ["600", "True"]


def test_the_review_bench_runs_what_docker_compose_runs():
    import yaml

    compose = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    assert "gunicorn -c config/gunicorn.py config.wsgi" in compose["services"]["web"]["command"]
    bench = (ROOT / "bench" / "review.py").read_text()
    assert '"-c", "config/gunicorn.py", "config.wsgi"' in bench
    # Nothing the shipped configuration decides is overridden by the bench.
    for override in ("DB_CONN_MAX_AGE", "--workers", "--worker-class", "--threads", "CONN_HEALTH_CHECKS", "WEB_CONCURRENCY\":"):
        assert override not in bench, override
