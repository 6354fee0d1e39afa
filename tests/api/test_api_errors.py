"""Answers outside any endpoint: an unknown API URL and a crash still come in the API's error shape."""
import pytest
from rest_framework.test import APIClient

from curation.api import subsets as subsets_api

pytestmark = pytest.mark.django_db


def test_an_unknown_api_url_is_a_404_in_the_error_shape_and_pages_keep_html(curator_api, curator_client):
    for path in ("/api/nope/", "/api/exports/abc/", "/api/subsets/1/samples/extra/"):
        response = curator_api.get(path)
        assert response.status_code == 404 and response["Content-Type"] == "application/json", path
        assert response.json()["error"]["code"] == "not_found" and path in response.json()["error"]["message"]
    page = curator_client.get("/no-such-page/")
    assert page.status_code == 404 and page["Content-Type"].startswith("text/html")


def test_a_crash_in_an_api_view_is_a_500_in_the_error_shape(curator, monkeypatch):
    def crash():
        raise RuntimeError("boom")

    monkeypatch.setattr(subsets_api, "subsets_with_counts", crash)
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(curator)
    response = client.get("/api/subsets/")
    assert response.status_code == 500
    assert response.json() == {"error": {"code": "server_error", "message": "The server failed; the failure is logged.",
                                         "detail": None}}
