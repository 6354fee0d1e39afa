"""The production image's way of serving: collectstatic as the Dockerfile runs it, then pages with DEBUG=0.

No Docker engine is needed: the Dockerfile's own collectstatic line runs here, and gunicorn serves with the
config docker-compose uses (config/gunicorn.py).
"""
import re
import shlex

import pytest
import requests
from django.contrib.auth.hashers import PBKDF2PasswordHasher

from tests.conftest import ROLE_PASSWORD
from tests.production import (
    database_url_for_tests,
    dockerfile_collectstatic,
    production_env,
    production_server,
    production_static,  # noqa: F401  (a fixture)
)


@pytest.mark.django_db(transaction=True)
def test_production_image_serves_pages_with_debug_off(production_static, curator):  # noqa: F811
    # The suite hashes with MD5 for speed; the production settings only know their own hashers.
    hasher = PBKDF2PasswordHasher()
    curator.password = hasher.encode(ROLE_PASSWORD, hasher.salt())
    curator.save(update_fields=["password"])
    env = production_env(STATIC_ROOT=str(production_static), DATABASE_URL=database_url_for_tests())
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


def test_dockerfile_collectstatic_runs_with_production_settings():
    assert "DEBUG=0" in dockerfile_collectstatic() and "DEBUG=1" not in dockerfile_collectstatic()
    assert shlex.split(dockerfile_collectstatic())[-3:] == ["manage.py", "collectstatic", "--noinput"]
