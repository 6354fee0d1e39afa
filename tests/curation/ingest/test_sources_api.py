"""API: sources are read-only, need a token (or session) and view_source; rows page by cursor."""
import pytest
from rest_framework.test import APIClient

from curation.models import SourceRow
from curation.services import job_kinds
from curation.services.api_tokens import token_rotate
from curation.services.ingest import source_ingest
from curation.services.jobs import job_create
from curation.services.sources import source_register
from tests.curation.ingest.makers import write_jsonl

pytestmark = pytest.mark.django_db


@pytest.fixture
def source(tmp_path):
    path = write_jsonl(tmp_path / "a.jsonl", [{"messages": [{"role": "user", "content": f"q{i}"}]} for i in range(120)])
    source = source_register(name="chat", location=str(path), license="MIT")
    source_ingest(source=source, job=job_create(kind=job_kinds.INGEST.key, target=source))
    return source


def _token_client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_rotate(user=user)[1]}")
    return client


def test_a_reviewer_with_a_token_lists_sources_and_reads_one(reviewer, source):
    client = _token_client(reviewer)
    listing = client.get("/api/sources/").json()
    assert [s["name"] for s in listing["results"]] == ["chat"] and listing["results"][0]["row_count"] == 120
    detail = client.get(f"/api/sources/{source.pk}/").json()
    assert detail["layout"] == "sharegpt" and detail["columns"] == {"messages": "list"}
    assert detail["ingest_job"]["done"] == 120 and detail["license"] == "MIT"
    assert detail["image_root"] == ""


def test_rows_page_by_cursor_in_row_order(reviewer, source):
    client = _token_client(reviewer)
    first = client.get(f"/api/sources/{source.pk}/rows/").json()
    assert [r["row_number"] for r in first["results"]] == list(range(100))
    second = client.get(first["next"]).json()
    assert [r["row_number"] for r in second["results"]] == list(range(100, 120)) and second["next"] is None
    assert second["results"][0]["data"] == SourceRow.objects.get(source=source, row_number=100).data


def test_sources_api_is_read_only_and_needs_permission(client, nobody, reviewer, source):
    assert client.get("/api/sources/").json()["error"]["code"] == "not_authenticated"
    denied = _token_client(nobody).get(f"/api/sources/{source.pk}/rows/")
    assert denied.status_code == 403 and denied.json()["error"]["code"] == "permission_denied"
    assert _token_client(reviewer).post("/api/sources/", {"name": "x"}).status_code == 405
    assert _token_client(reviewer).get("/api/sources/999999/").status_code == 404
