"""The production image's way of serving: collectstatic as the Dockerfile runs it, then pages with DEBUG=0.

No Docker engine is needed: the Dockerfile's own collectstatic line runs here, and gunicorn serves with the
config docker-compose uses (config/gunicorn.py).
"""
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.db import connection

from tests.conftest import ROLE_PASSWORD
from tests.production import ROOT, production_env, production_server


def _dockerfile_collectstatic() -> str:
    lines = (ROOT / "Dockerfile").read_text().splitlines()
    runs = [line.removeprefix("RUN ").strip() for line in lines if line.startswith("RUN ") and "collectstatic" in line]
    assert len(runs) == 1, "the Dockerfile runs collectstatic exactly once"
    return runs[0]


def _database_url() -> str:
    s = connection.settings_dict
    return f"postgres://{s['USER']}@{s['HOST'] or '127.0.0.1'}:{s['PORT'] or 5432}/{s['NAME']}"


@pytest.fixture
def collected_static(tmp_path) -> Path:
    """STATIC_ROOT filled by the Dockerfile's collectstatic command, run as the build runs it."""
    static_root = tmp_path / "staticfiles"
    command = _dockerfile_collectstatic()
    assert "DEBUG=1" not in command
    env = production_env(STATIC_ROOT=str(static_root), FINECURATE_VAR_DIR=str(tmp_path / "var"))
    env.pop("SECRET_KEY")  # the Dockerfile's line brings its own throwaway key
    env.pop("DEBUG")
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"
    result = subprocess.run(["sh", "-c", command], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)  # noqa: S603
    assert result.returncode == 0, result.stderr[-3000:]
    assert (static_root / "staticfiles.json").exists(), "collectstatic wrote no manifest"
    return static_root


@pytest.mark.django_db(transaction=True)
def test_production_image_serves_pages_with_debug_off(collected_static, curator):
    # The suite hashes with MD5 for speed; the production settings only know their own hashers.
    hasher = PBKDF2PasswordHasher()
    curator.password = hasher.encode(ROLE_PASSWORD, hasher.salt())
    curator.save(update_fields=["password"])
    env = production_env(STATIC_ROOT=str(collected_static), DATABASE_URL=_database_url())
    with production_server(env=env) as base:
        session = requests.Session()
        login = session.get(f"{base}/login/", timeout=10)
        assert login.status_code == 200, login.text[:500]
        # Static URLs carry the manifest's content hash, and whitenoise serves them.
        favicon = re.search(r'href="(/static/favicon\.[0-9a-f]{12}\.svg)"', login.text)
        assert favicon, "the favicon link does not name a hashed file"
        assert session.get(base + favicon.group(1), timeout=10).status_code == 200
        for css in re.findall(r'href="(/static/css/[^"]+)"', login.text):
            assert session.get(base + css, timeout=10).status_code == 200
        answer = session.post(
            f"{base}/login/",
            data={"username": curator.username, "password": ROLE_PASSWORD, "csrfmiddlewaretoken": session.cookies["csrftoken"]},
            headers={"Referer": f"{base}/login/"},
            timeout=10,
        )
        assert answer.status_code == 200 and answer.url.rstrip("/") == base, (answer.status_code, answer.url, re.findall(r"errorlist.*", answer.text))
        for page in ["/", "/sources/", "/subsets/", "/exports/", "/api/docs/", "/admin/"]:
            response = session.get(base + page, timeout=10)
            assert response.status_code == 200, (page, response.status_code, response.text[:300])
        assert session.get(f"{base}/no-such-page/", timeout=10).status_code == 404


def test_dockerfile_collectstatic_is_quoted_for_sh():
    assert shlex.split(_dockerfile_collectstatic())[-3:] == ["manage.py", "collectstatic", "--noinput"]
