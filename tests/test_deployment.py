"""docker-compose.yml as shipped: only the proxy is published, its defaults pass check --deploy, the proxy carries the
upload cap and serves static files and export downloads; the forwarded-proto header is believed only behind it."""
import re
import secrets
import subprocess
import sys

import pytest
import yaml
from rest_framework.test import APIClient

from tests.factories import approved_subset_make, export_build_now
from tests.production import ROOT, database_url_for_tests, manage, production_env

COMPOSE = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
DEFAULT = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


def _with_defaults(value: object) -> str:
    """A compose value as `docker compose` reads it with nothing set in the environment (defaults taken)."""
    return DEFAULT.sub(lambda m: m.group(2) or "", str(value))


def _service_env(name: str) -> dict[str, str]:
    return {k: _with_defaults(v) for k, v in COMPOSE["services"][name]["environment"].items()}


def test_only_the_proxy_is_published():
    published = {name for name, service in COMPOSE["services"].items() if service.get("ports")}
    assert published == {"nginx"}


def test_the_compose_defaults_pass_check_deploy_behind_the_proxy():
    env = _service_env("web")
    assert env["FINECURATE_PLAIN_HTTP"] == "0" and env["FINECURATE_TRUST_FORWARDED_PROTO"] == "1"
    assert "SESSION_COOKIE_SECURE" not in env and "SECURE_SSL_REDIRECT" not in env  # the secure defaults stand
    env.update(SECRET_KEY=secrets.token_urlsafe(50), DATABASE_URL=database_url_for_tests(), CELERY_BROKER_URL="redis://127.0.0.1:6379/8")
    env.pop("FINECURATE_DATA_ROOTS")
    env.pop("FINECURATE_MEDIA_ROOT")
    env.pop("STATIC_ROOT")
    result = manage("check", "--deploy", "--fail-level", "WARNING", env={**production_env(), **env})
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_the_web_service_runs_the_shared_gunicorn_config():
    assert "gunicorn -c config/gunicorn.py config.wsgi" in COMPOSE["services"]["web"]["command"]


def test_the_proxy_carries_the_same_upload_cap_and_serves_static_and_downloads():
    nginx = _service_env("nginx")
    assert nginx["FINECURATE_MAX_UPLOAD_BYTES"] == _service_env("web")["FINECURATE_MAX_UPLOAD_BYTES"]
    for mode in ("plain-http-0", "plain-http-1"):
        template = (ROOT / "deploy" / "nginx" / mode / "default.conf.template").read_text()
        assert "client_max_body_size ${FINECURATE_MAX_UPLOAD_BYTES};" in template
        assert "include /etc/nginx/finecurate-locations.conf;" in template
    assert "ssl_certificate" in (ROOT / "deploy/nginx/plain-http-0/default.conf.template").read_text()
    locations = (ROOT / "deploy" / "nginx" / "finecurate-locations.conf").read_text()
    assert "location /static/" in locations and "proxy_request_buffering on;" in locations
    accel = _service_env("web")["FINECURATE_ACCEL_REDIRECT_PREFIX"]
    assert re.search(rf"location {re.escape(accel)} \{{\s*internal;\s*alias /var/lib/finecurate/media/;", locations)
    assert _service_env("web")["FINECURATE_MEDIA_ROOT"] == "/var/lib/finecurate/media"
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in locations


def _is_secure_with(env: dict[str, str]) -> str:
    script = (
        "import django, os; os.environ['DJANGO_SETTINGS_MODULE']='config.settings'; django.setup();"
        "from django.test import RequestFactory;"
        "print(RequestFactory().get('/', HTTP_X_FORWARDED_PROTO='https').is_secure())"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)  # noqa: S603
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def test_x_forwarded_proto_is_believed_only_behind_the_proxy():
    assert _is_secure_with(production_env()) == "False"
    assert _is_secure_with(production_env(FINECURATE_TRUST_FORWARDED_PROTO="1")) == "True"


@pytest.mark.parametrize("key", ["short", "x" * 49])
def test_a_short_secret_key_is_refused_when_debug_is_off(key):
    result = manage("check", env=production_env(SECRET_KEY=key))
    assert result.returncode != 0 and "production needs at least 50" in result.stderr


def test_a_short_secret_key_is_fine_for_development():
    assert manage("check", env=production_env(SECRET_KEY="short", DEBUG="1")).returncode == 0


@pytest.mark.django_db
def test_behind_the_proxy_an_export_download_is_handed_to_nginx(curator, settings):
    settings.FINECURATE_ACCEL_REDIRECT_PREFIX = "/protected-media/"
    export = export_build_now(subsets=[approved_subset_make(samples=2, name="Dl")], format="llava_jsonl", by=curator)
    api = APIClient()
    api.force_authenticate(curator)
    response = api.get(f"/api/exports/{export.pk}/files/data.jsonl")
    row = export.files.get(name="data.jsonl")
    assert response.status_code == 200 and response.content == b""
    assert response["X-Accel-Redirect"].startswith("/protected-media/") and response["X-Accel-Redirect"].endswith("/data.jsonl")
    assert (settings.MEDIA_ROOT / response["X-Accel-Redirect"].removeprefix("/protected-media/")).is_file()
    assert response["ETag"] == f'"{row.sha256}"' and "attachment" in response["Content-Disposition"]
