"""Brute force: wrong passwords on /login/ and /admin/login/ lock out, failed API tokens are throttled, keys are
stored hashed and the token page is never cached."""
import pytest
from django.test import Client

from curation.models import ApiToken
from curation.services.api_tokens import token_rotate
from tests.conftest import ROLE_PASSWORD

pytestmark = pytest.mark.django_db

ATTEMPTS = 30


@pytest.mark.parametrize("url", ["/login/", "/admin/login/"])
def test_thirty_wrong_passwords_lock_the_account_out_from_that_address(curator, admin, url, settings):
    user = admin if url.startswith("/admin/") else curator
    client = Client()
    statuses = [client.post(url, {"username": user.username, "password": f"wrong-{n}"}).status_code for n in range(ATTEMPTS)]
    assert statuses[: settings.AXES_FAILURE_LIMIT - 1] == [200] * (settings.AXES_FAILURE_LIMIT - 1)
    assert set(statuses[settings.AXES_FAILURE_LIMIT :]) == {429}
    # Locked out: even the right password is refused now.
    assert client.post(url, {"username": user.username, "password": ROLE_PASSWORD}).status_code == 429


def test_a_right_password_before_the_limit_signs_in_and_resets_the_count(curator):
    client = Client()
    for n in range(5):
        client.post("/login/", {"username": curator.username, "password": f"wrong-{n}"})
    response = client.post("/login/", {"username": curator.username, "password": ROLE_PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/"


def test_thirty_random_tokens_are_throttled_after_ten(curator):
    client = Client()
    statuses = [
        client.get("/api/subsets/", HTTP_AUTHORIZATION=f"Token {n:040x}").status_code for n in range(ATTEMPTS)
    ]
    assert statuses[:10] == [401] * 10 and set(statuses[10:]) == {429}
    throttled = client.get("/api/subsets/", HTTP_AUTHORIZATION="Token " + "f" * 40)
    assert throttled.json()["error"]["code"] == "throttled" and int(throttled["Retry-After"]) > 0


def test_a_good_token_works_and_only_its_digest_is_stored(curator):
    _, key = token_rotate(user=curator)
    response = Client().get("/api/subsets/", HTTP_AUTHORIZATION=f"Token {key}")
    assert response.status_code == 200
    stored = ApiToken.objects.get(user=curator)
    assert key not in (stored.digest, stored.prefix) and len(stored.digest) == 64


def test_the_token_page_is_never_cached(curator_client):
    assert "no-store" in curator_client.get("/token/")["Cache-Control"]
    assert "no-store" in curator_client.post("/token/", follow=True)["Cache-Control"]
